import Torch
let a = Tensor([1.0, 2.0, 3.0, 4.0] as [Float], shape: [2, 2]).requiresGrad_()
let b = (a * a).sum()
b.backward()
print(a.grad!.toArray(Float.self), b.item(), Runtime.threads, Runtime.version)
let x = Tensor.randn([3, 4])
let e = try? withTorchErrors { x.matmul(x) }
print("trapped:", e == nil)
do { _ = try withTorchErrors { x.matmul(x) } } catch { print("caught: \(error)") }
print(x.mm(x))

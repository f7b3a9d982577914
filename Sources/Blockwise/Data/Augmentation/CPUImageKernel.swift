import Torch

/// Runs a C pixel kernel (`Sources/CImaging`) on a float32 copy of `x` with one float32 side
/// input (its `parameters`, e.g. per-image factors or filter weights), and returns the copy;
/// nil where the kernel does not apply (another device or dtype, or a tensor in autograd),
/// and the caller's libtorch ops run instead.
func onCPUImageKernel(_ x: Tensor, parameters: Tensor,
                      _ kernel: (_ data: UnsafeMutablePointer<Float>, _ parameters: UnsafeMutablePointer<Float>) -> Void) -> Tensor? {
    guard !x.device.isCUDA, x.dtype == .float32, !x.requiresGrad else { return nil }
    let result = x.contiguous().clone(), side = parameters.to(.cpu, .float32).contiguous()
    result.withUnsafeMutableBytes { data in
        side.withUnsafeMutableBytes { values in
            kernel(data.baseAddress!.assumingMemoryBound(to: Float.self), values.baseAddress!.assumingMemoryBound(to: Float.self))
        }
    }
    return result
}

import Testing
import Torch

/// The nodes that keep less for their backward than torch's own (`reluKeepingMask_`, and
/// `maxPool2d` recording a graph): the same values and gradients, exactly, and the memory they
/// no longer hold.
@Suite struct LeanBackwardTests {
    /// Values and the gradient of x through `relu` as `keepingMask` says, in place on x · 1.
    static func throughReLU(_ x: Tensor, upstream: Tensor, keepingMask: Bool) -> (y: Tensor, grad: Tensor) {
        let leaf = x.detach().requiresGrad_()
        let h = leaf * 1
        if keepingMask { h.reluKeepingMask_() } else { h.relu_() }
        (h * upstream).sum().backward()
        return (h.detach(), leaf.grad!)
    }

    /// 1,155 values (72 whole words and 3 left over), a tenth of them exactly 0.
    static func inputs(_ dtype: DType, seed: UInt64) -> (x: Tensor, upstream: Tensor) {
        let g = Generator(seed: seed)
        let shape = [3, 5, 7, 11]
        var x = Tensor.randn(shape, dtype: .float64, generator: g)
        x = x * (Tensor.rand(shape, dtype: .float64, generator: g) .> 0.1).to(.float64)
        return (x.to(dtype), Tensor.randn(shape, dtype: .float64, generator: g).to(dtype))
    }

    @Test(arguments: [DType.float32, .float64, .bfloat16])
    func reluKeepingMaskGivesTheValuesAndGradientOfRelu(dtype: DType) {
        let (x, upstream) = Self.inputs(dtype, seed: 3)
        let ours = Self.throughReLU(x, upstream: upstream, keepingMask: true)
        let torch = Self.throughReLU(x, upstream: upstream, keepingMask: false)
        #expect(ours.y.equal(torch.y))
        #expect(ours.grad.equal(torch.grad))
        #expect(ours.grad.dtype == dtype)
    }

    /// NaN passes (either sign), ±0 and −∞ do not, +∞ does; in each type the node packs, and
    /// through the vector kernels: 48 values, 3 whole words.
    @Test(arguments: [DType.float32, .float64, .bfloat16])
    func reluKeepingMaskTreatsNaNZerosAndInfinitiesAsRelu(dtype: DType) {
        let values = Tensor([Double.nan, -1, 0, 2, -.infinity, .infinity, 0.5, -3], shape: [8]).to(dtype)
        let x = Tensor.cat(Array(repeating: [values, -values], count: 3).flatMap { $0 }, dim: 0)
        let upstream = Tensor((1...48).map(Double.init), shape: [48]).to(dtype)
        let ours = Self.throughReLU(x, upstream: upstream, keepingMask: true)
        let torch = Self.throughReLU(x, upstream: upstream, keepingMask: false)
        #expect(ours.grad.to(.float64).toArray(Double.self) == torch.grad.to(.float64).toArray(Double.self))
        #expect(Array(ours.grad.to(.float64).toArray(Double.self).prefix(16))
            == [1, 0, 0, 4, 0, 6, 7, 0, 9, 10, 0, 0, 13, 0, 0, 16])
        #expect(ours.y.to(.float64).toArray(Double.self).map(\.isNaN) == Array(repeating: [true] + Array(repeating: false, count: 7), count: 6).flatMap { $0 })
    }

    /// Enough values that the words are shared out among threads, with a partial last word.
    @Test(arguments: [DType.float32, .bfloat16])
    func reluKeepingMaskIsReluAcrossThreadsShares(dtype: DType) {
        let g = Generator(seed: 12)
        let x = Tensor.randn([2 * 4096 * 16 * 3 + 7], generator: g).to(dtype)
        let upstream = Tensor.randn(x.shape, generator: g).to(dtype)
        let ours = Self.throughReLU(x, upstream: upstream, keepingMask: true)
        let torch = Self.throughReLU(x, upstream: upstream, keepingMask: false)
        #expect(ours.y.equal(torch.y))
        #expect(ours.grad.equal(torch.grad))
    }

    /// A channels-last tensor is packed in its memory order; the upstream gradient arrives in
    /// the default order and the input's gradient leaves in channels-last order.
    @Test(arguments: [DType.float32, .bfloat16])
    func reluKeepingMaskOfAChannelsLastTensorIsRelu(dtype: DType) {
        let (x, upstream) = Self.inputs(dtype, seed: 13)
        let leaf = x.detach().requiresGrad_()
        let h = (leaf * 1).contiguous(.channelsLast)
        #expect(h.isContiguous(.channelsLast) && !h.isContiguous())
        h.reluKeepingMask_()
        (h * upstream).sum().backward()
        let torch = Self.throughReLU(x, upstream: upstream, keepingMask: false)
        #expect(h.isContiguous(.channelsLast))
        #expect(h.detach().equal(torch.y))
        #expect(leaf.grad!.equal(torch.grad))
    }

    /// A tensor the node does not pack (here not contiguous) takes torch's own ReLU.
    @Test func reluKeepingMaskOfAnUnpackedTensorIsRelu() {
        let (x, upstream) = Self.inputs(.float32, seed: 11)
        let leaf = x.detach().requiresGrad_()
        let h = (leaf * 1).transpose(0, 3)
        h.reluKeepingMask_()
        (h * upstream.transpose(0, 3)).sum().backward()
        let torch = Self.throughReLU(x, upstream: upstream, keepingMask: false)
        #expect(h.transpose(0, 3).equal(torch.y))
        #expect(leaf.grad!.equal(torch.grad))
    }

    @Test func reluKeepingMaskWithoutAGraphIsRelu() {
        let (x, _) = Self.inputs(.float32, seed: 4)
        let y = withNoGrad { x.clone().reluKeepingMask_() }
        #expect(y.equal(x.relu()))
        #expect(!y.requiresGrad)
    }

    /// Like torch's in-place ops, it moves its tensor's version: a node that saved the tensor
    /// before refuses to use the new values.
    @Test func reluKeepingMaskInvalidatesWhatOtherNodesSavedOfItsInput() {
        let leaf = Tensor.randn([40], generator: Generator(seed: 5)).requiresGrad_()
        let h = leaf * 1
        let square = h * h
        h.reluKeepingMask_()
        #expect(throws: TorchError.self) { try withTorchErrors { square.sum().backward() } }
    }

    /// The output is freed with its last reference, where relu_ keeps it for its backward; in
    /// channels-last order too (which a node that fell back to torch's ReLU would keep).
    @Test func reluKeepingMaskDoesNotKeepItsOutput() async {
        await #expect(processExitsWith: .success) {
            let count = 1 << 20
            let leaf = Tensor.randn([16, 64, 32, 32], generator: Generator(seed: 6)).requiresGrad_()
            try TensorMemory.countCPU()
            func kept(keepingMask: Bool, format: MemoryFormat) throws -> Int {
                let before = try TensorMemory.of(.cpu).allocatedBytes
                var h: Tensor? = (leaf * 1).contiguous(format)
                if keepingMask { h!.reluKeepingMask_() } else { h!.relu_() }
                let loss = (h! * 2).sum()
                h = nil
                let held = try TensorMemory.of(.cpu).allocatedBytes - before
                loss.backward()
                return held
            }
            for format in [MemoryFormat.contiguous, .channelsLast] {
                let withMask = try kept(keepingMask: true, format: format), withOutput = try kept(keepingMask: false, format: format)
                precondition(withMask <= count / 8 + 4096, "the mask's node held \(withMask) bytes (\(format))")
                precondition(withOutput >= count * 4, "relu_ held \(withOutput) bytes (\(format))")
            }
        }
    }

    /// maxPool2d's gradient from a direct reading of the definition: each output's upstream
    /// value goes to the first largest input of its window. Integer upstream values, so that the
    /// sums where windows overlap are exact in any order.
    static func referenceGradient(_ x: [Double], upstream: [Double], shape: [Int], output: [Int], kernel: Int, stride: Int,
                                  padding: Int) -> [Double]
    {
        let (height, width) = (shape[shape.count - 2], shape[shape.count - 1])
        let planes = shape.dropLast(2).reduce(1, *)
        let (outHeight, outWidth) = (output[output.count - 2], output[output.count - 1])
        var grad = [Double](repeating: 0, count: x.count)
        for plane in 0..<planes {
            for i in 0..<outHeight {
                for j in 0..<outWidth {
                    var best: Int?
                    for a in 0..<kernel {
                        for b in 0..<kernel {
                            let (r, c) = (i * stride - padding + a, j * stride - padding + b)
                            guard (0..<height).contains(r), (0..<width).contains(c) else { continue }
                            let index = plane * height * width + r * width + c
                            if best == nil || x[index] > x[best!] { best = index }
                        }
                    }
                    grad[best!] += upstream[(plane * outHeight + i) * outWidth + j]
                }
            }
        }
        return grad
    }

    /// In float32 and float64, 4-D and 3-D, and in ceil mode (whose last windows overhang).
    @Test(arguments: [(DType.float32, [2, 3, 9, 7], false), (.float64, [2, 3, 9, 7], false), (.float32, [3, 8, 6], false),
                      (.float64, [2, 3, 8, 6], true)])
    func maxPoolGivesTheGradientOfItsDefinition(dtype: DType, shape: [Int], ceilMode: Bool) {
        let g = Generator(seed: 7)
        // Values on a coarse grid, so that windows have ties, which go to the first maximum.
        let x = (Tensor.randn(shape, dtype: .float64, generator: g) * 2).round().to(dtype).requiresGrad_()
        let y = maxPool2d(x, kernel: [3, 3], stride: [2, 2], padding: [1, 1], ceilMode: ceilMode)
        let upstream = (Tensor.randn(y.shape, dtype: .float64, generator: g) * 4).round().to(dtype)
        (y * upstream).sum().backward()
        let expected = Self.referenceGradient(x.detach().to(.float64).toArray(Double.self),
                                              upstream: upstream.to(.float64).toArray(Double.self),
                                              shape: shape, output: y.shape, kernel: 3, stride: 2, padding: 1)
        #expect(x.grad!.to(.float64).toArray(Double.self) == expected)
        #expect(x.grad!.dtype == dtype)
    }

    /// The input is freed with its last reference; the node holds the int32 indices only.
    @Test func maxPoolKeepsOnlyItsIndices() async {
        await #expect(processExitsWith: .success) {
            let leaf = Tensor.randn([4, 16, 64, 64], generator: Generator(seed: 8)).requiresGrad_()
            try TensorMemory.countCPU()
            let before = try TensorMemory.of(.cpu).allocatedBytes
            var h: Tensor? = leaf * 1
            let pooled = maxPool2d(h!, kernel: [3, 3], stride: [2, 2], padding: [1, 1])
            h = nil
            let held = try TensorMemory.of(.cpu).allocatedBytes - before
            // The output (4 · 16 · 32 · 32 floats) and as many int32 indices.
            let output = pooled.count * 4
            precondition(held <= 2 * output + 4096, "held \(held) bytes, output \(output)")
            pooled.sum().backward()
            precondition(leaf.grad!.sum().item() == Double(pooled.count))
        }
    }

    /// The Barlow Twins loss node's backward holds one D × D gradient; the composed ops' hold
    /// several at once.
    @Test func barlowTwinsLossHoldsOneGradientMatrix() async {
        await #expect(processExitsWith: .success) {
            let d = 512, matrix = d * d * 4
            let leaf = Tensor.randn([d, d], generator: Generator(seed: 10)).requiresGrad_()
            try TensorMemory.countCPU()
            func backwardPeak(node: Bool) throws -> Int {
                let c = leaf * 1
                let loss = node ? barlowTwinsLoss(c, lambda: 0.0051)
                    : (c.diagonal() - 1).square().sum() + (c.square().sum() - c.diagonal().square().sum()) * 0.0051
                let before = try TensorMemory.of(.cpu).allocatedBytes
                try TensorMemory.resetPeak(.cpu)
                loss.backward()
                leaf.grad = nil
                return try TensorMemory.of(.cpu).peakAllocatedBytes - before
            }
            let node = try backwardPeak(node: true), composed = try backwardPeak(node: false)
            // dL/dc, then the gradient of the product (c itself is already counted).
            precondition(node <= 2 * matrix + 4096, "the node's backward peaked \(node) bytes above its start")
            precondition(composed >= 3 * matrix, "the composed ops' backward peaked \(composed) bytes")
        }
    }
}

import Testing
import Torch

/// `convBatchNormReLUPool` against the composed ops it fuses (conv2d, batchNorm, relu, the
/// pooling) in float64: values, every gradient and the running statistics, with tiles of
/// several images, of one whole image and of spans of one image's positions, and both with the
/// CPU's register kernels and with the GEMMs over tiles that a GPU runs.
@Suite struct FusedConvPoolingTests {
    static let (images, channels, expanded, height, width) = (5, 4, 6, 3, 4)
    static let momentum = 0.1
    static let eps = 1e-5
    /// Elements per tile: two images, one image, and spans of 1 and 5 of an image's 12 positions.
    static let tiles: [Int?] = [nil, 2 * expanded * height * width, expanded * height * width, expanded, 5 * expanded]

    typealias Shape = (images: Int, channels: Int, expanded: Int, height: Int, width: Int)

    /// One set of inputs; the input is shifted so that many pre-activations are negative and
    /// the ReLU matters.
    struct Inputs {
        let x: Tensor
        let convWeight: Tensor
        let bnWeight: Tensor
        let bnBias: Tensor
        let runningMean: Tensor
        let runningVar: Tensor
        let upstream: Tensor

        init(seed: UInt64, shape: Shape = (images, channels, expanded, height, width), dtype: DType = .float64) {
            let g = Generator(seed: seed)
            let (images, channels, expanded, height, width) = shape
            x = (Tensor.randn([images, channels, height, width], dtype: .float64, generator: g) + 0.3).to(dtype).requiresGrad_()
            convWeight = Tensor.randn([expanded, channels, 1, 1], dtype: .float64, generator: g).to(dtype).requiresGrad_()
            bnWeight = (Tensor.rand([expanded], dtype: .float64, generator: g) + 0.5).to(dtype).requiresGrad_()
            bnBias = (Tensor.randn([expanded], dtype: .float64, generator: g) * 0.5).to(dtype).requiresGrad_()
            runningMean = Tensor.randn([expanded], dtype: .float64, generator: g).to(dtype)
            runningVar = (Tensor.rand([expanded], dtype: .float64, generator: g) + 0.5).to(dtype)
            upstream = Tensor.randn([images, expanded], dtype: .float64, generator: g).to(dtype)
        }

        var parameters: [Tensor] { [x, convWeight, bnWeight, bnBias] }
    }

    /// The output, the gradients of x, the convolution weight, the BN weight and bias, and the
    /// running statistics after the pass.
    /// `givenStatistics`: the fused node gets the input's statistics from `channelStatistics`
    /// (as a synchronised batch norm gives them) instead of computing them itself.
    static func run(_ inputs: Inputs, fused: Bool, batchStatistics: Bool, pooling: SpatialPooling,
                    tileElements: Int? = nil, cpuKernels: Bool = true, givenStatistics: Bool = false) -> [Tensor] {
        let mean = inputs.runningMean.clone(), variance = inputs.runningVar.clone()
        let z: Tensor
        if fused {
            z = convBatchNormReLUPool(inputs.x, convWeight: inputs.convWeight, bnWeight: inputs.bnWeight,
                                      bnBias: inputs.bnBias, runningMean: mean, runningVar: variance,
                                      batchStatistics: batchStatistics, momentum: momentum, eps: eps,
                                      pooling: pooling, inputStatistics: givenStatistics ? channelStatistics(inputs.x, group: nil) : nil,
                                      tileElements: tileElements, cpuKernels: cpuKernels)
        } else {
            let y = batchNorm(conv2d(inputs.x, weight: inputs.convWeight), weight: inputs.bnWeight, bias: inputs.bnBias,
                              runningMean: mean, runningVar: variance, training: batchStatistics,
                              momentum: momentum, eps: eps).relu()
            switch pooling {
            case .mean: z = y.mean(dims: [2, 3])
            case .rootMeanSquare: z = y.square().mean(dims: [2, 3]).sqrt()
            case .meanSquareRoot: z = (y + 1e-6).sqrt().mean(dims: [2, 3])
            }
        }
        let grads = gradients(of: [z], withRespectTo: inputs.parameters, gradOutputs: [inputs.upstream])
        return [z.detach()] + grads.map { $0! } + [mean, variance]
    }

    static let names = ["output", "input gradient", "conv weight gradient", "BN weight gradient", "BN bias gradient",
                        "running mean", "running var"]

    @Test(arguments: SpatialPooling.allCases, [true, false])
    func everyTilingGivesTheComposedOpsValuesGradientsAndRunningStatistics(_ pooling: SpatialPooling,
                                                                           batchStatistics: Bool) {
        Self.expectEveryWayGivesTheComposedOps(Inputs(seed: 11), batchStatistics: batchStatistics, pooling: pooling)
    }

    /// The fused node with every tiling, with the CPU kernels and with GEMM tiles, against the
    /// composed ops, in float64.
    static func expectEveryWayGivesTheComposedOps(_ inputs: Inputs, batchStatistics: Bool, pooling: SpatialPooling,
                                                  givenStatistics: Bool = false) {
        let expected = run(inputs, fused: false, batchStatistics: batchStatistics, pooling: pooling)
        for tile in tiles {
            for kernels in [true, false] {
                let fused = run(inputs, fused: true, batchStatistics: batchStatistics, pooling: pooling, tileElements: tile,
                                cpuKernels: kernels, givenStatistics: givenStatistics)
                for (name, (a, b)) in zip(names, zip(fused, expected)) {
                    #expect(a.allClose(b, rtol: 1e-10, atol: 1e-12),
                            "\(name), tile \(tile.map(String.init) ?? "default"), kernels \(kernels)")
                }
            }
        }
    }

    /// Statistics given from outside take their gradients into x through the caller's ops: the
    /// same values, gradients and running statistics as the composed ops, with every tiling.
    @Test(arguments: SpatialPooling.allCases)
    func givenInputStatisticsGiveTheComposedOpsValuesGradientsAndRunningStatistics(_ pooling: SpatialPooling) {
        Self.expectEveryWayGivesTheComposedOps(Inputs(seed: 12), batchStatistics: true, pooling: pooling, givenStatistics: true)
    }

    /// Shapes that fill the kernels' register blocks and leave partial ones: 81 positions are
    /// two blocks of 32 float64 lanes and a part, 10 output channels two blocks of 4 and a part;
    /// tiles of 40 positions split each image across blocks and tiles.
    @Test(arguments: SpatialPooling.allCases)
    func theKernelsGiveTheComposedOpsOnWholeAndPartialRegisterBlocks(_ pooling: SpatialPooling) {
        let inputs = Inputs(seed: 16, shape: (3, 5, 10, 9, 9))
        let expected = Self.run(inputs, fused: false, batchStatistics: true, pooling: pooling)
        for tile in [nil, 10 * 40, 2 * 10 * 81] {
            for kernels in [true, false] {
                let fused = Self.run(inputs, fused: true, batchStatistics: true, pooling: pooling, tileElements: tile,
                                     cpuKernels: kernels)
                for (name, (a, b)) in zip(Self.names, zip(fused, expected)) {
                    #expect(a.allClose(b, rtol: 1e-10, atol: 1e-12),
                            "\(name), tile \(tile.map(String.init) ?? "default"), kernels \(kernels)")
                }
            }
        }
    }

    /// The forward's ReLU mask (mean pooling on the CPU), kept by the GEMM tiles and by the
    /// kernels, over spans that leave partial 16-position words: 81 positions are five words and
    /// one position (ten 8-lane vectors and one in float64); tiles of 40 positions split images
    /// across tiles, tiles of 3 images hold 243 columns (and make the kernels' groups 3 images
    /// and 1). In float32, the float64 above and with running statistics.
    @Test(arguments: [DType.float32, .float64], [true, false])
    func theMaskGivesTheComposedOps(_ dtype: DType, batchStatistics: Bool) {
        let inputs = Inputs(seed: 18, shape: (4, 24, 33, 9, 9), dtype: dtype)
        let expected = Self.run(inputs, fused: false, batchStatistics: batchStatistics, pooling: .mean)
        let (rtol, atol) = dtype == .float32 ? (1e-4, 1e-5) : (1e-10, 1e-12)
        for tile in [nil, 33 * 40, 33 * 7, 3 * 33 * 81] {
            for kernels in [true, false] {
                let fused = Self.run(inputs, fused: true, batchStatistics: batchStatistics, pooling: .mean, tileElements: tile,
                                     cpuKernels: kernels)
                for (name, (a, b)) in zip(Self.names, zip(fused, expected)) {
                    #expect(a.dtype == dtype)
                    #expect(a.allClose(b, rtol: rtol, atol: atol), "\(name), tile \(tile.map(String.init) ?? "default"), kernels \(kernels)")
                }
            }
        }
    }

    /// The float32 kernels (64 positions to a block) against the composed ops in float32, every
    /// output and gradient, to float32's precision over sums of a few hundred terms.
    @Test(arguments: SpatialPooling.allCases)
    func theFloat32KernelsGiveTheComposedOpsToFloat32Precision(_ pooling: SpatialPooling) {
        let inputs = Inputs(seed: 17, shape: (4, 8, 12, 10, 10), dtype: .float32)
        let expected = Self.run(inputs, fused: false, batchStatistics: true, pooling: pooling)
        let fused = Self.run(inputs, fused: true, batchStatistics: true, pooling: pooling, tileElements: 12 * 70)
        for (name, (a, b)) in zip(Self.names, zip(fused, expected)) {
            #expect(a.dtype == .float32)
            #expect(a.allClose(b, rtol: 1e-4, atol: 1e-5), "\(name)")
        }
    }

    @Test func withoutRunningStatisticsTheBatchStatisticsStillNormalise() {
        let inputs = Inputs(seed: 12)
        let fused = convBatchNormReLUPool(inputs.x, convWeight: inputs.convWeight, bnWeight: inputs.bnWeight,
                                          bnBias: inputs.bnBias, runningMean: nil, runningVar: nil,
                                          batchStatistics: true, momentum: Self.momentum, eps: Self.eps, pooling: .mean)
        let composed = batchNorm(conv2d(inputs.x, weight: inputs.convWeight), weight: inputs.bnWeight,
                                 bias: inputs.bnBias, training: true, eps: Self.eps).relu().mean(dims: [2, 3])
        #expect(fused.allClose(composed, rtol: 1e-10, atol: 1e-12))
    }

    @Test func float32AgreesWithTheComposedOpsToFloat32Precision() {
        let inputs = Inputs(seed: 13)
        let x = inputs.x.detach().to(.float32), w = inputs.convWeight.detach().to(.float32)
        let gamma = inputs.bnWeight.detach().to(.float32), beta = inputs.bnBias.detach().to(.float32)
        let fused = convBatchNormReLUPool(x, convWeight: w, bnWeight: gamma, bnBias: beta, runningMean: nil,
                                          runningVar: nil, batchStatistics: true, momentum: Self.momentum, eps: Self.eps,
                                          pooling: .mean, tileElements: Self.expanded)
        let composed = batchNorm(conv2d(x, weight: w), weight: gamma, bias: beta, training: true, eps: Self.eps)
            .relu().mean(dims: [2, 3])
        #expect(fused.dtype == .float32)
        #expect(fused.allClose(composed, rtol: 1e-5, atol: 1e-6))
    }

    /// An empty feature map is an error, as torch's convolution makes it, with the CPU kernels
    /// and with the tiles: not a division by zero in the bridge.
    @Test func anEmptyFeatureMapIsAnErrorAsInTheComposedOps() {
        let inputs = Inputs(seed: 19)
        let empty = Tensor.randn([3, Self.channels, 0, 4], dtype: .float64)
        #expect(throws: TorchError.self) { try withTorchErrors { conv2d(empty, weight: inputs.convWeight) } }
        for kernels in [true, false] {
            for tile in [nil, Self.expanded] {
                #expect(throws: TorchError.self, "kernels \(kernels), tile \(tile.map(String.init) ?? "default")") {
                    try withTorchErrors {
                        convBatchNormReLUPool(empty, convWeight: inputs.convWeight, bnWeight: inputs.bnWeight, bnBias: inputs.bnBias,
                                              runningMean: inputs.runningMean.clone(), runningVar: inputs.runningVar.clone(),
                                              batchStatistics: false, momentum: Self.momentum, eps: Self.eps, pooling: .mean,
                                              tileElements: tile, cpuKernels: kernels)
                    }
                }
            }
        }
    }

    @Test func aKernelLargerThanOneIsAnErrorNotAWrongResult() {
        let inputs = Inputs(seed: 14)
        let wide = Tensor.randn([Self.expanded, Self.channels, 3, 3], dtype: .float64)
        #expect(throws: TorchError.self) {
            try withTorchErrors {
                convBatchNormReLUPool(inputs.x, convWeight: wide, bnWeight: inputs.bnWeight, bnBias: inputs.bnBias,
                                      runningMean: nil, runningVar: nil, batchStatistics: true, momentum: Self.momentum,
                                      eps: Self.eps, pooling: .mean)
            }
        }
    }

    @Test func batchStatisticsOfASingleValuePerChannelAreAnErrorAsInBatchNorm() {
        let inputs = Inputs(seed: 15)
        let one = Tensor.randn([1, Self.channels, 1, 1], dtype: .float64)
        #expect(throws: TorchError.self) {
            try withTorchErrors {
                convBatchNormReLUPool(one, convWeight: inputs.convWeight, bnWeight: inputs.bnWeight, bnBias: inputs.bnBias,
                                      runningMean: nil, runningVar: nil, batchStatistics: true, momentum: Self.momentum,
                                      eps: Self.eps, pooling: .mean)
            }
        }
    }

    /// `batchNormReLUPool` over an expansion held whole, against batch norm, ReLU and the
    /// pooling composed: value, the gradients of u and of BN's weight and bias, and the running
    /// statistics. u's 81 positions are five vectors of 16 float64 lanes and a part.
    /// `upstream`: the type the output's gradient is rounded to first (bf16 for a reference
    /// that should see the bf16 runs' upstream gradient); by default the output's.
    static func normalized(_ u: Tensor, _ inputs: Inputs, fused: Bool, batchStatistics: Bool,
                           pooling: SpatialPooling, upstream: DType? = nil) -> [Tensor] {
        let mean = inputs.runningMean.clone(), variance = inputs.runningVar.clone()
        let z: Tensor
        if fused {
            z = batchNormReLUPool(u, bnWeight: inputs.bnWeight, bnBias: inputs.bnBias, runningMean: mean, runningVar: variance,
                                  batchStatistics: batchStatistics, momentum: momentum, eps: eps, pooling: pooling)
        } else {
            let y = batchNorm(u, weight: inputs.bnWeight, bias: inputs.bnBias, runningMean: mean, runningVar: variance,
                              training: batchStatistics, momentum: momentum, eps: eps).relu()
            switch pooling {
            case .mean: z = y.mean(dims: [2, 3])
            case .rootMeanSquare: z = y.square().mean(dims: [2, 3]).sqrt()
            case .meanSquareRoot: z = (y + 1e-6).sqrt().mean(dims: [2, 3])
            }
        }
        let gradient = inputs.upstream.to(upstream ?? z.dtype).to(z.dtype)
        let grads = gradients(of: [z], withRespectTo: [u, inputs.bnWeight, inputs.bnBias], gradOutputs: [gradient])
        return [z.detach()] + grads.map { $0! } + [mean, variance]
    }

    static let normalizedNames = ["output", "expansion gradient", "BN weight gradient", "BN bias gradient", "running mean",
                                  "running var"]

    @Test(arguments: SpatialPooling.allCases, [true, false])
    func batchNormReLUPoolGivesTheComposedOps(_ pooling: SpatialPooling, batchStatistics: Bool) {
        let inputs = Inputs(seed: 19, shape: (3, 4, 7, 9, 9))
        let u = (Tensor.randn([3, 7, 9, 9], dtype: .float64, generator: Generator(seed: 20)) * 2 + 0.5).requiresGrad_()
        let fused = Self.normalized(u, inputs, fused: true, batchStatistics: batchStatistics, pooling: pooling)
        let composed = Self.normalized(u, inputs, fused: false, batchStatistics: batchStatistics, pooling: pooling)
        for (name, (a, b)) in zip(Self.normalizedNames, zip(fused, composed)) {
            #expect(a.allClose(b, rtol: 1e-10, atol: 1e-12), "\(name)")
        }
    }

    /// u in channels-last order is read as it lies ([N, H·W, D], vectors across channels), and
    /// its gradient leaves in that order: against the composed ops in float64, with 20
    /// channels (two vectors of 8 float64 lanes and 4 left to the scalar loops) and 81 positions.
    @Test(arguments: SpatialPooling.allCases, [true, false])
    func batchNormReLUPoolOnChannelsLastGivesTheComposedOps(_ pooling: SpatialPooling, batchStatistics: Bool) {
        let inputs = Inputs(seed: 23, shape: (3, 4, 20, 9, 9))
        let u = (Tensor.randn([3, 20, 9, 9], dtype: .float64, generator: Generator(seed: 24)) * 2 + 0.5)
            .contiguous(.channelsLast).requiresGrad_()
        #expect(u.isContiguous(.channelsLast) && !u.isContiguous())
        let fused = Self.normalized(u, inputs, fused: true, batchStatistics: batchStatistics, pooling: pooling)
        let composed = Self.normalized(u, inputs, fused: false, batchStatistics: batchStatistics, pooling: pooling)
        #expect(fused[1].isContiguous(.channelsLast))
        for (name, (a, b)) in zip(Self.normalizedNames, zip(fused, composed)) {
            #expect(a.allClose(b, rtol: 1e-10, atol: 1e-12), "\(name)")
        }
    }

    /// In bf16 and channels-last order, as in the default order: within bf16's rounding of
    /// float64 on the same values, and no further off than the composed ops in bf16.
    @Test(arguments: SpatialPooling.allCases)
    func batchNormReLUPoolOnChannelsLastInBF16IsWithinItsRounding(_ pooling: SpatialPooling) {
        let shape: Shape = (8, 4, 48, 6, 6)
        let inputs = Inputs(seed: 25, shape: shape, dtype: .float32)
        let u16 = (Tensor.randn([8, 48, 6, 6], generator: Generator(seed: 26)) * 3 + 1).to(.bfloat16).contiguous(.channelsLast)
        let fused = Self.normalized(u16.detach().requiresGrad_(), inputs, fused: true, batchStatistics: true, pooling: pooling)
        let composed = Self.normalized(u16.detach().requiresGrad_(), inputs, fused: false, batchStatistics: true, pooling: pooling)
        let exact = Self.normalized(u16.to(.float64).requiresGrad_(), Inputs(seed: 25, shape: shape), fused: false,
                                    batchStatistics: true, pooling: pooling, upstream: .bfloat16)
        #expect(fused[1].dtype == .bfloat16 && fused[1].isContiguous(.channelsLast))
        for (name, ((a, c), b)) in zip(Self.normalizedNames, zip(zip(fused, composed), exact)) {
            let error = (a.to(.float64) - b).abs().max().item(), scale = b.abs().max().item()
            let composedError = (c.to(.float64) - b).abs().max().item()
            #expect(error <= 0.01 * scale, "\(name): error \(error) against \(scale)")
            #expect(error <= composedError + 1e-6 * scale, "\(name): error \(error), composed ops' \(composedError)")
        }
    }

    /// In bf16 the node reads u and writes dL/du in bf16 and does its arithmetic in float32:
    /// against float64 on the same bf16 values, its output and gradients are within 1% of the
    /// largest value (bf16 keeps 8 bits: 2⁻⁸ ≈ 0.4% relative), and no further off than the
    /// composed ops in bf16 are (measured: the BN gradients 10⁴ times closer, the rest 1–2.5×).
    @Test(arguments: SpatialPooling.allCases)
    func batchNormReLUPoolInBF16IsWithinItsRounding(_ pooling: SpatialPooling) {
        let shape: Shape = (8, 4, 32, 6, 6)
        let inputs = Inputs(seed: 21, shape: shape, dtype: .float32)
        let u16 = (Tensor.randn([8, 32, 6, 6], generator: Generator(seed: 22)) * 3 + 1).to(.bfloat16)
        let fused = Self.normalized(u16.detach().requiresGrad_(), inputs, fused: true, batchStatistics: true, pooling: pooling)
        let composed = Self.normalized(u16.detach().requiresGrad_(), inputs, fused: false, batchStatistics: true, pooling: pooling)
        let exact = Self.normalized(u16.to(.float64).requiresGrad_(), Inputs(seed: 21, shape: shape), fused: false,
                                    batchStatistics: true, pooling: pooling, upstream: .bfloat16)
        #expect(fused[0].dtype == .bfloat16 && fused[1].dtype == .bfloat16 && fused[2].dtype == .float32)
        for (name, ((a, c), b)) in zip(Self.normalizedNames, zip(zip(fused, composed), exact)) {
            let error = (a.to(.float64) - b).abs().max().item(), scale = b.abs().max().item()
            let composedError = (c.to(.float64) - b).abs().max().item()
            #expect(error <= 0.01 * scale, "\(name): error \(error) against \(scale)")
            #expect(error <= composedError + 1e-6 * scale, "\(name): error \(error), composed ops' \(composedError)")
        }
    }
}

import Torch

/// The pooling strategies of §3.3 (Fig. 3) that turn a block's output [N, C, H, W] into the
/// vector fed to the block's projector.
public enum PoolingKind: String, Sendable, CaseIterable {
    /// GSP: the spatial mean, giving C features.
    case globalSpatial = "gsp"
    /// LSP: spatial means over a grid of bins, concatenated, giving the target dimension.
    case localSpatial = "lsp"
    /// CbE: k×k conv to D channels, BN, ReLU, then the spatial mean (the paper's best, k = 1).
    case convExpansion = "cbe"
    /// CbE followed by L2 pooling: √(mean over space of x²).
    case convExpansionL2 = "cbe-l2"
    /// CbE followed by square-root pooling: mean over space of √(x + ε).
    case convExpansionSqrt = "cbe-sqrt"
}

/// A block's pooling head.
///
/// - GSP: `z_c = (1/HW) Σ_hw x_chw`, D = C.
/// - LSP: the H×W map is cut into bh × bw bins (adaptive average pooling), with
///   bh·bw = D / C bins: bh is the largest divisor of D/C not above √(D/C), bw = (D/C)/bh.
///   ResNet-50 and D = 2048: block 1 (256 ch.) 2×4 bins, block 2 (512) 2×2, block 3 (1024)
///   1×2, block 4 (2048) 1×1. Features are ordered channel-major: z[c·bh·bw + i·bw + j].
/// - CbE: `y = ReLU(BN(W ⊛ x))` with W a k×k convolution (padding k/2, no bias, optional
///   groups) from C to D channels, then pooled: GSP `z_d = mean_hw y_dhw`, L2
///   `z_d = √(mean_hw y_dhw²)`, or square root `z_d = mean_hw √(y_dhw + 1e-6)`.
public final class PoolingHead: Module, UnaryLayer {
    public let kind: PoolingKind
    public let inputChannels: Int
    public let outputDimension: Int
    let bins: (height: Int, width: Int)
    /// The reference code's `pool_conv_block_k`: conv, BN, ReLU (keys 0, 1; ReLU has none).
    let expansion: Sequential?
    /// Whether CbE runs as one fused node that never holds the expanded [N, D, H, W] tensor
    /// whole (`convBatchNormReLUPool`), where it applies (see `fusedExpansion`), and elsewhere on
    /// the CPU its batch norm, ReLU and pooling as one node (`normalizedExpansion`); off, the
    /// composed layers run, as in the reference code. The same values and gradients either way.
    public var fused = true

    public init(_ kind: PoolingKind, inputChannels: Int, outputDimension: Int = 2048, kernelSize: Int = 1,
                groups: Int = 1, generator: Generator? = nil) throws {
        self.kind = kind
        self.inputChannels = inputChannels
        switch kind {
        case .globalSpatial:
            self.outputDimension = inputChannels
            bins = (1, 1)
            expansion = nil
        case .localSpatial:
            guard outputDimension % inputChannels == 0 else {
                throw PartitionError("LSP needs an output dimension that is a multiple of the block's \(inputChannels) channels, got \(outputDimension)")
            }
            self.outputDimension = outputDimension
            let n = outputDimension / inputChannels
            let h = (1...n).filter { n % $0 == 0 && $0 * $0 <= n }.max()!
            bins = (h, n / h)
            expansion = nil
        case .convExpansion, .convExpansionL2, .convExpansionSqrt:
            guard inputChannels % groups == 0, outputDimension % groups == 0 else {
                throw PartitionError("CbE groups (\(groups)) must divide the block's \(inputChannels) channels and the output dimension \(outputDimension)")
            }
            self.outputDimension = outputDimension
            bins = (1, 1)
            let conv = Conv2d(inputChannels, outputDimension, kernelSize: .init(kernelSize), padding: .init(kernelSize / 2),
                              groups: groups, bias: false, generator: generator)
            expansion = Sequential(conv, BatchNorm2d(outputDimension), ReLU(inplace: true))
        }
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        switch kind {
        case .globalSpatial:
            return x.mean(dims: [2, 3])
        case .localSpatial:
            return adaptiveAvgPool2d(x, outputSize: [bins.height, bins.width]).flatten(start: 1)
        case .convExpansion, .convExpansionL2, .convExpansionSqrt:
            return fusedExpansion(x) ?? normalizedExpansion(x) ?? composedExpansion(x)
        }
    }

    /// How CbE pools its expanded tensor; nil for GSP and LSP, which expand nothing.
    var expansionPooling: SpatialPooling? {
        switch kind {
        case .globalSpatial, .localSpatial: return nil
        case .convExpansion: return .mean
        case .convExpansionL2: return .rootMeanSquare
        case .convExpansionSqrt: return .meanSquareRoot
        }
    }

    /// CbE through the layers of `expansion`, the expanded tensor held whole.
    func composedExpansion(_ x: Tensor) -> Tensor { pooled(expansion!(x)) }

    /// The CbE pooling of an expanded, normalised and rectified y.
    func pooled(_ y: Tensor) -> Tensor {
        switch expansionPooling! {
        case .mean: return y.mean(dims: [2, 3])
        case .rootMeanSquare: return y.square().mean(dims: [2, 3]).sqrt()
        case .meanSquareRoot: return (y + 1e-6).sqrt().mean(dims: [2, 3])
        }
    }

    /// CbE with the convolution as a layer and batch norm, ReLU and pooling as one node
    /// (`batchNormReLUPool`), where the whole fusion does not apply: a bf16 expansion under
    /// autocast, where oneDNN's bf16 convolution is the fast part, or a k×k kernel. The node
    /// runs on the CPU, for a batch norm with affine parameters that is not synchronised over
    /// processes; elsewhere nil, and the composed layers run.
    func normalizedExpansion(_ x: Tensor) -> Tensor? {
        guard fused, let pooling = expansionPooling, let expansion, let normalization = expansion.layers[1] as? BatchNorm,
              let weight = normalization.weight, let bias = normalization.bias, x.device == .cpu,
              !(normalization.training && normalization.isSynchronized)
        else { return nil }
        let u = expansion.layers[0](x)
        guard u.dtype == .float32 || u.dtype == .float64 || u.dtype == .bfloat16 else {
            return pooled(expansion.layers[2](normalization(u)))
        }
        let pass = normalization.beginForward()
        return batchNormReLUPool(u, bnWeight: weight, bnBias: bias, runningMean: pass.runningMean, runningVar: pass.runningVar,
                                 batchStatistics: pass.batchStatistics, momentum: pass.momentum, eps: normalization.eps,
                                 pooling: pooling)
    }

    /// CbE as one fused node, or nil where the fusion does not apply and the composed layers
    /// run instead: a k×k kernel (the statistics would need the covariance of patches), a batch
    /// norm without affine parameters, and input other than float32/float64. A batch norm
    /// synchronised over a process group (SyncBatchNorm in data-parallel runs) gets its input
    /// statistics from every rank (`channelStatistics`), and the node hands their gradients back
    /// through the same all-reduces. With groups, each group's output channels depend on its
    /// input channels alone, so the groups run as fused nodes of their own on slices of the
    /// weights and statistics (the running statistics are views, moved in place).
    func fusedExpansion(_ x: Tensor) -> Tensor? {
        guard fused, let pooling = expansionPooling, let expansion,
              let convolution = expansion.layers[0] as? Conv2d, let normalization = expansion.layers[1] as? BatchNorm,
              convolution.kernelSize == 1, convolution.bias == nil,
              let weight = normalization.weight, let bias = normalization.bias,
              x.dtype == .float32 || x.dtype == .float64
        else { return nil }
        let pass = normalization.beginForward()
        let groups = convolution.groups
        let slices = { (tensor: Tensor?) in tensor.map { groups == 1 ? [$0] : $0.chunk(groups, dim: 0) } }
        let inputs = groups == 1 ? [x] : x.chunk(groups, dim: 1).map { $0.contiguous() }
        let (convWeights, bnWeights, bnBiases) = (slices(convolution.weight)!, slices(weight)!, slices(bias)!)
        let (runningMeans, runningVars) = (slices(pass.runningMean), slices(pass.runningVar))
        let synchronized = pass.batchStatistics && normalization.isSynchronized
        let outputs = (0..<groups).map { g in
            convBatchNormReLUPool(inputs[g], convWeight: convWeights[g], bnWeight: bnWeights[g], bnBias: bnBiases[g],
                                  runningMean: runningMeans?[g], runningVar: runningVars?[g],
                                  batchStatistics: pass.batchStatistics, momentum: pass.momentum,
                                  eps: normalization.eps, pooling: pooling,
                                  inputStatistics: synchronized ? channelStatistics(inputs[g], group: normalization.processGroup) : nil)
        }
        return groups == 1 ? outputs[0] : Tensor.cat(outputs, dim: 1)
    }
}

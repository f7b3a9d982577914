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
        case .convExpansion:
            return expansion!(x).mean(dims: [2, 3])
        case .convExpansionL2:
            return expansion!(x).square().mean(dims: [2, 3]).sqrt()
        case .convExpansionSqrt:
            return (expansion!(x) + 1e-6).sqrt().mean(dims: [2, 3])
        }
    }
}

import Torch

/// Gaussian noise added to a block's output before it reaches the head and the next block,
/// in training only (paper §5, "Impact of noise addition"; σ = 0.25 was best).
public struct NoiseInjection: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable, Codable {
        /// x + σ·ε with ε independent for every feature value: the paper's best.
        case independent
        /// One ε per sample and spatial location, shared by all channels.
        case sharedAcrossChannels = "shared-across-channels"
        /// x + σ·std(x)·ε, std over the whole tensor, as the public reference code's "all" mode.
        case scaledByActivationStd = "scaled-by-std"
    }

    public var kind: Kind
    public var sigma: Double

    public init(kind: Kind = .independent, sigma: Double = 0.25) {
        self.kind = kind
        self.sigma = sigma
    }

    /// `x` [N, C, H, W] (or [N, D]) with noise when `training`, unchanged otherwise.
    public func callAsFunction(_ x: Tensor, training: Bool, generator: Generator? = nil) -> Tensor {
        guard training, sigma > 0 else { return x }
        // Drawn on all threads (`normalNoise`): drawn on one, the noise took 7% of the demo's step.
        switch kind {
        case .independent:
            // σ·ε + x in the noise's own memory: one pass over x, no temporary. The noise lies in
            // x's order, so that a channels-last block output stays channels-last for the next
            // block's convolutions.
            return independentNoise(like: x, generator: generator).add_(x)
        case .sharedAcrossChannels:
            var shape = x.shape
            if shape.count > 1 { shape[1] = 1 }
            return x + Tensor.normalNoise(shape, std: sigma, dtype: x.dtype, device: x.device, generator: generator)
        case .scaledByActivationStd:
            let noise = Tensor.normalNoise(x.shape, dtype: x.dtype, device: x.device, generator: generator)
            return x + noise * x.std() * sigma
        }
    }

    /// σ·ε of x's shape, laid out as x when x is channels-last: drawn in memory order as
    /// [N, H, W, C], then seen as [N, C, H, W].
    func independentNoise(like x: Tensor, generator: Generator?) -> Tensor {
        let shape = x.shape
        guard shape.count == 4, !x.isContiguous(), x.isContiguous(.channelsLast) else {
            return Tensor.normalNoise(shape, std: sigma, dtype: x.dtype, device: x.device, generator: generator)
        }
        return Tensor.normalNoise([shape[0], shape[2], shape[3], shape[1]], std: sigma, dtype: x.dtype, device: x.device,
                                  generator: generator).permute([0, 3, 1, 2])
    }
}

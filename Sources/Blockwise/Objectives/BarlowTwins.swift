import Torch

/// Barlow Twins (Zbontar et al. 2021; paper eq. 1–2):
///
///     C_ij = Σ_b ẑ^A_bi ẑ^B_bj / N,   ẑ = batch-normalised z (per feature, no affine)
///     L = scale · [ Σ_i (t − C_ii)² + λ Σ_i Σ_{j≠i} C_ij² ]
///
/// t = 1 in the original method; the paper's App. A tries per-block invariance targets
/// (0.6, 0.75, 0.9, 1.0). λ = 0.0051 as in the paper; `scale` is the reference code's
/// `--scale-loss` (0.024 in the paper's runs), 1 by default.
public struct BarlowTwins: Objective {
    public var lambda: Double
    public var invarianceTarget: Double
    public var scale: Double
    /// Data-parallel ranks whose shards form the batch: the matrix is summed over them, as the
    /// reference's all-reduce does (here differentiably, so the gradient is the global one).
    public var group: ProcessGroup?

    public init(lambda: Double = 0.0051, invarianceTarget: Double = 1, scale: Double = 1, group: ProcessGroup? = nil) {
        self.lambda = lambda
        self.invarianceTarget = invarianceTarget
        self.scale = scale
        self.group = group
    }

    /// Cross-correlation matrix [D, D] of eq. 1: each feature standardised over the batch with
    /// the batch statistics (biased variance, ε = 1e-5, as `BatchNorm1d(affine=False)` in
    /// training), the product divided by the batch size. Over a group, the batch is the union
    /// of the ranks' shards.
    public static func crossCorrelation(_ zA: Tensor, _ zB: Tensor, group: ProcessGroup? = nil) -> Tensor {
        guard let group, group.worldSize > 1 else {
            let n = Double(zA.size(0))
            return batchNorm(zA, training: true).t.mm(batchNorm(zB, training: true)) / n
        }
        let n = Double(zA.size(0) * group.worldSize)
        let standardise = { (z: Tensor) in
            synchronizedBatchNorm(z, weight: nil, bias: nil, runningMean: nil, runningVar: nil, momentum: 0, eps: 1e-5,
                                  group: group)
        }
        return group.summedOrStop(standardise(zA).t.mm(standardise(zB)) / n)
    }

    /// The loss from a cross-correlation matrix (after any all-reduce across processes), as one
    /// node whose backward holds one D × D gradient (`barlowTwinsLoss`).
    public func loss(crossCorrelation c: Tensor) -> Tensor {
        barlowTwinsLoss(c, lambda: lambda, invarianceTarget: invarianceTarget, scale: scale)
    }

    public func loss(_ zA: Tensor, _ zB: Tensor, labels: Tensor?) -> Tensor {
        loss(crossCorrelation: Self.crossCorrelation(zA, zB, group: group))
    }
}

import Torch

/// What difficulty-based routing (paper App. A, `training.routing`) asks of an objective: each
/// example's difficulty, and a loss with per-example weights.
public protocol RoutableObjective: Objective {
    /// Each example's difficulty [N] (detached): its share of the loss.
    func difficulty(_ zA: Tensor, _ zB: Tensor, labels: Tensor?) -> Tensor
    /// Whether `loss(_:_:labels:weights:)` exists: routing's weighted scheme needs it.
    var weighsExamples: Bool { get }
    /// The loss with per-example weights `weights` [N] (their sum > 0), which equals `loss`
    /// when every weight is the same. Only when `weighsExamples`.
    func loss(_ zA: Tensor, _ zB: Tensor, labels: Tensor?, weights: Tensor) -> Tensor
}

extension BarlowTwins: RoutableObjective {
    /// An example's share of the invariance term: with batch-standardised features ẑ,
    /// 1 − C_jj = Σ_b (ẑ^A_bj − ẑ^B_bj)² / 2N, so example b contributes Σ_j (ẑ^A_bj − ẑ^B_bj)² / 2.
    public func difficulty(_ zA: Tensor, _ zB: Tensor, labels: Tensor?) -> Tensor {
        withNoGrad { (batchNorm(zA, training: true) - batchNorm(zB, training: true)).square().sum(dims: [1]) / 2.0 }
    }

    /// The loss of the weighted cross-correlation C = Σ_b w_b ẑ^A_b ẑ^Bᵀ_b / Σ_b w_b, each
    /// feature standardised with the weighted batch mean and (biased) variance.
    /// Weighted statistics over a data-parallel group are not built: routing runs in one process.
    public var weighsExamples: Bool { group == nil }

    public func loss(_ zA: Tensor, _ zB: Tensor, labels: Tensor?, weights: Tensor) -> Tensor {
        precondition(weighsExamples, "weighted Barlow Twins over a process group")
        return loss(crossCorrelation: Self.weightedCrossCorrelation(zA, zB, weights: weights))
    }

    public static func weightedCrossCorrelation(_ zA: Tensor, _ zB: Tensor, weights: Tensor) -> Tensor {
        let p = (weights / weights.sum()).to(zA.dtype).unsqueeze(1)
        func standardise(_ z: Tensor) -> Tensor {
            let centred = z - (z * p).sum(dims: [0])
            return centred / ((centred.square() * p).sum(dims: [0]) + 1e-5).sqrt()
        }
        return (standardise(zA) * p).t.mm(standardise(zB))
    }
}

extension SupervisedCrossEntropy: RoutableObjective {
    public func difficulty(_ zA: Tensor, _ zB: Tensor, labels: Tensor?) -> Tensor {
        withNoGrad { perExample(zA, zB, labels: labels) }
    }

    public var weighsExamples: Bool { true }

    public func loss(_ zA: Tensor, _ zB: Tensor, labels: Tensor?, weights: Tensor) -> Tensor {
        let w = weights.to(zA.dtype)
        return (perExample(zA, zB, labels: labels) * w).sum() / w.sum()
    }

    /// Each example's cross-entropy, the mean over its two views.
    private func perExample(_ zA: Tensor, _ zB: Tensor, labels: Tensor?) -> Tensor {
        guard let labels else { preconditionFailure("SupervisedCrossEntropy needs labels: the dataset has none") }
        return (crossEntropy(zA, labels, reduction: .none, labelSmoothing: labelSmoothing)
            + crossEntropy(zB, labels, reduction: .none, labelSmoothing: labelSmoothing)) / 2.0
    }
}

extension VICReg: RoutableObjective {
    /// An example's invariance term: the mean squared distance of its two embeddings.
    public func difficulty(_ zA: Tensor, _ zB: Tensor, labels: Tensor?) -> Tensor {
        withNoGrad { (zA - zB).square().mean(dims: [1]) }
    }

    /// VICReg's variance and covariance terms have no per-example weighting in its reference.
    public var weighsExamples: Bool { false }

    public func loss(_ zA: Tensor, _ zB: Tensor, labels: Tensor?, weights: Tensor) -> Tensor {
        preconditionFailure("VICReg does not weight examples")
    }
}

extension SimCLR: RoutableObjective {
    /// An example's NT-Xent term, the mean over its two views' rows.
    public func difficulty(_ zA: Tensor, _ zB: Tensor, labels: Tensor?) -> Tensor {
        withNoGrad {
            let n = zA.size(0)
            let z = normalize(Tensor.cat([zA, zB], dim: 0), dim: 1)
            let logits = (z.mm(z.t) / temperature).maskedFill(Tensor.eye(2 * n, dtype: .bool, device: z.device), .double(-.infinity))
            let positives = Tensor.cat([Tensor.arange(n, 2 * n, device: z.device), Tensor.arange(0, n, device: z.device)])
            let rows = crossEntropy(logits, positives, reduction: .none)
            return (rows.narrow(dim: 0, start: 0, length: n) + rows.narrow(dim: 0, start: n, length: n)) / 2.0
        }
    }

    /// NT-Xent's negatives are the whole batch: weighting examples has no reference form.
    public var weighsExamples: Bool { false }

    public func loss(_ zA: Tensor, _ zB: Tensor, labels: Tensor?, weights: Tensor) -> Tensor {
        preconditionFailure("SimCLR does not weight examples")
    }
}

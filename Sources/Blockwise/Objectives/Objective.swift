import Torch

/// A block's local learning rule: a loss on the embeddings of two views of the same images.
///
/// Each block of the network has its own objective (and its own parameters, e.g. λ), so the
/// same type serves the paper's per-block settings.
public protocol Objective: Sendable {
    /// Whether `loss` needs class labels (the supervised baselines).
    var needsLabels: Bool { get }
    /// The loss of embeddings `zA`, `zB` [N, D] of two views; `labels` [N] when `needsLabels`.
    func loss(_ zA: Tensor, _ zB: Tensor, labels: Tensor?) -> Tensor
}

extension Objective {
    public var needsLabels: Bool { false }
    public func loss(_ zA: Tensor, _ zB: Tensor) -> Tensor { loss(zA, zB, labels: nil) }
}

/// Sum of the squares of the off-diagonal elements of a square matrix.
func offDiagonalSquareSum(_ c: Tensor) -> Tensor {
    c.square().sum() - c.diagonal().square().sum()
}

/// The embeddings of the whole global batch: every rank's, gathered in rank order, when the
/// objective is computed over a data-parallel group.
func wholeBatch(_ z: Tensor, over group: ProcessGroup?) -> Tensor {
    guard let group, group.worldSize > 1 else { return z }
    return group.gatheredOrStop(z)
}

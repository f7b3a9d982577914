import Torch

/// The supervised baselines' objective: cross-entropy of the projector's class logits for
/// both views against the labels (paper §3.4: the projector ends in one unit per class).
public struct SupervisedCrossEntropy: Objective {
    public var labelSmoothing: Double

    public init(labelSmoothing: Double = 0) { self.labelSmoothing = labelSmoothing }

    public var needsLabels: Bool { true }

    public func loss(_ zA: Tensor, _ zB: Tensor, labels: Tensor?) -> Tensor {
        guard let labels else { preconditionFailure("SupervisedCrossEntropy needs labels: the dataset has none") }
        return (crossEntropy(zA, labels, labelSmoothing: labelSmoothing)
            + crossEntropy(zB, labels, labelSmoothing: labelSmoothing)) / 2.0
    }
}

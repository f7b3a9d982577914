import Torch

/// Frozen features of a dataset split at one block, with their labels: what probes train and
/// evaluate on.
public struct FeatureSet: Sendable {
    /// float32 [N, D].
    public var features: Tensor
    /// int64 [N], −1 for an unlabelled image.
    public var labels: Tensor
    /// Labels lie in 0..<classCount.
    public var classCount: Int

    public init(features: Tensor, labels: Tensor, classCount: Int) {
        self.features = features
        self.labels = labels
        self.classCount = classCount
    }

    public var count: Int { features.size(0) }
    public var dimension: Int { features.size(1) }

    /// Whether every image has a label.
    public var isLabelled: Bool { count > 0 && labels.min().itemInt() >= 0 }

    /// The same set on `device`.
    public func to(_ device: Device) -> FeatureSet {
        FeatureSet(features: features.to(device), labels: labels.to(device), classCount: classCount)
    }

    /// The features of several blocks side by side [N, ΣD] (the probe on all blocks together).
    public static func concatenated(_ sets: [FeatureSet]) -> FeatureSet {
        FeatureSet(features: Tensor.cat(sets.map(\.features), dim: 1), labels: sets[0].labels, classCount: sets[0].classCount)
    }
}

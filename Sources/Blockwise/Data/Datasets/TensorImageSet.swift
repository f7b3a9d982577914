import Torch

/// A dataset held in memory as one uint8 tensor [N, C, H, W] and one int64 label tensor [N]:
/// what IDX, CIFAR, STL-10 and the synthetic sets become once read.
public struct TensorImageSet: ImageDataset {
    public let name: String
    public let images: Tensor
    public let labels: Tensor
    public let classCount: Int
    public let statistics: ChannelStatistics
    public let count: Int
    public let imageShape: [Int]

    /// Wraps `images` (uint8 [N, C, H, W]) and `labels` (int64 [N]); labels must lie in
    /// 0..<classCount or be −1 (unlabelled).
    public init(name: String, images: Tensor, labels: Tensor, classCount: Int, statistics: ChannelStatistics) throws {
        let shape = images.shape
        guard shape.count == 4, images.dtype == .uint8 else {
            throw DataError(name, "images must be uint8 [N, C, H, W], got \(images.dtype) \(shape)")
        }
        guard labels.shape == [shape[0]] else {
            throw DataError(name, "\(shape[0]) images but labels of shape \(labels.shape)")
        }
        self.name = name
        self.images = images
        self.labels = labels.to(.int64)
        self.classCount = classCount
        self.statistics = statistics
        self.count = shape[0]
        self.imageShape = Array(shape.dropFirst())
        if count > 0 {
            let low = self.labels.min().itemInt(), high = self.labels.max().itemInt()
            if low < -1 || high >= classCount {
                let bad = low < -1 ? low : high
                let at = self.labels.toArray(Int.self).firstIndex(of: bad) ?? -1
                throw DataError(name, "label \(bad) of image \(at) is out of range 0..<\(classCount)")
            }
        }
    }

    public func batch(_ indices: [Int]) throws -> LabelledBatch {
        try validate(indices)
        let index = Tensor(indices)
        return LabelledBatch(images: images.indexSelect(dim: 0, index: index), labels: labels.indexSelect(dim: 0, index: index))
    }

    /// The label of image `index` (−1 when unlabelled).
    public func label(at index: Int) -> Int { labels[index].itemInt() }
}

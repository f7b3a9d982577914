import Torch

/// A fixed random subset of a dataset, drawn from a seed: the same images on every machine.
public struct SubsetDataset: ImageDataset {
    public let base: any ImageDataset
    public let indices: [Int]

    public init(_ base: any ImageDataset, count: Int, seed: UInt64) {
        var generator = SplitMix64(seed: seed, stream: 0x5355_4253)  // "SUBS"
        var all = Array(0..<base.count)
        // Fisher–Yates with our own generator, so the subset does not depend on libtorch's.
        for i in stride(from: all.count - 1, to: 0, by: -1) {
            all.swapAt(i, Int(generator.next() % UInt64(i + 1)))
        }
        self.base = base
        self.indices = Array(all.prefix(count)).sorted()
    }

    public var name: String { "\(base.name)[\(indices.count)]" }
    public var count: Int { indices.count }
    public var imageShape: [Int] { base.imageShape }
    public var classCount: Int { base.classCount }
    public var statistics: ChannelStatistics { base.statistics }
    public var skippedImageCount: Int? { base.skippedImageCount }

    public func batch(_ batchIndices: [Int]) throws -> LabelledBatch {
        try validate(batchIndices)
        return try base.batch(batchIndices.map { indices[$0] })
    }

    public func croppedViews(_ batchIndices: [Int], augmentation: TwoViewAugmentation,
                             parameters: (ViewParameters, ViewParameters)) throws -> CroppedViews? {
        try validate(batchIndices)
        return try base.croppedViews(batchIndices.map { indices[$0] }, augmentation: augmentation, parameters: parameters)
    }
}

import Torch

/// Several datasets of the same image shape read as one (STL-10's train + unlabeled splits).
public struct ConcatenatedDataset: ImageDataset {
    public let parts: [any ImageDataset]
    public let name: String
    public let count: Int
    public let imageShape: [Int]
    public let classCount: Int
    public let statistics: ChannelStatistics

    public init(_ parts: [any ImageDataset], name: String? = nil) throws {
        guard let first = parts.first else { throw DataError(name ?? "concatenation", "no datasets to join") }
        let label = name ?? parts.map(\.name).joined(separator: "+")
        for part in parts where part.imageShape != first.imageShape {
            throw DataError(label, "\(part.name) has images \(part.imageShape), \(first.name) has \(first.imageShape)")
        }
        self.parts = parts
        self.name = label
        self.count = parts.reduce(0) { $0 + $1.count }
        self.imageShape = first.imageShape
        self.classCount = parts.map(\.classCount).max() ?? 0
        self.statistics = first.statistics
    }

    public var skippedImageCount: Int? {
        let counts = parts.compactMap(\.skippedImageCount)
        return counts.isEmpty ? nil : counts.reduce(0, +)
    }

    public func batch(_ indices: [Int]) throws -> LabelledBatch {
        try validate(indices)
        // Gather each part's indices, then put the rows back in the requested order.
        var offsets: [Int] = []
        var start = 0
        for part in parts { offsets.append(start); start += part.count }
        var perPart = [[Int]](repeating: [], count: parts.count)
        var positions = [[Int]](repeating: [], count: parts.count)
        for (position, index) in indices.enumerated() {
            let p = offsets.lastIndex { $0 <= index }!
            perPart[p].append(index - offsets[p])
            positions[p].append(position)
        }
        let images = Tensor.empty([indices.count] + imageShape, dtype: .uint8)
        let labels = Tensor.empty([indices.count], dtype: .int64)
        for p in parts.indices where !perPart[p].isEmpty {
            let piece = try parts[p].batch(perPart[p])
            let at = Tensor(positions[p])
            images.indexCopy_(dim: 0, index: at, source: piece.images)
            labels.indexCopy_(dim: 0, index: at, source: piece.labels)
        }
        return LabelledBatch(images: images, labels: labels)
    }
}

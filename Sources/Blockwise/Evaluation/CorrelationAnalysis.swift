import Foundation
import Torch

/// The analysis of the paper's Fig. 8: for each block, the cross-correlation matrix between the
/// pooled block outputs (GSP, no projector) of two Barlow Twins views of the same test images,
/// and the distributions of its on-diagonal terms (invariance: 1 is perfect) and
/// off-diagonal terms (redundancy: 0 is perfect).
public struct CorrelationAnalysis {
    public var augmentation: TwoViewAugmentation
    public var batchSize: Int
    /// Seeds the views' random parameters, batch by batch.
    public var seed: UInt64
    /// Analyse only the first `limit` images.
    public var limit: Int?
    public var device: Device

    public init(augmentation: TwoViewAugmentation, batchSize: Int = 256, seed: UInt64 = 0, limit: Int? = nil,
                device: Device = .cpu) {
        self.augmentation = augmentation
        self.batchSize = batchSize
        self.seed = seed
        self.limit = limit
        self.device = device
    }

    /// The summaries of `blocks` (numbered from 1) over `dataset`.
    public func run(_ features: BlockFeatures, on dataset: any ImageDataset, blocks: [Int]) throws -> CorrelationResult {
        var accumulators = [CrossCorrelationAccumulator](repeating: CrossCorrelationAccumulator(), count: blocks.count)
        try forEachBatch(of: dataset, batchSize: batchSize, limit: limit) { index, batch in
            var mixer = SplitMix64(seed: seed, stream: 0x434F_5252, UInt64(index)) // "CORR"
            let (a, b) = augmentation(batch.images, generator: Generator(seed: mixer.next()), device: device)
            let (featuresA, featuresB) = (features(a), features(b))
            for (slot, block) in blocks.enumerated() {
                accumulators[slot].add(featuresA[block - 1], featuresB[block - 1])
            }
        }
        guard accumulators.first.map({ $0.count > 1 }) ?? true else {
            throw RunError("\(dataset.name): the correlation analysis needs at least 2 images")
        }
        return CorrelationResult(blocks: zip(blocks, accumulators).map { block, accumulator in
            BlockCorrelation(block: block, crossCorrelation: accumulator.matrix())
        })
    }
}

/// RUN/correlation.json.
public struct CorrelationResult: Codable, Equatable, Sendable {
    public var blocks: [BlockCorrelation]

    public init(blocks: [BlockCorrelation]) { self.blocks = blocks }
}

/// One block's line of RUN/correlation.json.
public struct BlockCorrelation: Codable, Equatable, Sendable {
    public var block: Int
    public var onDiagonal: DistributionSummary
    public var offDiagonal: DistributionSummary

    enum CodingKeys: String, CodingKey {
        case block, onDiagonal = "on_diagonal", offDiagonal = "off_diagonal"
    }

    public init(block: Int, onDiagonal: DistributionSummary, offDiagonal: DistributionSummary) {
        self.block = block
        self.onDiagonal = onDiagonal
        self.offDiagonal = offDiagonal
    }

    /// Splits a square matrix [D, D] into its D diagonal and D² − D other terms.
    public init(block: Int, crossCorrelation c: Tensor) {
        let d = c.size(0)
        let diagonal = Tensor.eye(d, dtype: .bool, device: c.device)
        self.init(block: block, onDiagonal: DistributionSummary(of: c.diagonal()),
                  offDiagonal: DistributionSummary(of: c.maskedSelect(diagonal.logicalNot())))
    }
}

/// Writes a result as sorted, indented JSON (the form of every RUN/*.json).
public func writeJSON<T: Encodable>(_ value: T, to path: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    do {
        try encoder.encode(value).write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
        throw RunError("cannot write \(path): \(error.localizedDescription)")
    }
}

/// Reads a JSON file written by `writeJSON` (or by hand in the same form).
public func readJSON<T: Decodable>(_ type: T.Type, from path: String) throws -> T {
    guard let data = FileManager.default.contents(atPath: path) else { throw RunError("cannot read \(path)") }
    do {
        return try JSONDecoder().decode(type, from: data)
    } catch {
        throw RunError("\(path): not the expected JSON: \(error)")
    }
}

import Foundation
import Torch

/// The analysis of the paper's Fig. 8: for each block, the cross-correlation matrix between the
/// pooled block outputs (GSP, no projector) of two Barlow Twins views of the same test images,
/// and the distributions of its on-diagonal terms (invariance: 1 is perfect) and
/// off-diagonal terms (redundancy: 0 is perfect).
public struct CorrelationAnalysis {
    public var augmentation: TwoViewAugmentation
    /// Seeds the views' random parameters, batch by batch.
    public var seed: UInt64
    /// Analyse only the first `limit` images.
    public var limit: Int?

    public init(augmentation: TwoViewAugmentation, seed: UInt64 = 0, limit: Int? = nil) {
        self.augmentation = augmentation
        self.seed = seed
        self.limit = limit
    }

    /// The summaries of `blocks` (numbered from 1) over `dataset`, from the features that
    /// `extractor` computes of the two views (which replace its transform), in batches of its
    /// batch size on its device.
    public func run(_ extractor: FeatureExtractor, on dataset: any ImageDataset, blocks: [Int]) throws -> CorrelationResult {
        try FeatureExtractor.validate(blocks: blocks)
        var accumulators = [CrossCorrelationAccumulator](repeating: CrossCorrelationAccumulator(), count: blocks.count)
        try forEachBatch(of: dataset, batchSize: extractor.batchSize, limit: limit) { index, batch in
            var mixer = SplitMix64(seed: seed, stream: 0x434F_5252, UInt64(index)) // "CORR"
            let (a, b) = augmentation(batch.images, generator: Generator(seed: mixer.next()), device: extractor.device)
            let (featuresA, featuresB) = (extractor(a, blocks: blocks), extractor(b, blocks: blocks))
            for (slot, block) in blocks.enumerated() {
                accumulators[slot].add(featuresA[block]!, featuresB[block]!)
            }
        }
        guard accumulators.first.map({ $0.count > 1 }) ?? true else {
            throw RunError("\(dataset.name): the correlation analysis needs at least 2 images")
        }
        return CorrelationResult(blocks: zip(blocks, accumulators).map { block, accumulator in
            BlockCorrelation(block: block, crossCorrelation: accumulator.matrix())
        })
    }

    /// Analyses a run on the test split of `data` (default: the run's `data.dataset`) with the
    /// Barlow Twins views at the run's image side; writes RUN/correlation.json.
    @discardableResult
    public static func run(_ evaluation: RunEvaluation, data: DatasetSpec? = nil,
                           blocks: [Int] = Array(FeatureExtractor.blockRange), seed: UInt64 = 0,
                           limit: Int? = nil) throws -> CorrelationResult {
        try FeatureExtractor.validate(blocks: blocks)
        let test = try (data ?? evaluation.trainingDataset).load(split: .test)
        let analysis = CorrelationAnalysis(augmentation: .barlowTwins(for: test, side: evaluation.imageSize),
                                           seed: seed, limit: limit)
        let result = try analysis.run(evaluation.extractor(for: test), on: test, blocks: blocks)
        try writeJSON(result, to: evaluation.run.correlationPath)
        return result
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

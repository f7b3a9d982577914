import Foundation
import Torch

/// The analyses of a finished run (`blockwise analyze …`): they read the run's configuration
/// and backbone, and write their results into the run directory.
public struct RunAnalysis {
    public let run: RunDirectory
    public let config: Config
    /// The blocks analysed: model.partition's.
    public let partition: BlockPartition
    public let dataset: DatasetSpec
    /// Side of the images the network was trained on (data.image_size).
    public let side: Int
    public let device: Device
    public let features: BlockFeatures

    /// - Parameters:
    ///   - dataset: a dataset spec replacing the run's data.dataset (same classes expected).
    ///   - device: replaces the run's run.device.
    public init(run: RunDirectory, dataset: String? = nil, device: String? = nil) throws {
        self.run = run
        config = try run.config()
        // The configured blocks even for end-to-end runs (which train the network as one
        // block), so that runs are compared at the same depths, as in Fig. 4 and Fig. 8.
        do {
            partition = try BlockPartition(parsing: config.string("model.partition"))
        } catch {
            throw RunError("\(run.configPath): model.partition: \(error)")
        }
        let spec = dataset ?? config.string("data.dataset")
        self.dataset = try DatasetSpec(parsing: spec)
        side = config.int("data.image_size")
        let deviceName = device ?? config.string("run.device")
        guard let parsed = Device(deviceName) else {
            throw RunError("device: expected cpu, cuda, cuda:N or auto, got \(deviceName)")
        }
        self.device = parsed
        let backbone = try run.loadBackbone()
        backbone.to(device: parsed)
        features = BlockFeatures(backbone: backbone, partition: partition)
    }

    /// The requested blocks (numbered from 1), all of them when none is named.
    public func blocks(_ requested: [Int]) throws -> [Int] {
        if let bad = requested.first(where: { !(1...partition.count).contains($0) }) {
            throw RunError("block \(bad) is out of range: the run's partition \(partition) has blocks 1...\(partition.count)")
        }
        return requested.isEmpty ? Array(1...partition.count) : requested
    }

    /// Evaluation images at the training side: resized (shorter side) and centre-cropped.
    public func evaluationTransform(for data: any ImageDataset) -> EvaluationTransform {
        let (h, w) = (data.imageShape[1], data.imageShape[2])
        let resize = min(h, w) == side ? nil : (dataset.kind == .folder || dataset.kind == .imagenet
                                                ? Int((Double(side) * 256 / 224).rounded()) : side)
        return EvaluationTransform(resize: resize, crop: h == side && w == side ? nil : side,
                                   normalization: data.statistics)
    }

    /// Fig. 8's analysis on the test split; writes RUN/correlation.json.
    public func correlation(blocks requested: [Int] = [], batchSize: Int = 256, limit: Int? = nil, seed: UInt64 = 0)
        throws -> CorrelationResult
    {
        let blocks = try self.blocks(requested)
        let test = try dataset.load(split: .test)
        let analysis = CorrelationAnalysis(augmentation: .barlowTwins(for: test, side: side), batchSize: batchSize,
                                           seed: seed, limit: limit, device: device)
        let result = try analysis.run(features, on: test, blocks: blocks)
        try writeJSON(result, to: run.correlationPath)
        return result
    }

    /// App. C's robustness evaluation; writes RUN/corruptions.json.
    public func corruptions(blocks requested: [Int] = [], corruptions: [Corruption] = Corruption.allCases,
                            batchSize: Int = 256, trainLimit: Int? = nil, testLimit: Int? = nil, seed: UInt64 = 0,
                            progress: (String) -> Void = { _ in }) throws -> CorruptionResult {
        let blocks = try self.blocks(requested)
        let train = try dataset.load(split: .train)
        let test = try dataset.load(split: .test)
        let evaluation = RobustnessEvaluation(corruptions: corruptions, transform: evaluationTransform(for: test),
                                              batchSize: batchSize, seed: seed, trainLimit: trainLimit,
                                              testLimit: testLimit, device: device)
        let result = try evaluation.run(features, train: train, test: test, blocks: blocks, progress: progress)
        try writeJSON(result, to: run.corruptionsPath)
        return result
    }
}

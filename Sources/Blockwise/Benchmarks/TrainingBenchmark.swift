import Foundation
import Torch

/// `blockwise bench --config`: the speed and peak memory of pretraining steps, with and
/// without data loading, measured in one process on a throw-away run directory. Memory is the
/// process's resident (host) memory: on a GPU it leaves out the device's own memory.
public enum TrainingBenchmark {
    public struct Result: Codable, Sendable {
        public var config: String
        public var mode: String
        public var device: String
        public var threads: Int
        public var batchSize: Int
        public var steps: Int
        /// Optimisation steps alone, one batch reused.
        public var stepImagesPerSecond: Double
        public var stepPeakMemoryMB: Double
        /// Resident memory before the timed steps: weights, optimizer state, data.
        public var baselineMemoryMB: Double
        /// What the steps add on top of the baseline: activations and gradients.
        public var stepMemoryMB: Double
        /// Steps fed by the loader (decoding and two-view augmentation in the background).
        public var imagesPerSecondWithData: Double
        public var peakMemoryMBWithData: Double
    }

    public static func run(config: Config, name: String, steps: Int, warmup: Int = 2) throws -> Result {
        let run = RunDirectory(FileManager.default.temporaryDirectory.appendingPathComponent("blockwise-bench-\(UUID())").path)
        defer { try? FileManager.default.removeItem(atPath: run.path) }
        let trainer = try Trainer(config: config, run: run, log: { _ in })
        let alone = try trainer.benchmark(steps: steps, warmup: warmup, loadData: false)
        let fed = try trainer.benchmark(steps: steps, warmup: warmup, loadData: true)
        return Result(config: name, mode: config.string("training.mode"), device: trainer.device.description,
                      threads: Runtime.threads, batchSize: config.int("data.batch_size"), steps: steps,
                      stepImagesPerSecond: alone.imagesPerSecond, stepPeakMemoryMB: alone.peakMemoryMB,
                      baselineMemoryMB: alone.baselineMemoryMB, stepMemoryMB: alone.peakMemoryMB - alone.baselineMemoryMB,
                      imagesPerSecondWithData: fed.imagesPerSecond, peakMemoryMBWithData: fed.peakMemoryMB)
    }

    /// `blockwise bench --data SPEC --config FILE`: the loader's rate on `spec` against the rate
    /// of the configuration's training step, so the ratio says whether data ever makes training wait.
    public static func dataAgainstStep(spec: DatasetSpec, config: Config, batches: Int) throws -> DataBenchmark.Result {
        var config = config
        try config.set("data.dataset=\(spec)")
        let run = RunDirectory(FileManager.default.temporaryDirectory.appendingPathComponent("blockwise-bench-\(UUID())").path)
        defer { try? FileManager.default.removeItem(atPath: run.path) }
        let trainer = try Trainer(config: config, run: run, log: { _ in })
        let phase = trainer.plan.phases[0]
        return try DataBenchmark.run(spec: spec, batchSize: config.int("data.batch_size"), batches: batches, warmup: 2,
                                     device: trainer.device, seed: 0) { batch in _ = try trainer.optimise(batch, phase: phase) }
    }
}

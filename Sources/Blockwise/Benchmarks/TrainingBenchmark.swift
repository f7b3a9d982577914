import Foundation
import Torch

/// `blockwise bench --config`: the speed and peak memory of pretraining steps, with and
/// without data loading, measured in one process; no run directory is written. Memory is the
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
        let setup = try TrainingSetup(config: config)
        let alone = try time(setup, steps: steps, warmup: warmup, loadData: false)
        let fed = try time(setup, steps: steps, warmup: warmup, loadData: true)
        return Result(config: name, mode: config.training.mode.rawValue, device: setup.device.description,
                      threads: Runtime.threads, batchSize: config.data.batchSize, steps: steps,
                      stepImagesPerSecond: alone.imagesPerSecond, stepPeakMemoryMB: alone.peakMemoryMB,
                      baselineMemoryMB: alone.baselineMemoryMB, stepMemoryMB: alone.peakMemoryMB - alone.baselineMemoryMB,
                      imagesPerSecondWithData: fed.imagesPerSecond, peakMemoryMBWithData: fed.peakMemoryMB)
    }

    /// Times `steps` optimisation steps of the first phase after `warmup` untimed ones, with
    /// batches from the loader (`loadData`) or one batch reused (the step alone). Returns
    /// images per second, the peak resident memory during the timed steps, and the resident
    /// memory before them (weights, optimizer state, data): peak − baseline is what the steps add.
    static func time(_ setup: TrainingSetup, steps: Int, warmup: Int, loadData: Bool) throws
        -> (imagesPerSecond: Double, peakMemoryMB: Double, baselineMemoryMB: Double)
    {
        let loader = try setup.loader(phase: 0)
        defer { loader.stop() }
        let first = try loader.next().value
        let phase = setup.plan.phases[0]
        for _ in 0..<warmup { _ = try setup.optimise(loadData ? try loader.next().value : first, phase: phase) }
        Runtime.synchronize(setup.device)
        ProcessMemory.resetPeak()
        let baseline = ProcessMemory.currentMB()
        let start = Date()
        for _ in 0..<steps { _ = try setup.optimise(loadData ? try loader.next().value : first, phase: phase) }
        Runtime.synchronize(setup.device)
        let seconds = Date().timeIntervalSince(start)
        return (Double(steps * setup.config.data.batchSize) / seconds, ProcessMemory.peakMB(), baseline)
    }

    /// `blockwise bench --data SPEC --config FILE`: the loader's rate on `spec` against the rate
    /// of the configuration's training step, so the ratio says whether data ever makes training wait.
    public static func dataAgainstStep(spec: DatasetSpec, config: Config, batches: Int) throws -> DataBenchmark.Result {
        var config = config
        config.data.dataset = spec
        let setup = try TrainingSetup(config: config)
        let phase = setup.plan.phases[0]
        return try DataBenchmark.run(spec: spec, batchSize: config.data.batchSize, batches: batches, warmup: 2,
                                     device: setup.device, seed: 0) { batch in _ = try setup.optimise(batch, phase: phase) }
    }
}

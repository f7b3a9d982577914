import Foundation
import Torch

/// `blockwise bench --data SPEC`: how many images per second loading plus Barlow Twins'
/// two-view augmentation delivers, through the real loader (background thread, prefetch),
/// and, given a training step to compare with, how many times the step's rate that is.
public enum DataBenchmark {
    public struct Result: Sendable, CustomStringConvertible {
        public var spec: String
        public var device: Device
        public var threads: Int
        public var batchSize: Int
        public var batches: Int
        public var side: Int
        /// Images per second delivered by the loader with two views each.
        public var imagesPerSecond: Double
        /// Images per second of the training step alone, when one was given.
        public var stepImagesPerSecond: Double?

        /// How many times the training step's rate the data pipeline feeds (> 1: data never waits).
        public var ratio: Double? { stepImagesPerSecond.map { imagesPerSecond / $0 } }

        public var description: String {
            var text = String(format: "data %@ on %@ (%d threads), batch %d, %d×%d views: %.0f images/s",
                              spec, device.description, threads, batchSize, side, side, imagesPerSecond)
            if let step = stepImagesPerSecond, let ratio {
                text += String(format: "; training step %.0f images/s; data/step ratio %.1f×", step, ratio)
            }
            return text
        }
    }

    /// Loads `spec`'s pretraining split and times `batches` batches (after `warmup` more) of
    /// two augmented views. `step`, when given, is timed alone on the views of one batch, the
    /// same number of times.
    public static func run(spec: DatasetSpec, batchSize: Int = 256, batches: Int = 20, warmup: Int = 2,
                           device: Device = .cpu, seed: UInt64 = 0,
                           step: ((TwoViewBatch) throws -> Void)? = nil) throws -> Result {
        let dataset = try spec.load(split: .pretrain)
        let side = try spec.imageSize
        let augmentation = TwoViewAugmentation(side: side, normalization: dataset.statistics)
        let plan = try EpochPlan(count: dataset.count, batchSize: min(batchSize, dataset.count), seed: seed)
        let loader = try DataLoader(dataset: dataset, plan: plan, augmentation: augmentation, device: device)
        defer { loader.stop() }
        var last: TwoViewBatch?
        for _ in 0..<warmup { last = try loader.next().value }
        let start = Date()
        for _ in 0..<batches {
            last = try loader.next().value
            Runtime.synchronize(device)
        }
        let seconds = Date().timeIntervalSince(start)
        var result = Result(spec: spec.description, device: device, threads: Runtime.threads, batchSize: plan.batchSize,
                            batches: batches, side: side, imagesPerSecond: Double(batches * plan.batchSize) / seconds)
        if let step, let batch = last {
            loader.stop()
            try step(batch)
            let stepStart = Date()
            for _ in 0..<batches {
                try step(batch)
                Runtime.synchronize(device)
            }
            result.stepImagesPerSecond = Double(batches * plan.batchSize) / Date().timeIntervalSince(stepStart)
        }
        return result
    }
}

import Foundation
import Synchronization
import Torch

/// `blockwise bench --data SPEC`: how many images per second loading plus Barlow Twins'
/// two-view augmentation delivers, through the real loader (two background stages, prefetch),
/// where the time goes (each stage timed alone, and for image folders libjpeg-turbo's own
/// decoding rate), and, given a training step to compare with, how many times the step's rate
/// that is.
public enum DataBenchmark {
    public struct Result: Sendable, CustomStringConvertible {
        public var spec: String
        public var device: Device
        public var threads: Int
        /// Cores the reading stage decodes on.
        public var cores: Int
        public var batchSize: Int
        public var batches: Int
        public var side: Int
        public var recipe: AugmentationRecipe
        /// Images per second delivered by the loader with two views each.
        public var imagesPerSecond: Double
        /// Images per second of the reading stage alone (decoding, and for image folders
        /// cutting both views), on all cores.
        public var readImagesPerSecond: Double
        /// Images per second of the preparing stage alone (the views' remaining steps on the device).
        public var prepareImagesPerSecond: Double
        /// For image folders: libjpeg-turbo decoding the same files at full size on one core,
        /// the reference for the reading stage's rate.
        public var decodeImagesPerSecondPerCore: Double?
        /// Memory faulted in afresh per batch while the loader ran (`ProcessMemory.freshPagesMB`):
        /// near 0 when its threads reuse the memory of earlier batches.
        public var freshMBPerBatch: Double
        /// Images per second of the training step alone, when one was given.
        public var stepImagesPerSecond: Double?

        /// How many times the training step's rate the data pipeline feeds (> 1: data never waits).
        public var ratio: Double? { stepImagesPerSecond.map { imagesPerSecond / $0 } }

        /// The reading stage's rate as a fraction of full-size decoding on every core.
        public var readFractionOfDecoding: Double? {
            decodeImagesPerSecondPerCore.map { readImagesPerSecond / ($0 * Double(cores)) }
        }

        public var description: String {
            var text = String(format: "data %@ on %@ (%d threads), batch %d, %d×%d views (%@): %.0f images/s",
                              spec, device.description, threads, batchSize, side, side, recipe.rawValue, imagesPerSecond)
            text += String(format: "\n  reading alone %.0f images/s on %d cores; preparing alone %.0f images/s",
                           readImagesPerSecond, cores, prepareImagesPerSecond)
            text += String(format: "\n  memory faulted in afresh: %.1f MB a batch", freshMBPerBatch)
            if let decode = decodeImagesPerSecondPerCore, let fraction = readFractionOfDecoding {
                text += String(format: "\n  libjpeg-turbo full-size decoding %.0f images/s per core: reading is %.0f%% of %.0f (that × %d cores)",
                               decode, 100 * fraction, decode * Double(cores), cores)
            }
            if let step = stepImagesPerSecond, let ratio {
                text += String(format: "\n  training step %.0f images/s; data/step ratio %.1f×", step, ratio)
            }
            return text
        }
    }

    /// Loads `spec`'s pretraining split and times `batches` batches (after `warmup` more) of
    /// two views made by `recipe`; then each stage alone on as many batches. `step`, when
    /// given, is timed alone on the views of one batch, the same number of times.
    public static func run(spec: DatasetSpec, batchSize: Int = 256, batches: Int = 20, warmup: Int = 2,
                           device: Device = .cpu, seed: UInt64 = 0, recipe: AugmentationRecipe = .barlowTwins,
                           step: ((TwoViewBatch) throws -> Void)? = nil) throws -> Result {
        let dataset = try spec.load(split: .pretrain)
        let side = try spec.imageSize
        var augmentation = TwoViewAugmentation(side: side, normalization: dataset.statistics)
        if recipe == .none { (augmentation.viewA, augmentation.viewB) = (.identity, .identity) }
        let plan = try EpochPlan(count: dataset.count, batchSize: min(batchSize, dataset.count), seed: seed)
        let loader = try DataLoader(dataset: dataset, plan: plan, augmentation: augmentation, device: device)
        defer { loader.stop() }
        var last: TwoViewBatch?
        for _ in 0..<warmup { last = try loader.next().value }
        let start = Date(), freshAtStart = ProcessMemory.freshPagesMB()
        for _ in 0..<batches {
            last = try loader.next().value
            Runtime.synchronize(device)
        }
        let seconds = Date().timeIntervalSince(start)
        let freshMBPerBatch = (ProcessMemory.freshPagesMB() - freshAtStart) / Double(batches)
        loader.stop()

        // Each stage alone, one after the other, on the batches the loader read, on a thread
        // of their own as in the loader.
        let stages = TwoViewStages(dataset: dataset, augmentation: augmentation, device: device, shard: (0, 1))
        let timing = Mutex<Swift.Result<(read: Double, prepare: Double), Error>>(.success((0, 0)))
        let done = DispatchSemaphore(value: 0)
        Thread {
            defer { done.signal() }
            var readSeconds = 0.0, prepareSeconds = 0.0
            do {
                for n in 0..<batches {
                    let position = DataPosition(epoch: n / plan.batchesPerEpoch, index: n % plan.batchesPerEpoch)
                    let readStart = Date()
                    let read = try stages.read(plan.batch(epoch: position.epoch, index: position.index),
                                               BatchContext(position: position, seed: seed))
                    let prepareStart = Date()
                    _ = stages.prepare(read)
                    Runtime.synchronize(device)
                    readSeconds += prepareStart.timeIntervalSince(readStart)
                    prepareSeconds += Date().timeIntervalSince(prepareStart)
                }
                timing.withLock { $0 = .success((readSeconds, prepareSeconds)) }
            } catch {
                timing.withLock { $0 = .failure(error) }
            }
        }.start()
        done.wait()
        let (readSeconds, prepareSeconds) = try timing.withLock { $0 }.get()

        let images = Double(batches * plan.batchSize)
        var result = Result(spec: spec.description, device: device, threads: Runtime.threads,
                            cores: ProcessInfo.processInfo.activeProcessorCount, batchSize: plan.batchSize, batches: batches,
                            side: side, recipe: recipe, imagesPerSecond: images / seconds,
                            readImagesPerSecond: images / readSeconds, prepareImagesPerSecond: images / prepareSeconds,
                            freshMBPerBatch: freshMBPerBatch)
        if let folder = dataset as? ImageFolder {
            result.decodeImagesPerSecondPerCore = try decodingRate(folder.files.prefix(batches * plan.batchSize).map(\.path))
        }
        if let step, let batch = last {
            try step(batch)
            let stepStart = Date()
            for _ in 0..<batches {
                try step(batch)
                Runtime.synchronize(device)
            }
            result.stepImagesPerSecond = images / Date().timeIntervalSince(stepStart)
        }
        return result
    }

    /// Images per second libjpeg-turbo (or libpng) decodes `paths` at full size on this
    /// thread, files already in memory: the cost no loader of these files can avoid.
    static func decodingRate(_ paths: [String]) throws -> Double {
        let files = try paths.map { try EncodedImage(path: $0) }
        let start = Date()
        for file in files { _ = try file.decode() }
        return Double(files.count) / Date().timeIntervalSince(start)
    }
}

import Foundation
import Torch

/// What `prepare` knows about the batch it turns into training input.
public struct BatchContext: Sendable {
    public let position: DataPosition
    public let seed: UInt64

    /// A CPU generator for this batch's random augmentations, from (seed, epoch, index): the
    /// same views whatever thread or device makes them, and after a resume.
    public func generator() -> Generator {
        var mixer = SplitMix64(seed: seed, stream: 0x4155_4753, UInt64(position.epoch), UInt64(position.index)) // "AUGS"
        return Generator(seed: mixer.next())
    }
}

/// A batch as a loader delivers it, with its place in the stream.
public struct LoadedBatch<Output: Sendable>: Sendable {
    public let position: DataPosition
    public let value: Output
}

/// Batches of a dataset read (and prepared, e.g. augmented) in the background while the
/// caller trains on earlier ones, at most `prefetch` batches ahead. Two threads overlap: one
/// reads (decodes) batch t + 1 while the other prepares batch t, so neither stage waits for
/// the other. The stream runs epoch after epoch; `EpochPlan` fixes each batch's samples,
/// `BatchContext` its randomness, so the stream is the same for a seed whatever the timing,
/// and resumes exactly from a `DataPosition`.
public final class DataLoader<Output: Sendable>: @unchecked Sendable {
    public let plan: EpochPlan
    private let queue: BoundedQueue<Result<LoadedBatch<Output>, Error>>
    /// Closes the queue between the two stages.
    private let closeReader: @Sendable () -> Void
    private let finished = DispatchGroup()
    private let stopLock = NSLock()
    private var joined = false
    /// The next batch `next()` will return.
    public private(set) var position: DataPosition

    /// Starts reading at `start`. `load` reads the samples of each batch on one background
    /// thread, `prepare` turns them into the output on another.
    public init<Loaded: Sendable>(dataset: any ImageDataset, plan: EpochPlan, start: DataPosition = DataPosition(),
                                  prefetch: Int = 2,
                                  load: @escaping @Sendable ([Int], BatchContext) throws -> Loaded,
                                  prepare: @escaping @Sendable (Loaded, BatchContext) throws -> Output) throws {
        guard plan.count == dataset.count else {
            throw DataError(dataset.name, "the plan is for \(plan.count) samples, the dataset has \(dataset.count)")
        }
        guard start.epoch >= 0, (0..<plan.batchesPerEpoch).contains(start.index) else {
            throw DataError(dataset.name, "cannot start at \(start): an epoch has \(plan.batchesPerEpoch) batches")
        }
        self.plan = plan
        self.position = start
        let queue = BoundedQueue<Result<LoadedBatch<Output>, Error>>(capacity: prefetch)
        self.queue = queue
        // One read batch waits while the other stage works on the one before it.
        let loaded = BoundedQueue<Result<LoadedBatch<Loaded>, Error>>(capacity: 1)
        closeReader = { loaded.close() }
        let reader = Thread { [finished] in
            defer { finished.leave() }
            var at = start
            var shard = plan.shard(epoch: at.epoch)
            while !loaded.isClosed {
                let indices = Array(shard[(at.index * plan.batchSize)..<((at.index + 1) * plan.batchSize)])
                let result = Result { LoadedBatch(position: at, value: try load(indices, BatchContext(position: at, seed: plan.seed))) }
                guard loaded.put(result) else { return }
                if case .failure = result { return }
                at.index += 1
                if at.index == plan.batchesPerEpoch {
                    at = DataPosition(epoch: at.epoch + 1, index: 0)
                    shard = plan.shard(epoch: at.epoch)
                }
            }
        }
        let preparer = Thread { [finished] in
            defer { finished.leave() }
            while let item = loaded.take() {
                let result = Result {
                    let batch = try item.get()
                    return LoadedBatch(position: batch.position,
                                       value: try prepare(batch.value, BatchContext(position: batch.position, seed: plan.seed)))
                }
                guard queue.put(result) else { return loaded.close() }
                if case .failure = result { return loaded.close() }
            }
        }
        reader.name = "blockwise.data.read"
        preparer.name = "blockwise.data.prepare"
        finished.enter()
        finished.enter()
        reader.start()
        preparer.start()
    }

    /// Starts reading at `start`. `prepare` runs on a background thread for each batch of
    /// images, read on another.
    public convenience init(dataset: any ImageDataset, plan: EpochPlan, start: DataPosition = DataPosition(), prefetch: Int = 2,
                            prepare: @escaping @Sendable (LabelledBatch, BatchContext) throws -> Output) throws {
        try self.init(dataset: dataset, plan: plan, start: start, prefetch: prefetch,
                      load: { indices, _ in try dataset.batch(indices) }, prepare: prepare)
    }

    deinit { stop() }

    /// The next batch; waits for the background thread when it is behind. A failure to read
    /// or prepare a batch is thrown here, and the loader stops.
    public func next() throws -> LoadedBatch<Output> {
        guard let result = queue.take() else { throw DataError("loader", "the loader was stopped after an earlier error") }
        switch result {
        case .success(let batch):
            position = batch.position
            position.index += 1
            if position.index == plan.batchesPerEpoch { position = DataPosition(epoch: position.epoch + 1, index: 0) }
            return batch
        case .failure(let error):
            queue.close()
            throw error
        }
    }

    /// Stops the background thread and waits for it to finish the batch it is on (at most one
    /// batch's time), so no libtorch work outlives the loader — at process exit, libtorch's
    /// own teardown would otherwise race with it.
    public func stop() {
        queue.close()
        closeReader()
        stopLock.lock()
        defer { stopLock.unlock() }
        guard !joined else { return }
        finished.wait()
        joined = true
    }
}

extension DataLoader where Output == LabelledBatch {
    /// Raw uint8 batches.
    public convenience init(dataset: any ImageDataset, plan: EpochPlan, start: DataPosition = DataPosition(),
                            prefetch: Int = 2) throws {
        try self.init(dataset: dataset, plan: plan, start: start, prefetch: prefetch) { batch, _ in batch }
    }
}

/// Two augmented views of a batch and its labels: the input of one pretraining step.
public struct TwoViewBatch: Sendable {
    public let viewA: Tensor
    public let viewB: Tensor
    public let labels: Tensor
}

extension DataLoader where Output == TwoViewBatch {
    /// Batches with Barlow Twins' two views made by `augmentation` on `device`; a rank's shard
    /// of a global batch gets the views of a one-process run (`TwoViewAugmentation`). A
    /// dataset whose images differ in size (an image folder) has both views cut from each
    /// whole image as it is decoded, and only the colour steps run on `device`.
    public convenience init(dataset: any ImageDataset, plan: EpochPlan, augmentation: TwoViewAugmentation,
                            device: Device = .cpu, start: DataPosition = DataPosition(), prefetch: Int = 2) throws {
        let stages = TwoViewStages(dataset: dataset, augmentation: augmentation, device: device,
                                   shard: (plan.rank, plan.worldSize))
        try self.init(dataset: dataset, plan: plan, start: start, prefetch: prefetch,
                      load: stages.read, prepare: { read, _ in stages.prepare(read) })
    }
}

/// The two stages of a two-view loader: reading (decoding, and for image folders cutting the
/// views) on the CPU, then preparing the views on the training device.
public struct TwoViewStages: Sendable {
    public let dataset: any ImageDataset
    public let augmentation: TwoViewAugmentation
    public let device: Device
    /// This rank and the number of ranks sharing each global batch.
    public let shard: (rank: Int, count: Int)

    /// What the reading stage hands to the preparing one: crops cut while decoding, or a batch
    /// of equally sized images to cut on the device; with the parameters drawn for the batch.
    public enum Read: Sendable {
        case cropped(CroppedViews, (ViewParameters, ViewParameters))
        case images(LabelledBatch, (ViewParameters, ViewParameters))
    }

    /// Draws the batch's view parameters and reads its images.
    @Sendable public func read(_ indices: [Int], _ context: BatchContext) throws -> Read {
        let parameters = augmentation.draw(count: indices.count, height: dataset.imageShape[1], width: dataset.imageShape[2],
                                           generator: context.generator(), shard: shard)
        if let views = try dataset.croppedViews(indices, augmentation: augmentation, parameters: parameters) {
            return .cropped(views, parameters)
        }
        return .images(try dataset.batch(indices), parameters)
    }

    public init(dataset: any ImageDataset, augmentation: TwoViewAugmentation, device: Device, shard: (rank: Int, count: Int)) {
        self.dataset = dataset
        self.augmentation = augmentation
        self.device = device
        self.shard = shard
    }

    /// Both views, normalised, on the device. Made on the CPU, they are made on the calling
    /// thread and one more, one view each, each thread's libtorch ops confined to it
    /// (`CPUPreparation`): call this on a thread of its own.
    public func prepare(_ read: Read) -> TwoViewBatch {
        if device == .cpu { CPUPreparation.confineOpsToThisThread() }
        switch read {
        case .cropped(let views, let (a, b)):
            let (viewA, viewB) = bothViews(a, b) { [augmentation, device] in augmentation.croppedView($0, $1, views, device: device) }
            return TwoViewBatch(viewA: viewA, viewB: viewB, labels: views.labels)
        case .images(let batch, let (a, b)):
            // On the device once, for both views.
            let images = toUnitFloat(batch.images, device: device)
            let (viewA, viewB) = bothViews(a, b) { [augmentation] in augmentation.view($0, $1, ofUnitFloat: images) }
            return TwoViewBatch(viewA: viewA, viewB: viewB, labels: batch.labels)
        }
    }

    /// View A (`view(0, a)`) and view B (`view(1, b)`): on the CPU on two threads, elsewhere one
    /// after the other (the device runs them).
    func bothViews(_ a: ViewParameters, _ b: ViewParameters,
                   _ view: @escaping @Sendable (Int, ViewParameters) -> Tensor) -> (Tensor, Tensor) {
        device == .cpu ? CPUPreparation.onTwoThreads({ view(0, a) }, { view(1, b) }) : (view(0, a), view(1, b))
    }
}

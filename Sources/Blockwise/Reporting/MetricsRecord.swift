import Foundation

/// One line of RUN/metrics.jsonl: a step's values, or an epoch's means. Training writes it,
/// TensorBoard gets its scalars, the report reads it, and a resumed run rewinds the file by its
/// step. The JSON keys are those runs have always written; `owner` was added later, and a line
/// without it holds per-block entries.
public struct MetricsRecord: Codable, Equatable, Sendable {
    /// Which of the two lines training writes.
    public enum Kind: String, Codable, Sendable {
        /// Every `log.every_steps` steps: that step's losses, learning rate, speed and memory.
        case step
        /// At the end of each epoch: the epoch's mean losses and online-probe accuracies.
        case epoch
    }

    /// What the entries of `loss` and `onlineProbeTop1` belong to.
    public enum Owner: String, Codable, Sendable {
        /// Entry k is block k+1 of the partition, with its own objective.
        case blocks
        /// The single entry is the whole network, trained as one block under one objective.
        case network

        /// End-to-end modes train the network as one block; every other mode trains blocks.
        public init(_ mode: TrainingMode) {
            self = mode.isEndToEnd ? .network : .blocks
        }
    }

    public var kind: Kind
    /// The phase of the training plan (from 0): sequential mode has one per block.
    public var phase: Int
    /// The epoch (from 0) the step's batch came from; for an epoch record, the epoch that ends
    /// counted from 1, as the data position reads after its last batch.
    public var epoch: Int
    /// Optimisation steps so far over the whole run.
    public var step: Int
    public var owner: Owner
    /// The loss per entry (see `owner`); nil for a block that computes no loss in this phase.
    public var loss: [Double?]
    /// Step records only: the first parameter group's learning rate.
    public var lr: Double?
    /// Step records only.
    public var imagesPerSecond: Double?
    /// Step records only: the process's peak resident memory so far.
    public var peakMemoryMB: Double?
    /// Epoch records only: the online linear probe's training accuracy per entry, nil without labels seen.
    public var onlineProbeTop1: [Double?]?
    /// Epoch records of a dataset read with `skip-unreadable` only: the images it found
    /// unreadable and skipped so far, each counted once, since the process started (a resumed
    /// run counts again from its resumption).
    public var skippedImages: Int?

    /// A step record.
    public static func step(phase: Int, epoch: Int, step: Int, owner: Owner, loss: [Double?], lr: Double,
                            imagesPerSecond: Double, peakMemoryMB: Double) -> MetricsRecord {
        MetricsRecord(kind: .step, phase: phase, epoch: epoch, step: step, owner: owner, loss: loss, lr: lr,
                      imagesPerSecond: imagesPerSecond, peakMemoryMB: peakMemoryMB)
    }

    /// An epoch record.
    public static func epoch(phase: Int, epoch: Int, step: Int, owner: Owner, loss: [Double?],
                             onlineProbeTop1: [Double?], skippedImages: Int? = nil) -> MetricsRecord {
        MetricsRecord(kind: .epoch, phase: phase, epoch: epoch, step: step, owner: owner, loss: loss,
                      onlineProbeTop1: onlineProbeTop1, skippedImages: skippedImages)
    }

    private init(kind: Kind, phase: Int, epoch: Int, step: Int, owner: Owner, loss: [Double?], lr: Double? = nil,
                 imagesPerSecond: Double? = nil, peakMemoryMB: Double? = nil, onlineProbeTop1: [Double?]? = nil,
                 skippedImages: Int? = nil) {
        self.kind = kind
        self.phase = phase
        self.epoch = epoch
        self.step = step
        self.owner = owner
        self.loss = loss
        self.lr = lr
        self.imagesPerSecond = imagesPerSecond
        self.peakMemoryMB = peakMemoryMB
        self.onlineProbeTop1 = onlineProbeTop1
        self.skippedImages = skippedImages
    }

    enum CodingKeys: String, CodingKey {
        case kind, phase, epoch, step, owner, loss, lr
        case imagesPerSecond = "images_per_second"
        case peakMemoryMB = "peak_memory_mb"
        case onlineProbeTop1 = "online_probe_top1"
        case skippedImages = "skipped_images"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kind = try container.decode(Kind.self, forKey: .kind)
        phase = try container.decode(Int.self, forKey: .phase)
        epoch = try container.decode(Int.self, forKey: .epoch)
        step = try container.decode(Int.self, forKey: .step)
        // Runs logged before `owner` existed labelled every entry as a block.
        owner = try container.decodeIfPresent(Owner.self, forKey: .owner) ?? .blocks
        loss = try container.decode([Double?].self, forKey: .loss)
        lr = try container.decodeIfPresent(Double.self, forKey: .lr)
        imagesPerSecond = try container.decodeIfPresent(Double.self, forKey: .imagesPerSecond)
        peakMemoryMB = try container.decodeIfPresent(Double.self, forKey: .peakMemoryMB)
        onlineProbeTop1 = try container.decodeIfPresent([Double?].self, forKey: .onlineProbeTop1)
        skippedImages = try container.decodeIfPresent(Int.self, forKey: .skippedImages)
    }

    /// The name of entry `index` (from 0) in `loss` and `onlineProbeTop1`: "network", or
    /// "block K" joined by `separator` ("block_K" in TensorBoard tags).
    public func entryName(_ index: Int, separator: String = " ") -> String {
        switch owner {
        case .blocks: "block\(separator)\(index + 1)"
        case .network: "network"
        }
    }
}

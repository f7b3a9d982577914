import Foundation
import Torch

/// Where a training step's time goes (`blockwise bench --config F --profile`): per block, its
/// forward pass, head, projector, loss, and backward passes (the head's, then the block's); per
/// step, the online probe, the gradient exchange and the optimizer. Each mark waits for the device, so the profiled steps
/// are slower than plain ones on a GPU; the parts' shares are what it is for. Where the device's
/// tensor memory is counted (`TensorMemory`), each part's peak is kept too, as bytes above
/// what tensors held when the step began: where a step's memory goes.
public final class StepProfile: @unchecked Sendable {
    public enum Part: String, CaseIterable, Codable, Sendable {
        case forward, head, projector, loss
        /// The backward through a block's loss, projector and head, to the block's output.
        case headBackward = "head_backward"
        /// The backward through the block itself (in a blockwise step; otherwise the whole backward).
        case backward
        /// Parts of the whole step, not of a block.
        case probe, exchange, optimizer
    }

    let device: Device
    /// Seconds by block (nil: the step's own parts) and part, summed over the profiled steps.
    private(set) var seconds: [Int?: [Part: Double]] = [:]
    private(set) var steps = 0
    private var last = Date()
    /// Peak tensor bytes above the step's start, by block and part: the most over the steps.
    private(set) var peakBytes: [Int?: [Part: Int]] = [:]
    private var stepStartBytes: Int?

    public init(device: Device) { self.device = device }

    /// A step begins: what follows is timed from here.
    func beginStep() {
        Runtime.synchronize(device)
        steps += 1
        try? TensorMemory.resetPeak(device)
        stepStartBytes = (try? TensorMemory.of(device))?.allocatedBytes
        last = Date()
    }

    /// The time since the last mark goes to `part` of `block`.
    func mark(_ block: Int?, _ part: Part) {
        Runtime.synchronize(device)
        let now = Date()
        seconds[block, default: [:]][part, default: 0] += now.timeIntervalSince(last)
        if let stepStartBytes, let memory = try? TensorMemory.of(device) {
            let above = memory.peakAllocatedBytes - stepStartBytes
            peakBytes[block, default: [:]][part] = max(peakBytes[block]?[part] ?? .min, above)
            try? TensorMemory.resetPeak(device)
        }
        last = Date()
    }

    /// Mean seconds per step of `part` of `block`.
    public func perStep(_ block: Int?, _ part: Part) -> Double {
        steps == 0 ? 0 : (seconds[block]?[part] ?? 0) / Double(steps)
    }

    /// The blocks that have times, in order.
    public var blocks: [Int] { seconds.keys.compactMap { $0 }.sorted() }

    /// The most MB tensors held above the step's start during `part` of `block`; nil where not counted.
    public func peakMB(_ block: Int?, _ part: Part) -> Double? {
        peakBytes[block]?[part].map { Double($0) / 1_048_576 }
    }
}

extension TrainingBenchmark {
    /// `bench --config F --profile`: where `steps` steps of one reused batch spend their time.
    public struct Profile: Codable, Sendable {
        /// Milliseconds per step of each part, per block (from 1).
        public var blocks: [[String: Double]]
        /// Milliseconds per step of the step's own parts: probe, exchange, optimizer.
        public var step: [String: Double]
        /// Milliseconds of a whole profiled step.
        public var totalMilliseconds: Double
        /// Per block (from 1) and part, the most MB tensors held above the step's start; nil
        /// where the device's tensor memory is not counted.
        public var blockPeakMemoryMB: [[String: Double]]?
        /// The same for the step's own parts.
        public var stepPeakMemoryMB: [String: Double]?
    }

    public static func profile(config: Config, steps: Int, warmup: Int = 2) throws -> Profile {
        try? TensorMemory.countCPU()
        let setup = try TrainingSetup(config: config)
        let loader = try setup.loader(phase: 0)
        defer { loader.stop() }
        let batch = try loader.next().value
        let phase = setup.plan.phases[0]
        for _ in 0..<warmup { _ = try setup.optimise(batch, phase: phase) }
        let profile = StepProfile(device: setup.device)
        setup.step.profile = profile
        defer { setup.step.profile = nil }
        let start = Date()
        for _ in 0..<steps { _ = try setup.optimise(batch, phase: phase) }
        let total = Date().timeIntervalSince(start) / Double(steps)
        let blockParts: [StepProfile.Part] = [.forward, .head, .projector, .loss, .headBackward, .backward]
        let stepParts: [StepProfile.Part] = [.probe, .exchange, .optimizer]
        let table = { (block: Int?, parts: [StepProfile.Part], value: (Int?, StepProfile.Part) -> Double?) in
            Dictionary(uniqueKeysWithValues: parts.compactMap { part in value(block, part).map { (part.rawValue, $0) } })
        }
        let counted = profile.peakMB(nil, .optimizer) != nil
        return Profile(blocks: profile.blocks.map { k in table(k, blockParts) { 1000 * profile.perStep($0, $1) } },
                       step: table(nil, stepParts) { 1000 * profile.perStep($0, $1) },
                       totalMilliseconds: 1000 * total,
                       blockPeakMemoryMB: counted ? profile.blocks.map { k in table(k, blockParts, profile.peakMB) } : nil,
                       stepPeakMemoryMB: counted ? table(nil, stepParts, profile.peakMB) : nil)
    }
}

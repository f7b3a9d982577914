import Foundation
import Torch

/// Where a training step's time goes (`blockwise bench --config F --profile`): per block, its
/// forward pass, head, projector, loss and backward pass; per step, the online probe, the
/// gradient exchange and the optimizer. Each mark waits for the device, so the profiled steps
/// are slower than plain ones on a GPU; the parts' shares are what it is for.
public final class StepProfile: @unchecked Sendable {
    public enum Part: String, CaseIterable, Codable, Sendable {
        case forward, head, projector, loss, backward
        /// Parts of the whole step, not of a block.
        case probe, exchange, optimizer
    }

    let device: Device
    /// Seconds by block (nil: the step's own parts) and part, summed over the profiled steps.
    private(set) var seconds: [Int?: [Part: Double]] = [:]
    private(set) var steps = 0
    private var last = Date()

    public init(device: Device) { self.device = device }

    /// A step begins: what follows is timed from here.
    func beginStep() {
        Runtime.synchronize(device)
        steps += 1
        last = Date()
    }

    /// The time since the last mark goes to `part` of `block`.
    func mark(_ block: Int?, _ part: Part) {
        Runtime.synchronize(device)
        let now = Date()
        seconds[block, default: [:]][part, default: 0] += now.timeIntervalSince(last)
        last = now
    }

    /// Mean seconds per step of `part` of `block`.
    public func perStep(_ block: Int?, _ part: Part) -> Double {
        steps == 0 ? 0 : (seconds[block]?[part] ?? 0) / Double(steps)
    }

    /// The blocks that have times, in order.
    public var blocks: [Int] { seconds.keys.compactMap { $0 }.sorted() }
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
    }

    public static func profile(config: Config, steps: Int, warmup: Int = 2) throws -> Profile {
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
        let blockParts: [StepProfile.Part] = [.forward, .head, .projector, .loss, .backward]
        return Profile(blocks: profile.blocks.map { k in
                           Dictionary(uniqueKeysWithValues: blockParts.map { ($0.rawValue, 1000 * profile.perStep(k, $0)) })
                       },
                       step: Dictionary(uniqueKeysWithValues: [StepProfile.Part.probe, .exchange, .optimizer].map {
                           ($0.rawValue, 1000 * profile.perStep(nil, $0))
                       }),
                       totalMilliseconds: 1000 * total)
    }
}

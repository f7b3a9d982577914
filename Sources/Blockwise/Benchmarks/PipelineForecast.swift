import Foundation
import Torch

/// What block-parallel training would gain on several devices, from costs measured in one
/// process: in a pipeline the slowest block sets the pace, so a step on N devices takes the
/// time of the costliest block of the partition, not the sum.
///
/// Each ResNet stage's cost is measured in a network with a head after every stage: the
/// backbone's part (forward and backward of the stage on both views) and the head's (head,
/// projector and loss, forward and backward), each with its share of the optimizer step (by
/// parameter count). A block of stages a…b then costs the backbone parts of a…b plus the head
/// part of b, so every partition can be priced, and the one that evens out the blocks chosen.
/// The forecast leaves out the time to move block outputs between devices: `bytesPerStep`
/// over the link's bandwidth gives it.
public struct PipelineForecast: Codable, Sendable {
    public struct StageCost: Codable, Sendable {
        public var stage: Int
        public var backboneSeconds: Double
        public var headSeconds: Double
    }

    /// A partition's price: each block's seconds per step and the pipeline's images per second.
    public struct Plan: Codable, Sendable {
        public var partition: String
        public var blockSeconds: [Double]
        public var imagesPerSecond: Double
    }

    public var batchSize: Int
    public var stageCosts: [StageCost]
    /// The configuration's partition, one device per block.
    public var configured: Plan
    /// The configured partition's blocks one after the other in one process (simultaneous
    /// training on one device).
    public var oneDeviceImagesPerSecond: Double
    /// For 1…4 devices, the partition whose slowest block is fastest.
    public var balanced: [Plan]

    /// Measures the stages of `config`'s network over `steps` steps (after one untimed) in
    /// this process.
    public static func measure(config: Config, steps: Int) throws -> PipelineForecast {
        var perStage = config
        perStage.model.partition = .perStage
        perStage.training.mode = config.training.mode.isSupervised ? .supervisedBlockwise : .simultaneous
        perStage.distributed.strategy = .data
        let setup = try TrainingSetup(config: perStage)
        let loader = try setup.loader(phase: 0)
        defer { loader.stop() }
        let batch = try loader.next().value
        var costs = (1...4).map { StageCost(stage: $0, backboneSeconds: 0, headSeconds: 0) }
        for repeat_ in 0...steps {
            let times = try stageTimes(setup, batch)
            guard repeat_ > 0 else { continue }
            for s in 0..<4 {
                costs[s].backboneSeconds += times[s].backbone / Double(steps)
                costs[s].headSeconds += times[s].head / Double(steps)
            }
        }
        let batchSize = config.data.batchSize
        let configured = price(config.model.partition, costs, batchSize: batchSize)
        let balanced = (1...4).map { devices in
            partitions(into: devices).map { price($0, costs, batchSize: batchSize) }.max { $0.imagesPerSecond < $1.imagesPerSecond }!
        }
        return PipelineForecast(batchSize: batchSize, stageCosts: costs, configured: configured,
                                oneDeviceImagesPerSecond: Double(batchSize) / configured.blockSeconds.reduce(0, +), balanced: balanced)
    }

    /// One step of the per-stage network, timed stage by stage: the backbone part and the head part.
    private static func stageTimes(_ setup: TrainingSetup, _ batch: TwoViewBatch) throws -> [(backbone: Double, head: Double)] {
        let network = setup.network
        network.train()
        let labels = batch.labels.to(setup.device)
        var (hA, hB) = (batch.viewA.to(setup.device), batch.viewB.to(setup.device))
        var times: [(backbone: Double, head: Double)] = []
        for k in 0..<4 {
            let device = setup.device
            let clock = Clock(device)
            let a = network.forward(block: k, hA.detach()), b = network.forward(block: k, hB.detach())
            var backbone = clock.lap()
            let (inA, inB) = (a.detach().requiresGrad_(), b.detach().requiresGrad_())
            setup.step.objectives[k].loss(network.embed(block: k, inA), network.embed(block: k, inB), labels: labels).backward()
            var head = clock.lap()
            a.backward(inA.grad!)
            b.backward(inB.grad!)
            backbone += clock.lap()
            // The optimizer's step over this stage's parameters, shared out by parameter count.
            let headCount = Double((network.heads[k].parameters() + network.projectors[k].parameters()).reduce(0) { $0 + $1.count })
            let backboneCount = Double(network.parameters(ofBlock: k).reduce(0) { $0 + $1.count }) - headCount
            setup.optimizer.step()
            setup.optimizer.zeroGrad()
            let optimizer = clock.lap()
            backbone += optimizer * backboneCount / max(backboneCount + headCount, 1)
            head += optimizer * headCount / max(backboneCount + headCount, 1)
            times.append((backbone, head))
            (hA, hB) = (a.detach(), b.detach())
        }
        return times
    }

    /// The seconds of each block of `partition` and the pipeline's rate, the slowest block's.
    static func price(_ partition: BlockPartition, _ costs: [StageCost], batchSize: Int) -> Plan {
        let seconds = partition.blocks.map { stages in
            stages.reduce(0) { $0 + costs[$1 - 1].backboneSeconds } + costs[stages.last! - 1].headSeconds
        }
        return Plan(partition: partition.description, blockSeconds: seconds, imagesPerSecond: Double(batchSize) / seconds.max()!)
    }

    /// Every partition of the four stages into `blocks` contiguous blocks.
    static func partitions(into blocks: Int) -> [BlockPartition] {
        // A cut after stage 1, 2 or 3, or not: choose blocks − 1 of the three.
        (0..<8).filter { $0.nonzeroBitCount == blocks - 1 }.map { cuts in
            var groups: [[Int]] = [[1]]
            for stage in 2...4 {
                if cuts & (1 << (stage - 2)) != 0 { groups.append([stage]) } else { groups[groups.count - 1].append(stage) }
            }
            return try! BlockPartition(groups)
        }
    }

    /// Seconds between laps, the device's queued work included.
    private final class Clock {
        let device: Device
        var last = Date()
        init(_ device: Device) {
            self.device = device
            Runtime.synchronize(device)
            last = Date()
        }
        func lap() -> Double {
            Runtime.synchronize(device)
            defer { last = Date() }
            return Date().timeIntervalSince(last)
        }
    }
}

import Foundation
import Torch

/// The trainer's loop in a block-parallel run (`distributed.strategy: blocks`): each process
/// trains its block, the first reading the data and every other taking its input from the
/// block below (`BlockPipeline`). No process waits for another except for its input, and at
/// the points where the run directory is written (epoch ends, checkpoints, the end), where
/// rank 0 gathers every block's part. Step records of metrics.jsonl are summed over the
/// blocks without waiting and written by rank 0 once every block has reached their step.
extension Trainer {
    /// Trains the current phase from where the state stands to its end; false when stopped early.
    func trainPipelinedPhase(_ pipeline: BlockPipeline, record: (MetricsRecord) throws -> Void,
                             shouldStop: () -> Bool) throws -> Bool {
        let phase = plan.phases[state.phase]
        let k = pipeline.placement.block
        let epochs = config.training.epochs
        let perEpoch = try setup.epochPlan().batchesPerEpoch
        let totalSteps = perEpoch * epochs
        let schedule = setup.schedule(stepsPerEpoch: perEpoch, totalSteps: totalSteps)
        let loader = k == 0 ? try setup.loader(phase: state.phase, start: state.position) : nil
        defer { loader?.stop() }
        if state.lossSums.isEmpty { resetEpochSums() }
        var progress = reporter(total: perEpoch, epochs: epochs)
        var records = PendingRecords()
        var clock = Date()
        while state.phaseStep < totalSteps {
            let input: BlockPipeline.Message
            if let loader {
                // The first block decides for all: a stop asked anywhere travels up from here.
                if try shouldStop() || pipeline.stopRequested() {
                    try pipeline.sendStop(step: state.globalStep + 1, position: state.position)
                    try records.finish(pipeline, write: record)
                    return false
                }
                let batch = try loader.next()
                input = BlockPipeline.Message(step: state.globalStep + 1, position: loader.position,
                                              viewA: batch.value.viewA, viewB: batch.value.viewB, labels: batch.value.labels)
            } else {
                if shouldStop() { try pipeline.requestStop() }
                guard let message = try pipeline.receive() else {
                    try pipeline.sendStop(step: state.globalStep + 1, position: state.position)
                    try records.finish(pipeline, write: record)
                    return false
                }
                guard message.step == state.globalStep + 1 else {
                    throw DistributedError("block \(k + 1) is at step \(state.globalStep + 1) but received step \(message.step) from the block below")
                }
                input = message
            }
            setup.optimizer.applySchedule(schedule, step: state.phaseStep)
            let loss = try optimiseBlock(input, phase: phase)
            lastLosses[k] = loss
            let rate = advance(to: input.position, clock: &clock, progress: progress, perEpoch: perEpoch, losses: [(k, loss)])
            if state.globalStep % config.log.everySteps == 0 {
                let losses = (0..<pipeline.placement.blocks).map { $0 == k ? loss ?? 0 : 0 }
                let (phaseIndex, step, lr) = (state.phase, state.globalStep, setup.optimizer.parameterGroups[0].lr)
                // The batch's own epoch: after an epoch's last batch the position is the next epoch's start.
                let epoch = input.position.index == 0 ? input.position.epoch - 1 : input.position.epoch
                let owner = MetricsRecord.Owner(plan.mode), memory = ProcessMemory.peakMB()
                records.start(try pipeline.startSum(losses, replicaMean: losses.map { _ in true })) { sums in
                    .step(phase: phaseIndex, epoch: epoch, step: step, owner: owner, loss: sums.map { $0 }, lr: lr,
                          imagesPerSecond: rate, peakMemoryMB: memory)
                }
            }
            try records.writeFinished(pipeline, write: record)
            var checkpointed = false
            if state.position.index == 0 {
                try records.finish(pipeline, write: record)
                checkpointed = try finishEpoch(record: record, epochs: epochs)
                progress = reporter(total: perEpoch, epochs: epochs)
            }
            let everySteps = config.checkpoint.everySteps
            if everySteps > 0, state.globalStep % everySteps == 0, !checkpointed {
                try records.finish(pipeline, write: record)
                try checkpoint()
            }
        }
        try records.finish(pipeline, write: record)
        try pipeline.drain()
        return true
    }

    /// One step of this process's block, its loss and probe score added to the epoch's sums
    /// (this block's share: `epochSums` adds the blocks up).
    private func optimiseBlock(_ input: BlockPipeline.Message, phase: TrainingPhase) throws -> Double? {
        let result: (loss: Double?, probe: OnlineProbe.Score?)
        do {
            result = try setup.optimise(block: input, phase: phase)
        } catch let error as NonFiniteLoss {
            throw TrainingError("\(error) at step \(state.globalStep + 1) (epoch \(state.position.epoch + 1)); the run stops at its last checkpoint")
        }
        let k = setup.placement!.block
        if let loss = result.loss {
            state.lossSums[k] += loss
            state.lossCounts[k] += 1
        }
        if let score = result.probe {
            state.probeCorrect[k] += score.correct
            state.probeSeen[k] += score.labelled
        }
        return result.loss
    }

    /// The epoch's sums over every block's process in a block-parallel run (each holds its
    /// block's share); the state as it stands otherwise.
    func epochSums() throws -> TrainingState {
        guard let pipeline = setup.pipeline else { return state }
        let n = setup.network.partition.count
        let local = state.lossSums + state.lossCounts.map(Double.init) + state.probeCorrect.map(Double.init) + state.probeSeen.map(Double.init)
        // Every replica of a block holds the block's loss whole; probe counts are its shard's.
        let total = try pipeline.sum(local, replicaMean: (0..<(4 * n)).map { $0 < 2 * n })
        var sums = state
        sums.lossSums = Array(total[0..<n])
        sums.lossCounts = total[n..<(2 * n)].map { Int($0.rounded()) }
        sums.probeCorrect = total[(2 * n)..<(3 * n)].map { Int($0.rounded()) }
        sums.probeSeen = total[(3 * n)...].map { Int($0.rounded()) }
        return sums
    }

    /// Rank 0 takes every block's part of the state from the process that trains it, once per
    /// step: the run directory it then writes is the one a one-process run writes.
    func gatherBlocks() throws {
        guard let pipeline = setup.pipeline, gatheredStep != state.globalStep else { return }
        let placement = pipeline.placement
        let parts = try pipeline.gatherParts { try setup.statePart(block: placement.block) }
        for (k, part) in parts.enumerated().dropFirst() {
            try setup.absorb(part: part.tensors, metadata: part.metadata, block: k)
        }
        gatheredStep = state.globalStep
    }
}

extension Trainer {
    /// Every data-parallel replica's noise streams, by replica then block, for rank 0's
    /// checkpoint: each replica draws its own. A block-parallel process holds its block's stream.
    func replicaNoise() throws -> [[Tensor]] {
        guard let dataParallel = setup.dataParallel else { return [] }
        guard let placement = setup.placement else { return try dataParallel.gather(setup.noise.generators.map(\.state)) }
        guard placement.replicas > 1 else { return [] }
        let streams = try dataParallel.gather([setup.noise[placement.block].state])
        return (0..<placement.replicas).map { r in (0..<placement.blocks).map { streams[placement.rank(block: $0, replica: r)][0] } }
    }
}

extension TrainingState {
    /// A block-parallel process's share of a restored state's epoch sums, so that the sums
    /// over the processes (`Trainer.epochSums`) give them back: its block's, held by the
    /// block's first replica (losses times the replicas, which are averaged).
    func share(of placement: BlockPlacement) -> TrainingState {
        var share = self
        let mine = { (k: Int) in k == placement.block && placement.replica == 0 }
        let replicas = Double(placement.replicas)
        share.lossSums = lossSums.indices.map { mine($0) ? lossSums[$0] * replicas : 0 }
        share.lossCounts = lossCounts.indices.map { mine($0) ? lossCounts[$0] * placement.replicas : 0 }
        share.probeCorrect = probeCorrect.indices.map { mine($0) ? probeCorrect[$0] : 0 }
        share.probeSeen = probeSeen.indices.map { mine($0) ? probeSeen[$0] : 0 }
        return share
    }
}

/// Step records waiting for their sums over the blocks, oldest first.
struct PendingRecords {
    private var queue: [(sum: BlockPipeline.PendingSum, record: ([Double]) -> MetricsRecord)] = []

    mutating func start(_ sum: BlockPipeline.PendingSum, record: @escaping ([Double]) -> MetricsRecord) {
        queue.append((sum, record))
    }

    /// Writes the records whose sums are in, in order, without waiting.
    mutating func writeFinished(_ pipeline: BlockPipeline, write: (MetricsRecord) throws -> Void) throws {
        while let first = queue.first, first.sum.isDone { try pop(pipeline, write: write) }
    }

    /// Waits for every sum and writes the records.
    mutating func finish(_ pipeline: BlockPipeline, write: (MetricsRecord) throws -> Void) throws {
        while !queue.isEmpty { try pop(pipeline, write: write) }
    }

    private mutating func pop(_ pipeline: BlockPipeline, write: (MetricsRecord) throws -> Void) throws {
        let (sum, record) = queue.removeFirst()
        try write(record(try sum.finish(pipeline)))
    }
}

import Foundation
import Torch

/// Pretraining: one trainer for every mode of the paper. It runs the phases of the mode's
/// `TrainingPlan` through `TrainingSetup.optimise`, and keeps the run directory up to date
/// (config, metrics, checkpoints, backbone). A run interrupted at any point resumes exactly
/// from its last checkpoint.
///
/// With several processes (`Launch`), every rank trains and rank 0 alone writes the run
/// directory and reports; checkpoints are written at a barrier, and the data position counts
/// global batches, so a run resumes with any number of processes.
public final class Trainer {
    public let setup: TrainingSetup
    public let run: RunDirectory
    /// Rank 0's hold on the run directory: no other process writes it while this trainer lives.
    private let lock: RunLock?
    var state = TrainingState()
    /// Each block's loss at the latest step.
    var lastLosses: [Double?] = []
    /// Block-parallel runs: the step at which rank 0 last gathered every block's state.
    var gatheredStep = -1
    let log: (String) -> Void

    /// What a finished (or stopped) run reports.
    public struct Summary: Sendable {
        public var steps: Int
        public var finalLosses: [Double?]
        public var stoppedEarly: Bool
        public var peakMemoryMB: Double
    }

    /// Sets up a new run of `config` in `run`, a new or empty folder. Everything is checked
    /// before the run directory is created.
    public convenience init(config: Config, run: RunDirectory, launch: Launch = .single,
                            log: @escaping (String) -> Void = { print($0) }) throws {
        // Every rank checks before any joins the group, so none sees rank 0's new run.
        try run.requireNoRun()
        let setup = try TrainingSetup(config: config, launch: launch)
        try setup.loadInitialBlocks()
        let lock = launch.isLeader ? try run.lockNewRun() : nil
        self.init(setup: setup, run: run, lock: lock, log: log)
        if launch.isLeader { try run.create(config: config) }
    }

    /// Continues the run in `run` from its last checkpoint (or, when that is missing or damaged,
    /// the newest step file that reads whole: `Checkpoint.readNewest`), with the run's own
    /// config.yaml, in which `placement` may change the keys of `ConfigSchema.placementKeys`
    /// (how the processes share the work). Every rank reads the run directory: on several
    /// machines it lives on a shared file system.
    public static func resume(run: RunDirectory, launch: Launch = .single, placement: [String] = [],
                              log: @escaping (String) -> Void = { print($0) }) throws -> Trainer {
        var config = try run.config()
        try ConfigSchema.checkResumable(placement)
        for assignment in placement { try config.set(assignment) }
        // Rank 0 takes the run before it reads or cleans anything another writer could be changing.
        let lock = launch.isLeader ? try run.lock() : nil
        if launch.isLeader, !placement.isEmpty { try run.create(config: config) }
        let trainer = Trainer(setup: try TrainingSetup(config: config, launch: launch), run: run, lock: lock, log: log)
        let log = trainer.log
        if launch.isLeader {
            for path in try run.removeTemporaries() { log("removed \(path), left by an interrupted write") }
        }
        if let checkpoint = try Checkpoint.readNewest(run: run, for: trainer.setup, log: log) {
            trainer.state = try Checkpoint.restore(checkpoint, into: trainer.setup)
            if let placement = trainer.setup.placement { trainer.state = trainer.state.share(of: placement) }
            if launch.isLeader { try Checkpoint.setAside(after: trainer.state.globalStep, run: run, log: log) }
            log("resuming \(run.path) at step \(trainer.state.globalStep) from \(checkpoint.path) "
                + "(phase \(trainer.state.phase + 1), \(trainer.state.position))")
        } else {
            // Without a checkpoint the run starts again, loading its initial blocks as a new run does.
            try trainer.setup.loadInitialBlocks()
            log("\(run.path) has no checkpoint yet: starting it again from step 0")
        }
        // Records logged after the checkpoint are logged again as training repeats them.
        if launch.isLeader { try run.rewindLogs(throughStep: trainer.state.globalStep) }
        return trainer
    }

    private init(setup: TrainingSetup, run: RunDirectory, lock: RunLock?, log: @escaping (String) -> Void) {
        self.setup = setup
        self.run = run
        self.lock = lock
        self.log = setup.launch.isLeader ? log : { _ in }
        if let dataParallel = setup.dataParallel {
            // Every rank's one line: the rest is rank 0's to say.
            let role = setup.placement.map { ", \($0)" } ?? ""
            log("\(setup.launch)\(role): \(dataParallel.group.backend.rawValue) on \(setup.device), \(Runtime.threads) thread(s)")
        }
        for note in setup.notes { self.log(note) }
    }

    var isLeader: Bool { setup.launch.isLeader }

    var config: Config { setup.config }
    var plan: TrainingPlan { setup.plan }

    // MARK: Training

    /// Trains to the end of the plan, or until `shouldStop()` turns true (a signal):
    /// then a checkpoint is written and the run can resume.
    public func train(shouldStop: () -> Bool = { false }) throws -> Summary {
        let metrics = isLeader ? try MetricsLog(path: run.metricsPath) : nil
        let events = isLeader ? try TensorBoardWriter(directory: run.tensorboardPath) : nil
        // Every record goes to metrics.jsonl and, as scalars, to the TensorBoard event file.
        let record = { (record: MetricsRecord) throws in
            try metrics?.append(record)
            events?.add(record: record)
        }
        lastLosses = Array(repeating: nil, count: setup.network.partition.count)
        while state.phase < plan.phases.count {
            let finished = try setup.pipeline.map { try trainPipelinedPhase($0, record: record, shouldStop: shouldStop) }
                ?? trainPhase(record: record, shouldStop: shouldStop)
            guard finished else {
                let path = try checkpoint()
                log("stopped at step \(state.globalStep); checkpoint \(path); resume with --resume \(run.path)")
                return Summary(steps: state.globalStep, finalLosses: lastLosses, stoppedEarly: true,
                               peakMemoryMB: ProcessMemory.peakMB())
            }
            state.phase += 1
            state.phaseStep = 0
            state.position = DataPosition()
            resetEpochSums()
        }
        try saveBackbone()
        try checkpoint()
        if let pipeline = setup.pipeline { lastLosses = try pipeline.blockLosses(lastLosses) }
        return Summary(steps: state.globalStep, finalLosses: lastLosses, stoppedEarly: false, peakMemoryMB: ProcessMemory.peakMB())
    }

    /// Trains the current phase from where the state stands to its end; false when stopped early.
    private func trainPhase(record: (MetricsRecord) throws -> Void, shouldStop: () -> Bool) throws -> Bool {
        let phase = plan.phases[state.phase]
        let epochs = config.training.epochs
        let perEpoch = try setup.epochPlan().batchesPerEpoch
        let totalSteps = perEpoch * epochs
        let schedule = setup.schedule(stepsPerEpoch: perEpoch, totalSteps: totalSteps)
        let loader = try setup.loader(phase: state.phase, start: state.position)
        defer { loader.stop() }
        if state.lossSums.isEmpty { resetEpochSums() }
        var progress = reporter(total: perEpoch, epochs: epochs)
        var clock = Date()
        while state.phaseStep < totalSteps {
            // Every rank stops at the same step, or the others would wait for it.
            if try setup.dataParallel?.anyRank(shouldStop()) ?? shouldStop() { return false }
            let batch = try loader.next()
            setup.optimizer.applySchedule(schedule, step: state.phaseStep)
            let losses = try optimise(batch.value, phase: phase, position: batch.position)
            lastLosses = losses
            let rate = advance(to: loader.position, clock: &clock, progress: progress, perEpoch: perEpoch,
                               losses: Array(losses.enumerated()))
            if state.globalStep % config.log.everySteps == 0 {
                try record(.step(phase: state.phase, epoch: batch.position.epoch, step: state.globalStep,
                                 owner: MetricsRecord.Owner(plan.mode), loss: losses, lr: setup.optimizer.parameterGroups[0].lr,
                                 imagesPerSecond: rate, peakMemoryMB: ProcessMemory.peakMB()))
            }
            // An epoch ends before any checkpoint, so a checkpoint never holds a finished epoch's sums.
            var checkpointed = false
            if state.position.index == 0 {
                checkpointed = try finishEpoch(record: record, epochs: epochs)
                progress = reporter(total: perEpoch, epochs: epochs)
            }
            let everySteps = config.checkpoint.everySteps
            if everySteps > 0, state.globalStep % everySteps == 0, !checkpointed { try checkpoint() }
        }
        return true
    }

    /// Counts a finished step, the data now at `position`, and shows its losses (block, loss)
    /// on the progress bar; returns the step's images per second.
    func advance(to position: DataPosition, clock: inout Date, progress: ProgressReporter?, perEpoch: Int,
                 losses: [(offset: Int, element: Double?)]) -> Double {
        state.phaseStep += 1
        state.globalStep += 1
        state.position = position
        let elapsed = Date().timeIntervalSince(clock)
        clock = Date()
        let rate = Double(config.data.batchSize) / max(elapsed, 1e-9)
        progress?.update(done: position.index == 0 ? perEpoch : position.index, rate: rate,
                         fields: losses.compactMap { k, l in l.map { (lossLabel(k), String(format: "%.3f", $0)) } })
        return rate
    }

    /// One optimisation step, its losses and probe scores added to the epoch's sums. Returns
    /// each block's loss (nil where the phase computes none).
    func optimise(_ batch: TwoViewBatch, phase: TrainingPhase, position: DataPosition) throws -> [Double?] {
        let result: TrainingSetup.StepResult
        do {
            result = try setup.optimise(batch, phase: phase, position: position)
        } catch let error as NonFiniteLoss {
            let last = FileManager.default.fileExists(atPath: run.checkpointsPath + "/last.safetensors")
                ? run.checkpointsPath + "/last.safetensors" : "none yet"
            throw TrainingError("\(error) at step \(state.globalStep + 1) (epoch \(state.position.epoch + 1)); last good checkpoint: \(last)")
        }
        for (k, loss) in result.losses.enumerated() {
            guard let loss else { continue }
            state.lossSums[k] += loss
            state.lossCounts[k] += 1
        }
        for (k, score) in result.probe {
            state.probeCorrect[k] += score.correct
            state.probeSeen[k] += score.labelled
        }
        return result.losses
    }

    /// A loss's name on the console: the block's, or the network's in end-to-end modes.
    func lossLabel(_ k: Int) -> String { plan.mode.isEndToEnd ? "net" : "b\(k + 1)" }

    private func label(epoch: Int, of epochs: Int) -> String {
        let block = plan.phases.count > 1 ? "block \(state.phase + 1) " : ""
        return "\(block)epoch \(min(epoch + 1, epochs))/\(epochs)"
    }

    func resetEpochSums() {
        let n = setup.network.partition.count
        state.lossSums = Array(repeating: 0, count: n)
        state.lossCounts = Array(repeating: 0, count: n)
        state.probeCorrect = Array(repeating: 0, count: n)
        state.probeSeen = Array(repeating: 0, count: n)
    }

    /// Logs and resets the epoch's means, saves the backbone, and writes the epoch's checkpoint
    /// when one is due; returns whether it wrote one.
    func finishEpoch(record: (MetricsRecord) throws -> Void, epochs: Int) throws -> Bool {
        // The epoch's difficulties route the next one.
        setup.routing?.endEpoch()
        let sums = try epochSums()
        let means = zip(sums.lossSums, sums.lossCounts).map { $1 > 0 ? $0 / Double($1) : nil }
        let probe = zip(sums.probeCorrect, sums.probeSeen).map { $1 > 0 ? Double($0) / Double($1) : nil }
        try record(.epoch(phase: state.phase, epoch: state.position.epoch, step: state.globalStep,
                          owner: MetricsRecord.Owner(plan.mode), loss: means, onlineProbeTop1: probe,
                          skippedImages: setup.dataset.skippedImageCount))
        let summary = means.enumerated().compactMap { k, m in m.map { lossLabel(k) + String(format: " %.4f", $0) } }
        log("epoch \(state.position.epoch)/\(epochs)\(plan.phases.count > 1 ? " (block \(state.phase + 1))" : ""): loss "
            + summary.joined(separator: "  ")
            + (setup.probe == nil ? "" : "  online probe " + probe.compactMap { $0.map { String(format: "%.3f", $0) } }.joined(separator: " ")))
        if let skipped = setup.dataset.skippedImageCount, skipped > 0 { log("skipped \(skipped) unreadable image(s) of \(setup.dataset.name) so far") }
        resetEpochSums()
        try saveBackbone()
        let every = config.checkpoint.everyEpochs
        guard every > 0, state.position.epoch % every == 0 else { return false }
        try checkpoint()
        return true
    }

    /// Rank 0's progress bar; the other ranks report nothing.
    func reporter(total: Int, epochs: Int) -> ProgressReporter? {
        isLeader ? ProgressReporter(total: total, label: label(epoch: state.position.epoch, of: epochs)) : nil
    }

    /// Rank 0 writes the backbone (in a block-parallel run, once it has every block's weights).
    func saveBackbone() throws {
        try gatherBlocks()
        if isLeader { try setup.network.backbone.save(safetensors: run.backbonePath) }
    }

    /// Rank 0 writes the checkpoint (every rank holds the same weights; in a block-parallel
    /// run, rank 0 first gathers each block's part); no rank goes on before it is complete.
    @discardableResult
    func checkpoint() throws -> String {
        try gatherBlocks()
        let sums = try epochSums()
        let noise = try replicaNoise()
        let path = isLeader ? try Checkpoint.write(run: run, state: sums, setup: setup, keep: config.checkpoint.keep,
                                                   replicaNoise: noise) : ""
        try setup.dataParallel?.barrier()
        return path
    }
}

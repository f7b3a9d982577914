import Foundation
import Torch

/// Pretraining: one trainer for every mode of the paper. It reads a configuration, builds the
/// model, data and optimizer, runs the phases of the mode's `TrainingPlan` through
/// `BlockwiseStep`, and keeps the run directory up to date (config, metrics, checkpoints,
/// backbone). A run interrupted at any point resumes exactly from its last checkpoint.
public final class Trainer {
    public let config: Config
    public let run: RunDirectory
    public let device: Device
    let dataset: any ImageDataset
    let network: BlockwiseNetwork
    let step: BlockwiseStep
    let plan: TrainingPlan
    let optimizer: Optimizer
    let probe: OnlineProbe?
    let probeOptimizer: Optimizer?
    let noiseGenerator: Generator
    var state = TrainingState()
    let log: (String) -> Void

    /// What a finished (or stopped) run reports.
    public struct Summary: Sendable {
        public var steps: Int
        public var finalLosses: [Double?]
        public var stoppedEarly: Bool
        public var peakMemoryMB: Double
    }

    /// Sets up a new run in `run` (which must not hold a run yet), or resumes the run there
    /// when `resume` is true (its own config.yaml is used then).
    public init(config: Config, run: RunDirectory, resume: Bool = false, log: @escaping (String) -> Void = { print($0) }) throws {
        self.run = run
        self.log = log
        if resume {
            self.config = try run.config()
        } else {
            if FileManager.default.fileExists(atPath: run.configPath) {
                throw RunError("\(run.path) already holds a run: resume it with --resume \(run.path), or choose another --out")
            }
            self.config = config
        }
        let config = self.config
        let threads = config.int("run.threads")
        if threads > 0 { Runtime.threads = threads }
        guard let device = Device(config.string("run.device")) else {
            throw RunError("run.device: expected cpu, cuda, cuda:N or auto, got \(config.string("run.device"))")
        }
        if device.isCUDA, Runtime.cudaDeviceCount == 0 { throw RunError("run.device is \(device) but no CUDA device is available") }
        self.device = device
        let seed = UInt64(config.int("run.seed"))

        let spec: DatasetSpec
        do { spec = try DatasetSpec(parsing: config.string("data.dataset")) } catch { throw RunError("data.dataset: \(error)") }
        dataset = try spec.load(split: spec.kind == .stl10 ? .pretrain : .train)
        guard config.int("data.batch_size") <= dataset.count else {
            throw RunError("data.batch_size \(config.int("data.batch_size")) is larger than \(dataset.name) (\(dataset.count) images)")
        }
        let mode = try ModelFactory.trainingMode(config)
        let labelled = dataset.classCount > 0
        if mode.isSupervised, !labelled {
            throw RunError("\(dataset.name) has no labels, which \(mode.rawValue) training with cross-entropy needs")
        }
        let initGenerator = Generator(seed: seed)
        network = try ModelFactory.network(config, classes: labelled ? dataset.classCount : nil, generator: initGenerator)
        let blocks = network.partition.count
        let checkpoint = resume ? try Checkpoint.readLast(run: run) : nil
        // A checkpoint holds every weight: the init-from source is only read for a new run.
        let loaded = checkpoint == nil
            ? try Trainer.initialiseFromOtherRun(config, network: network)
            : Trainer.loadedBlocks(config)
        plan = try TrainingPlan(mode: mode, blocks: blocks, trainedBlock: config.int("training.trained_block"),
                                lowerBatchNormTrains: config.bool("training.lower_bn_train"),
                                loadedFrozen: config.bool("training.init_frozen") ? loaded : [])
        step = BlockwiseStep(network: network, objectives: try ModelFactory.objectives(config, blocks: blocks),
                             recompute: config.bool("training.recompute"))
        network.to(device: device)

        let scale = Double(config.int("data.batch_size")) / 256
        let groups = ParameterGroup.weightsAndBiases(
            network.parameters(), weightLR: config.double("optimizer.lr_weights") * scale,
            biasLR: config.double("optimizer.lr_biases") * scale, weightDecay: config.double("optimizer.weight_decay"))
        switch config.string("optimizer.name") {
        case "sgd": optimizer = SGD(groups: groups, momentum: config.double("optimizer.momentum"))
        case "adamw": optimizer = AdamW(groups: groups)
        default: optimizer = LARS(groups: groups, momentum: config.double("optimizer.momentum"), eta: config.double("optimizer.eta"))
        }
        if config.bool("training.online_probe"), labelled {
            let channels = network.backbone.channels(of: network.partition)
            let probe = OnlineProbe(channels: channels, classes: dataset.classCount, generator: Generator(seed: seed &+ 1))
            probe.to(device: device)
            self.probe = probe
            probeOptimizer = SGD(probe.parameters(), lr: 0.1, momentum: 0.9)
        } else {
            probe = nil
            probeOptimizer = nil
        }
        noiseGenerator = Generator(seed: seed &+ 2, device: device)

        if let checkpoint {
            try restore(checkpoint)
            log("resuming \(run.path) at step \(state.globalStep) (phase \(state.phase + 1), \(state.position))")
        } else if resume {
            log("\(run.path) has no checkpoint yet: starting it again from step 0")
        }
        if resume {
            // Records logged after the checkpoint are logged again as training repeats them.
            try MetricsLog.rewind(path: run.metricsPath, throughStep: state.globalStep)
        } else {
            try run.create(config: config)
        }
    }

    /// The blocks (from 0) that training.init_from provides, without reading it.
    static func loadedBlocks(_ config: Config) -> Set<Int> {
        config.string("training.init_from").isEmpty ? [] : Set(config.ints("training.init_blocks").map { $0 - 1 })
    }

    /// Loads the blocks named in training.init_blocks from training.init_from (a run directory or
    /// a backbone .safetensors) and returns their indices (from 0).
    static func initialiseFromOtherRun(_ config: Config, network: BlockwiseNetwork) throws -> Set<Int> {
        let source = config.string("training.init_from")
        guard !source.isEmpty else { return [] }
        let path = source.hasSuffix(".safetensors") ? source : RunDirectory(source).backbonePath
        let weights = try SafeTensors.read(contentsOf: path).tensors
        var loaded: Set<Int> = []
        for block in config.ints("training.init_blocks") {
            guard block <= network.partition.count else {
                throw RunError("training.init_blocks: block \(block) does not exist; the partition has \(network.partition.count) blocks")
            }
            let stages = network.partition.blocks[block - 1]
            let owned = weights.filter { name, _ in
                (stages.contains(1) && (name.hasPrefix("conv1.") || name.hasPrefix("bn1.")))
                    || stages.contains { name.hasPrefix("layer\($0).") }
            }
            let prefixed = Dictionary(uniqueKeysWithValues: owned.map { ("backbone." + $0.key, $0.value) })
            let result = try network.load(stateDict: prefixed, strict: false)
            let required = { (name: String) in
                (stages.contains(1) && (name.hasPrefix("backbone.conv1.") || name.hasPrefix("backbone.bn1.")))
                    || stages.contains { name.hasPrefix("backbone.layer\($0).") }
            }
            if !result.missing.filter(required).isEmpty {
                throw RunError("\(path): block \(block) is incomplete: missing \(result.missing.prefix(3).joined(separator: ", "))")
            }
            loaded.insert(block - 1)
        }
        return loaded
    }

    private func restore(_ checkpoint: Checkpoint.Contents) throws {
        do {
            _ = try network.load(stateDict: Checkpoint.tensors(checkpoint, prefix: "model."))
            try optimizer.load(stateDict: checkpoint.optimizer)
            if let probe, let probeOptimizer {
                _ = try probe.load(stateDict: Checkpoint.tensors(checkpoint, prefix: "probe."))
                try probeOptimizer.load(stateDict: checkpoint.probeOptimizer)
            }
            if let noise = checkpoint.tensors["rng.noise"] { noiseGenerator.state = noise }
        } catch {
            throw RunError("\(run.checkpointsPath)/last.safetensors does not fit this run: \(error)")
        }
        state = checkpoint.state
    }

    // MARK: Training

    /// Trains to the end of the plan, or until `shouldStop()` turns true (a signal):
    /// then a checkpoint is written and the run can resume.
    public func train(shouldStop: () -> Bool = { false }) throws -> Summary {
        let metrics = try MetricsLog(path: run.metricsPath)
        let events = try TensorBoardWriter(directory: run.tensorboardPath)
        // Every record goes to metrics.jsonl and, as scalars, to the TensorBoard event file.
        let record = { (record: MetricsRecord) throws in
            try metrics.append(record)
            events.add(record: record)
        }
        let batchSize = config.int("data.batch_size")
        let epochs = config.int("training.epochs")
        var lastLosses: [Double?] = Array(repeating: nil, count: network.partition.count)
        while state.phase < plan.phases.count {
            let phase = plan.phases[state.phase]
            let epochPlan = try EpochPlan(count: dataset.count, batchSize: batchSize, seed: UInt64(config.int("run.seed")))
            let perEpoch = epochPlan.batchesPerEpoch
            let totalSteps = perEpoch * epochs
            let schedule = makeSchedule(stepsPerEpoch: perEpoch, totalSteps: totalSteps)
            let augmentation = try makeAugmentation()
            let loader = try DataLoader(dataset: dataset, plan: epochPlan, augmentation: augmentation, device: device,
                                        start: state.position, prefetch: config.int("data.prefetch"))
            defer { loader.stop() }
            if state.lossSums.isEmpty { resetEpochSums() }
            var progress = ProgressReporter(total: perEpoch, label: label(epoch: state.position.epoch, of: epochs))
            var clock = Date()
            while state.phaseStep < totalSteps {
                if shouldStop() {
                    let path = try checkpoint()
                    log("stopped at step \(state.globalStep); checkpoint \(path); resume with --resume \(run.path)")
                    return Summary(steps: state.globalStep, finalLosses: lastLosses, stoppedEarly: true,
                                   peakMemoryMB: ProcessMemory.peakMB())
                }
                let batch = try loader.next()
                optimizer.applySchedule(schedule, step: state.phaseStep)
                let losses = try optimise(batch.value, phase: phase)
                lastLosses = losses
                state.phaseStep += 1
                state.globalStep += 1
                state.position = loader.position
                let elapsed = Date().timeIntervalSince(clock)
                clock = Date()
                let rate = Double(batchSize) / max(elapsed, 1e-9)
                progress.update(done: state.position.index == 0 ? perEpoch : state.position.index, rate: rate,
                                fields: losses.enumerated().compactMap { k, l in l.map { ("b\(k + 1)", String(format: "%.3f", $0)) } })
                if state.globalStep % config.int("log.every_steps") == 0 {
                    try record(.step(phase: state.phase, epoch: batch.position.epoch, step: state.globalStep,
                                     owner: MetricsRecord.Owner(plan.mode), loss: losses, lr: optimizer.parameterGroups[0].lr,
                                     imagesPerSecond: rate, peakMemoryMB: ProcessMemory.peakMB()))
                }
                // An epoch ends before any checkpoint, so a checkpoint never holds a finished epoch's sums.
                var checkpointed = false
                if state.position.index == 0 {
                    checkpointed = try finishEpoch(record: record, epochs: epochs)
                    progress = ProgressReporter(total: perEpoch, label: label(epoch: state.position.epoch, of: epochs))
                }
                let everySteps = config.int("checkpoint.every_steps")
                if everySteps > 0, state.globalStep % everySteps == 0, !checkpointed { try checkpoint() }
            }
            state.phase += 1
            state.phaseStep = 0
            state.position = DataPosition()
            resetEpochSums()
        }
        try network.backbone.save(safetensors: run.backbonePath)
        try checkpoint()
        return Summary(steps: state.globalStep, finalLosses: lastLosses, stoppedEarly: false, peakMemoryMB: ProcessMemory.peakMB())
    }

    /// One optimisation step on a batch: forward and backward of every trained block, the
    /// optimizer step, and the online probe's step. Returns each block's loss (nil where the
    /// phase computes none) after checking that every loss is finite.
    func optimise(_ batch: TwoViewBatch, phase: TrainingPhase) throws -> [Double?] {
        let labels = batch.labels.to(device)
        let result = step.run(batch.viewA, batch.viewB, labels: labels, phase: phase, generator: noiseGenerator)
        var losses: [Double?] = Array(repeating: nil, count: network.partition.count)
        for (k, loss) in result.losses {
            let value = loss.item()
            guard value.isFinite else {
                let last = FileManager.default.fileExists(atPath: run.checkpointsPath + "/last.safetensors")
                    ? run.checkpointsPath + "/last.safetensors" : "none yet"
                throw TrainingError("the loss of block \(k + 1) is \(value) at step \(state.globalStep + 1) (epoch \(state.position.epoch + 1)); last good checkpoint: \(last)")
            }
            losses[k] = value
            if !state.lossSums.isEmpty {
                state.lossSums[k] += value
                state.lossCounts[k] += 1
            }
        }
        optimizer.step()
        optimizer.zeroGrad()
        if let probe, let probeOptimizer {
            let outputs = Dictionary(uniqueKeysWithValues: result.outputs.map { ($0.key, $0.value.0) })
            for (k, correct) in probe.fit(outputs: outputs, labels: labels) where !state.probeSeen.isEmpty {
                state.probeCorrect[k] += correct
                state.probeSeen[k] += labels.size(0)
            }
            probeOptimizer.step()
            probeOptimizer.zeroGrad()
        }
        return losses
    }

    /// Times `steps` optimisation steps of the first phase after `warmup` untimed ones, with
    /// batches from the loader (`loadData`) or one batch reused (the step alone). Returns
    /// images per second, the peak resident memory during the timed steps, and the resident
    /// memory before them (weights, optimizer state, data): peak − baseline is what the steps add.
    public func benchmark(steps: Int, warmup: Int = 2, loadData: Bool) throws
        -> (imagesPerSecond: Double, peakMemoryMB: Double, baselineMemoryMB: Double)
    {
        let batchSize = config.int("data.batch_size")
        let plan = try EpochPlan(count: dataset.count, batchSize: batchSize, seed: UInt64(config.int("run.seed")))
        let loader = try DataLoader(dataset: dataset, plan: plan, augmentation: try makeAugmentation(), device: device,
                                    prefetch: config.int("data.prefetch"))
        defer { loader.stop() }
        let first = try loader.next().value
        let phase = self.plan.phases[0]
        for _ in 0..<warmup { _ = try optimise(loadData ? try loader.next().value : first, phase: phase) }
        Runtime.synchronize(device)
        ProcessMemory.resetPeak()
        let baseline = ProcessMemory.currentMB()
        let start = Date()
        for _ in 0..<steps { _ = try optimise(loadData ? try loader.next().value : first, phase: phase) }
        Runtime.synchronize(device)
        let seconds = Date().timeIntervalSince(start)
        return (Double(steps * batchSize) / seconds, ProcessMemory.peakMB(), baseline)
    }

    private func label(epoch: Int, of epochs: Int) -> String {
        let block = plan.phases.count > 1 ? "block \(state.phase + 1) " : ""
        return "\(block)epoch \(min(epoch + 1, epochs))/\(epochs)"
    }

    private func resetEpochSums() {
        let n = network.partition.count
        state.lossSums = Array(repeating: 0, count: n)
        state.lossCounts = Array(repeating: 0, count: n)
        state.probeCorrect = Array(repeating: 0, count: n)
        state.probeSeen = Array(repeating: 0, count: n)
    }

    /// Logs and resets the epoch's means, saves the backbone, and writes the epoch's checkpoint
    /// when one is due; returns whether it wrote one.
    private func finishEpoch(record: (MetricsRecord) throws -> Void, epochs: Int) throws -> Bool {
        let means = zip(state.lossSums, state.lossCounts).map { $1 > 0 ? $0 / Double($1) : nil }
        let probe = zip(state.probeCorrect, state.probeSeen).map { $1 > 0 ? Double($0) / Double($1) : nil }
        try record(.epoch(phase: state.phase, epoch: state.position.epoch, step: state.globalStep,
                          owner: MetricsRecord.Owner(plan.mode), loss: means, onlineProbeTop1: probe))
        let summary = means.enumerated().compactMap { k, m in m.map { String(format: "b%d %.4f", k + 1, $0) } }
        log("epoch \(state.position.epoch)/\(epochs)\(plan.phases.count > 1 ? " (block \(state.phase + 1))" : ""): loss "
            + summary.joined(separator: "  ")
            + (self.probe == nil ? "" : "  online probe " + probe.compactMap { $0.map { String(format: "%.3f", $0) } }.joined(separator: " ")))
        resetEpochSums()
        try network.backbone.save(safetensors: run.backbonePath)
        let every = config.int("checkpoint.every_epochs")
        guard every > 0, state.position.epoch % every == 0 else { return false }
        try checkpoint()
        return true
    }

    @discardableResult
    private func checkpoint() throws -> String {
        try Checkpoint.write(run: run, state: state, network: network, optimizer: optimizer, probe: probe,
                             probeOptimizer: probeOptimizer, noise: noiseGenerator, keep: config.int("checkpoint.keep"))
    }

    private func makeSchedule(stepsPerEpoch: Int, totalSteps: Int) -> any LearningRateSchedule {
        switch config.string("optimizer.schedule") {
        case "constant":
            return Constant(1)
        case "step":
            return StepDecay(base: 1, milestones: [totalSteps / 2, totalSteps * 3 / 4], gamma: 0.1)
        default:
            let warmup = min(totalSteps - 1, Int((config.double("optimizer.warmup_epochs") * Double(stepsPerEpoch)).rounded()))
            return WarmupCosine(base: 1, warmupSteps: max(0, warmup), totalSteps: totalSteps,
                                floorFactor: config.double("optimizer.final_lr_factor"))
        }
    }

    /// The views of the current phase: Barlow Twins' pair, none, or (adaptive augmentation,
    /// sequential mode) the recipe of the block being trained (paper App. A).
    private func makeAugmentation() throws -> TwoViewAugmentation {
        let side = config.int("data.image_size")
        var augmentation = TwoViewAugmentation.barlowTwins(for: dataset, side: side)
        if config.string("data.augmentation") == "none" {
            augmentation.viewA = .identity
            augmentation.viewB = .identity
        }
        if config.bool("data.adaptive_augmentation") {
            guard plan.mode == .sequential else {
                throw RunError("data.adaptive_augmentation gives each block its own views, which needs training.mode sequential (as in the paper's App. A)")
            }
            let recipes = BlockAugmentations.paperAppendixA(side: side, normalization: augmentation.normalization).perBlock
            let block = plan.phases[state.phase].trainedBlocks[0]
            return recipes[min(block, recipes.count - 1)]
        }
        return augmentation
    }
}

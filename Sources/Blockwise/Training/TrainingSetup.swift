import Torch

/// Everything a run trains with, built from its typed configuration in one place: the device,
/// the dataset, the network (backbone, heads, projectors, noise), each block's objective, the
/// mode's plan and step, the optimizer, the online probe and, per phase, the learning-rate
/// schedule and the two-view loader. Every check of the configuration against the data and
/// the network happens here, before a run directory is touched. `Trainer` and the benchmarks
/// share it, and `optimise` is the one optimisation step they run. Under a launcher of
/// several processes it joins their group and trains data-parallel (`DataParallel`) or, with
/// `distributed.strategy: blocks`, one block per process (`BlockPipeline`, `optimise(block:)`).
public final class TrainingSetup {
    public let config: Config
    public let launch: Launch
    /// The exchanges with the other processes; nil in a one-process run.
    public let dataParallel: DataParallel?
    /// Block-parallel runs: this process's block and replica, and the exchanges between blocks.
    public let placement: BlockPlacement?
    let pipeline: BlockPipeline?
    public let device: Device
    public let dataset: any ImageDataset
    public let network: BlockwiseNetwork
    public let plan: TrainingPlan
    public internal(set) var step: BlockwiseStep
    public let optimizer: Optimizer
    public let probe: OnlineProbe?
    /// The noise injected into block outputs, a stream per block: saved in checkpoints so a
    /// resume draws the same. Each data-parallel replica draws its own; the first's are saved.
    public let noise: NoiseStreams
    /// Each block's parameters, in one order on every rank: what data-parallel training
    /// averages after the block's backward.
    let blockParameters: [[Tensor]]
    /// Difficulty-based routing (`training.routing`); nil when every example trains every block.
    public let routing: Routing?
    /// Blocks (from 0) that `training.init_from` provides.
    public let loadedBlocks: Set<Int>
    /// What the set-up chose that a user should know (e.g. which images a supervised mode reads).
    public private(set) var notes: [String] = []

    public init(config: Config, launch: Launch = .single) throws {
        self.config = config
        self.launch = launch
        if config.run.threads > 0 {
            Runtime.threads = config.run.threads
        } else if launch.localWorldSize > 1 {
            // The processes of a machine share its cores.
            Runtime.threads = max(1, Runtime.coreCount / launch.localWorldSize)
        }
        device = config.run.device.resolved(localRank: launch.localRank)
        if case .cuda(let index) = device, index >= Runtime.cudaDeviceCount {
            throw RunError("run.device is \(device) but \(Runtime.cudaDeviceCount) CUDA device(s) are available")
        }
        let partition = config.trainingPartition
        placement = config.distributed.strategy == .blocks && launch.isDistributed
            ? try BlockPlacement(blocks: partition.count, rank: launch.rank, worldSize: launch.worldSize) : nil
        let shards = placement?.replicas ?? launch.worldSize
        guard config.data.batchSize % shards == 0 else {
            throw RunError("data.batch_size \(config.data.batchSize) is the global batch: it must divide evenly among the \(shards) "
                + (placement == nil ? "processes" : "replicas of each block"))
        }
        if launch.isDistributed {
            let dataParallel = try DataParallel(launch: launch, backend: device.isCUDA ? .nccl : .gloo,
                                                timeout: config.run.timeoutSeconds, placement: placement)
            try dataParallel.checkSameConfiguration(config.yaml())
            self.dataParallel = dataParallel
        } else {
            dataParallel = nil
        }
        if let placement, let dataParallel {
            pipeline = BlockPipeline(placement: placement, dataParallel: dataParallel, maxInFlight: config.distributed.maxInFlight,
                                     device: device)
        } else {
            pipeline = nil
        }
        let group = dataParallel?.replicaGroup
        let seed = UInt64(config.run.seed)
        let mode = config.training.mode

        // Supervised modes read only labelled images; self-supervised ones also the unlabelled (STL-10).
        let spec = config.data.dataset
        dataset = try spec.load(split: mode.isSupervised ? .train : .pretrain)
        if mode.isSupervised, spec.kind == .stl10 {
            notes.append("\(mode.rawValue) trains on the \(dataset.count) labelled images of \(dataset.name); STL-10's unlabelled images need a self-supervised mode")
        }
        guard config.data.batchSize <= dataset.count else {
            throw RunError("data.batch_size \(config.data.batchSize) is larger than \(dataset.name) (\(dataset.count) images)")
        }
        let classes = dataset.classCount > 0 ? dataset.classCount : nil
        if mode.isSupervised, classes == nil {
            throw RunError("\(dataset.name) has no labels, which \(mode.rawValue) training with cross-entropy needs")
        }

        network = try Self.network(config.model, partition: partition, mode: mode, classes: classes,
                                   generator: Generator(seed: seed))
        for head in network.heads { head.fused = config.model.fusedHead }
        network.memoryFormat = config.activationMemoryFormat
        if let group {
            let synchronized: [Module] = config.training.syncBatchNorm ? [network] : network.projectors
            for module in synchronized.flatMap({ $0.modules() }) { (module as? BatchNorm)?.processGroup = group }
        }
        loadedBlocks = try Self.loadedBlocks(config.training, partition: partition)
        plan = try TrainingPlan(mode: mode, blocks: partition.count, trainedBlock: config.training.trainedBlock,
                                lowerBatchNormTrains: config.training.lowerBatchNormTrains,
                                loadedFrozen: config.training.initFrozen ? loadedBlocks : [])
        if config.data.adaptiveAugmentation, mode != .sequential {
            throw RunError("data.adaptive_augmentation gives each block its own views, which needs training.mode sequential (as in the paper's App. A)")
        }
        if let placement { try Self.checkPipelined(plan, placement: placement) }
        step = BlockwiseStep(network: network, objectives: try Self.objectives(config, blocks: partition.count, group: group),
                             recompute: config.training.recompute, precision: config.training.precision.autocast)
        if let placement {
            // The device holds this process's block; the others' weights stay in host memory.
            for module in network.modules(ofBlock: placement.block) { module.to(device: device) }
        } else {
            network.to(device: device)
        }
        blockParameters = partition.blocks.indices.map(network.parameters(ofBlock:))
        optimizer = try Self.optimizer(config, parameters: network.parameters())
        if config.training.onlineProbe, let classes {
            probe = OnlineProbe(channels: network.backbone.channels(of: partition), classes: classes,
                                generator: Generator(seed: seed &+ 1))
            probe?.to(device: device)
        } else {
            probe = nil
        }
        routing = try Routing(config, plan: plan, objectives: step.objectives, count: dataset.count, launch: launch)
        // Each replica draws the noise of its own shard from streams of its own.
        noise = NoiseStreams(seed: seed, blocks: partition.count, replica: placement?.replica ?? launch.rank, device: device)
    }

    /// The sample order of every epoch, and this rank's shard of each global batch (in a
    /// block-parallel run, its replica's).
    public func epochPlan() throws -> EpochPlan {
        let shards = placement?.replicas ?? launch.worldSize
        return try EpochPlan(count: dataset.count, batchSize: config.data.batchSize / shards, seed: UInt64(config.run.seed),
                             rank: placement?.replica ?? launch.rank, worldSize: shards)
    }

    /// Batches of two views for `phase` (an index into `plan.phases`), from `start` on.
    public func loader(phase: Int, start: DataPosition = DataPosition()) throws -> DataLoader<TwoViewBatch> {
        try DataLoader(dataset: dataset, plan: try epochPlan(), augmentation: augmentation(phase: phase), device: device,
                       start: start, prefetch: config.data.prefetch)
    }

    /// The views of a phase: Barlow Twins' pair, identical views, or (adaptive augmentation,
    /// sequential mode) the recipe of the block being trained (paper App. A).
    func augmentation(phase: Int) -> TwoViewAugmentation {
        let side = config.data.imageSize
        var augmentation = TwoViewAugmentation.barlowTwins(for: dataset, side: side)
        switch config.data.augmentation {
        case .barlowTwins: break
        case .none:
            augmentation.viewA = .identity
            augmentation.viewB = .identity
        }
        guard config.data.adaptiveAugmentation else { return augmentation }
        let recipes = BlockAugmentations.paperAppendixA(side: side, normalization: augmentation.normalization).perBlock
        let block = plan.phases[phase].trainedBlocks[0]
        return recipes[min(block, recipes.count - 1)]
    }

    /// The learning rate of a phase of `totalSteps` steps, as a factor of the base rates.
    public func schedule(stepsPerEpoch: Int, totalSteps: Int) -> any LearningRateSchedule {
        switch config.schedule.name {
        case .constant:
            return Constant(1)
        case .step:
            return StepDecay(base: 1, milestones: [totalSteps / 2, totalSteps * 3 / 4], gamma: 0.1)
        case .warmupCosine:
            let warmup = min(totalSteps - 1, Int((config.schedule.warmupEpochs * Double(stepsPerEpoch)).rounded()))
            return WarmupCosine(base: 1, warmupSteps: max(0, warmup), totalSteps: totalSteps,
                                floorFactor: config.schedule.finalLRFactor)
        }
    }

    /// What one step did: each trained block's loss (the mean over ranks), and the online
    /// probe's score per block (summed over ranks).
    public struct StepResult {
        public var losses: [Double?]
        public var probe: [Int: OnlineProbe.Score]
    }

    /// One optimisation step on a batch: forward and backward of every trained block (each
    /// block's gradients averaged over ranks as soon as its backward ends), the optimizer step,
    /// and the online probe's step. A non-finite loss stops it before any weight changes.
    /// Under routing, `position` (the batch's place in its epoch) says which examples it holds.
    public func optimise(_ batch: TwoViewBatch, phase: TrainingPhase, position: DataPosition? = nil) throws -> StepResult {
        step.profile?.beginStep()
        let labels = batch.labels.to(device)
        let indices = try routing == nil ? nil : position.map { try epochPlan().batch(epoch: $0.epoch, index: $0.index) }
        let routed = indices.map { routing!.weights(for: $0, trained: phase.trainedBlocks) }
        let result = try step.run(batch.viewA, batch.viewB, labels: labels, phase: phase, noise: noise, routing: routed,
                                  afterForward: { _, _, _ in }) { k in
            try dataParallel?.startAveraging(blockParameters[k])
        }
        if let indices, let measured = result.difficulty {
            routing?.record(indices: measured.rows.map { indices[$0] }, difficulties: measured.values)
        }
        var scores: [Int: OnlineProbe.PendingScore] = [:]
        if let probe {
            // Blocks that routing gave part of the batch are scored on that part.
            for (k, output) in result.outputs {
                let own = result.rows[k].map {
                    batch.labels.indexSelect(dim: 0, index: Tensor($0.map(Int64.init), device: batch.labels.device))
                } ?? batch.labels
                scores.merge(probe.fit(outputs: [k: output.0], labels: own)) { a, _ in a }
            }
        }
        step.profile?.mark(nil, .probe)
        if let probe { try dataParallel?.startAveraging(probe.parameters()) }
        try dataParallel?.finishAveraging()
        let (losses, totals) = try reduced(losses: result.losses, scores: scores)
        step.profile?.mark(nil, .exchange)
        for (k, loss) in losses.enumerated() {
            if let loss, !loss.isFinite { throw NonFiniteLoss(block: k, value: loss) }
        }
        optimizer.step()
        optimizer.zeroGrad()
        probe?.update()
        step.profile?.mark(nil, .optimizer)
        return StepResult(losses: losses, probe: totals)
    }

    /// This step's losses and probe scores over every rank: the mean loss, the summed counts.
    private func reduced(losses: [Int: Tensor], scores: [Int: OnlineProbe.PendingScore]) throws
        -> (losses: [Double?], scores: [Int: OnlineProbe.Score])
    {
        let blocks = network.partition.count
        // One read of every block's loss and probe count: on a GPU each read waits for the device.
        let trained = losses.keys.sorted(), scored = scores.keys.sorted()
        let pending = trained.map { losses[$0]! } + scored.map { scores[$0]!.correct }
        let values = pending.isEmpty ? [] : Tensor.stack(pending.map { $0.to(.float64) }).to(.cpu).toArray(Double.self)
        let read = Dictionary(uniqueKeysWithValues: zip(trained, values))
        let correct = Dictionary(uniqueKeysWithValues: zip(scored, values.dropFirst(trained.count)))
        let local = (0..<blocks).map { read[$0] ?? 0 }
            + (0..<blocks).flatMap { [correct[$0] ?? 0, Double(scores[$0]?.labelled ?? 0)] }
        let total = try dataParallel?.sum(local) ?? local
        let world = Double(launch.worldSize)
        let means = (0..<blocks).map { losses[$0] == nil ? nil : total[$0] / world }
        let summed = scores.keys.reduce(into: [Int: OnlineProbe.Score]()) { result, k in
            result[k] = OnlineProbe.Score(correct: Int(total[blocks + 2 * k]), labelled: Int(total[blocks + 2 * k + 1]))
        }
        return (means, summed)
    }

    /// Loads the blocks of `training.init_blocks` from `training.init_from` (a run directory or
    /// a backbone .safetensors): a new run's start. A resumed run has them in its checkpoint.
    public func loadInitialBlocks() throws {
        guard let source = config.training.initFrom else { return }
        let path = source.hasSuffix(".safetensors") ? source : RunDirectory(source).backbonePath
        let weights = try SafeTensors.read(contentsOf: path).tensors
        for block in loadedBlocks.sorted() {
            let stages = network.partition.blocks[block]
            let owned = weights.filter { name, _ in stages.contains { ResNet.stage(ofParameter: name) == $0 } }
            let result: StateDictKeys
            do {
                result = try network.backbone.load(stateDict: owned, strict: false)
            } catch let error as StateDictError where !error.mismatched.isEmpty {
                // Another width or architecture: name the shapes that differ, not the blocks left out.
                let shapes = error.mismatched.prefix(3).map { "\($0.key) has shape \($0.found), the model's \($0.expected)" }
                throw RunError("\(path): block \(block + 1) does not fit this run's model: \(shapes.joined(separator: "; "))")
            }
            let missing = result.missing.filter { name in stages.contains { ResNet.stage(ofParameter: name) == $0 } }
            if !missing.isEmpty {
                throw RunError("\(path): block \(block + 1) is incomplete: missing \(missing.prefix(3).joined(separator: ", "))")
            }
        }
    }

    // MARK: Building

    /// The blocks (from 0) that training.init_from provides, checked against the partition.
    static func loadedBlocks(_ training: Config.TrainingSection, partition: BlockPartition) throws -> Set<Int> {
        guard training.initFrom != nil else { return [] }
        if let bad = training.initBlocks.first(where: { $0 > partition.count }) {
            throw RunError("training.init_blocks: block \(bad) does not exist; the partition has \(partition.count) blocks")
        }
        return Set(training.initBlocks.map { $0 - 1 })
    }

    /// The most weights the heads and projectors of a run may hold together: 2^32 (16 GiB as
    /// float32, before gradients and optimizer state). The paper's largest, CbE heads of 2048
    /// and 8192-8192-8192 projectors on the four blocks of ResNet-50, hold 0.61 billion (2^29.2);
    /// far beyond that is a typo, which libtorch would only report as a failed allocation.
    static let maximumHeadWeights = 1 << 32

    /// The weights of the heads and projectors after blocks of `channels` (the BN parameters,
    /// a few per unit, are left out), counted in floating point so no size overflows.
    static func headWeights(_ head: BlockwiseNetwork.HeadSpec, channels: [Int]) -> Double {
        channels.reduce(0) { total, c in
            let expanded = [.convExpansion, .convExpansionL2, .convExpansionSqrt].contains(head.kind)
            let conv = expanded ? Double(c / head.groups) * Double(head.dimension * head.kernelSize * head.kernelSize) : 0
            let sizes = [head.kind == .globalSpatial ? c : head.dimension] + head.projector
            return total + conv + zip(sizes, sizes.dropFirst()).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
    }

    /// The whole network: backbone, and a head and projector per block. Supervised modes end
    /// the projector in `classes` units.
    static func network(_ model: Config.ModelSection, partition: BlockPartition, mode: TrainingMode, classes: Int?,
                        generator: Generator) throws -> BlockwiseNetwork {
        let projector = model.projector + (mode.isSupervised ? [classes!] : [])
        let head = BlockwiseNetwork.HeadSpec(kind: model.head, dimension: model.headDimension, kernelSize: model.headKernel,
                                             groups: model.headGroups, projector: projector)
        let backbone = ResNet(model, generator: generator)
        let weights = headWeights(head, channels: backbone.channels(of: partition))
        guard weights <= Double(maximumHeadWeights) else {
            let sizes = model.projector.map(String.init).joined(separator: "-")
            throw RunError("model.projector \(sizes) (after model.head \(model.head.rawValue), model.head_dim \(model.headDimension)) gives the heads and projectors "
                + String(format: "%.3g", weights) + " weights, more than the 2^32 a run may have (the paper's 8192-8192-8192 on ResNet-50: 6.1e+08)")
        }
        do {
            return try BlockwiseNetwork(backbone: backbone, partition: partition, head: head,
                                        noise: model.noise.map { NoiseInjection(kind: $0, sigma: model.noiseSigma) },
                                        generator: generator)
        } catch let error as PartitionError {
            throw RunError("model: \(error)")
        }
    }

    /// Each block's objective, with its per-block parameters.
    static func objectives(_ config: Config, blocks: Int, group: ProcessGroup? = nil) throws -> [any Objective] {
        let objective = config.objective
        if config.training.mode.isSupervised {
            return Array(repeating: SupervisedCrossEntropy(labelSmoothing: objective.labelSmoothing), count: blocks)
        }
        let lambdas = try objective.lambda.values(blocks: blocks, key: "objective.lambda")
        let targets = try objective.invarianceTarget.values(blocks: blocks, key: "objective.invariance_target")
        return (0..<blocks).map { k -> any Objective in
            switch objective.name {
            case .barlowTwins:
                return BarlowTwins(lambda: lambdas[k], invarianceTarget: targets[k], scale: objective.scale, group: group)
            case .vicreg:
                return VICReg(invarianceWeight: objective.vicregInvariance, varianceWeight: objective.vicregVariance,
                              covarianceWeight: objective.vicregCovariance, group: group)
            case .simclr:
                return SimCLR(temperature: objective.temperature, group: group)
            }
        }
    }

    /// The optimizer over `parameters`, base rates scaled by batch / 256 as in Barlow Twins.
    static func optimizer(_ config: Config, parameters: [Tensor]) throws -> Optimizer {
        let settings = config.optimizer
        let scale = Double(config.data.batchSize) / 256
        // libtorch applies a rate as a float32 scalar: a huge base rate, once scaled, overflows
        // it, and the first step fails without naming the key.
        for (key, rate) in [("optimizer.lr_weights", settings.lrWeights), ("optimizer.lr_biases", settings.lrBiases)]
        where !Float(rate * scale).isFinite {
            throw RunError("\(key) \(rate) scaled by data.batch_size/256 (\(scale)) overflows float32, in which libtorch applies it")
        }
        let groups = ParameterGroup.weightsAndBiases(parameters, weightLR: settings.lrWeights * scale,
                                                     biasLR: settings.lrBiases * scale, weightDecay: settings.weightDecay)
        switch settings.name {
        case .lars: return LARS(groups: groups, momentum: settings.momentum, eta: settings.eta)
        case .sgd: return SGD(groups: groups, momentum: settings.momentum)
        case .adamw: return AdamW(groups: groups)
        }
    }
}

/// A loss that is NaN or infinite: training stops before the step changes any weight.
public struct NonFiniteLoss: Error, CustomStringConvertible {
    /// The block (from 0).
    public var block: Int
    public var value: Double

    public var description: String { "the loss of block \(block + 1) is \(value)" }
}

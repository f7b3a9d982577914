import Foundation
import Torch

/// Every configuration key of a run, documented in this one place: its dotted path, the field
/// of `Config` it sets and what it accepts. `blockwise config keys` prints this table; the
/// resolved configuration of a run (RUN/config.yaml) holds every key.
public enum ConfigSchema {
    public static let keys: [ConfigKey] = [
        // run
        .text("run.name", \.run.name, "Name of the run directory under runs/ (or --out)."),
        .integer("run.seed", \.run.seed, in: 0...Int(Int64.max),
                 "Seed of every random stream: initialisation, data order, augmentations, noise."),
        .scalar("run.device", \.run.device, expected: "cpu, cuda, cuda:N or auto",
                "cpu, cuda (the GPU of the process's local rank), cuda:N, or auto (that GPU if there is one, else cpu).",
                parse: DeviceRequest.init, show: \.description),
        .integer("run.threads", \.run.threads, in: 0...maxThreads,
                 "libtorch intra-op threads; 0 uses every core of the process (shared out among the processes of a machine)."),
        .number("run.timeout_s", \.run.timeoutSeconds, in: 1...86_400,
                "With several processes: seconds to wait for the others (rendezvous, each exchange) before the run stops with an error naming the rank it lost."),

        // data
        .field("data.dataset", \.data.dataset, expected: "a dataset spec",
               "Dataset spec: fashion-mnist, mnist, cifar10[:DIR], cifar100[:DIR], stl10[:DIR], folder:DIR[?skip-unreadable=true], synthetic:shapes; ?limit=N for a subset.",
               parse: { input in
                   guard case .scalar(let text) = input else { throw ConfigValueRejected() }
                   do { return try DatasetSpec(parsing: text) } catch { throw ConfigValueRejected(reason: "\(error)") }
               }, show: { ConfigText.quoted($0.description) }),
        .integer("data.image_size", \.data.imageSize, in: 8...4096,
                 "Side of the square training crops (32 CIFAR-like, 96 STL-10, 224 ImageNet)."),
        .integer("data.batch_size", \.data.batchSize, in: 2...1 << 24, "Images per step over all processes (the paper: 2048)."),
        .integer("data.prefetch", \.data.prefetch, in: 0...64,
                 "Batches decoded and augmented ahead of training, in the background (the last incomplete batch of an epoch is dropped)."),
        .choice("data.augmentation", \.data.augmentation, "Two-view augmentations."),
        .flag("data.adaptive_augmentation", \.data.adaptiveAugmentation,
              "Per-block augmentations (paper App. A): colour jitter only at block 1, small crops added at block 2, all from block 3."),

        // model
        .choice("model.arch", \.model.architecture, "Backbone architecture."),
        .choice("model.stem", \.model.stem, "The backbone's first layers."),
        .number("model.width", \.model.width, in: 0.0625...64, "Width multiplier of every layer's channels."),
        .flag("model.zero_init_residual", \.model.zeroInitResidual,
              "Zero the last BN weight of each residual branch (torchvision's option, used by the reference code)."),
        .field("model.partition", \.model.partition, expected: "stage numbers joined by + and separated by commas, e.g. 1+2,3,4",
               "Training blocks as contiguous groups of the four ResNet stages, e.g. 1+2,3,4 merges B1 and B2 (Fig. 7); end-to-end modes train the whole network as one block.",
               parse: { input in
                   guard case .scalar(let text) = input else { throw ConfigValueRejected() }
                   do { return try BlockPartition(parsing: text) } catch { throw ConfigValueRejected(reason: "\(error)") }
               }, show: { ConfigText.quoted($0.description) }),
        .choice("model.head", \.model.head, "Pooling head of each block (§3.3)."),
        .integer("model.head_dim", \.model.headDimension, in: 1...1 << 16, "Output dimension of LSP and CbE heads (the paper: 2048)."),
        .integer("model.head_kernel", \.model.headKernel, in: 1...15, "Kernel size k of the CbE convolution (App. B: 1 is best)."),
        .integer("model.head_groups", \.model.headGroups, in: 1...1 << 16, "Groups of the CbE convolution (App. B)."),
        .flag("model.fused_head", \.model.fusedHead,
              "CbE 1×1 heads as one fused node that never holds the expanded tensor, synchronised BN included; bf16 and k×k heads on the CPU with BN, ReLU and pooling as one node (false: the composed conv, BN, ReLU, pooling)."),
        .optionalChoice("model.memory_format", \.model.memoryFormat, none: "auto",
                        "Order of the blocks' activations in memory (as PyTorch's memory_format); auto: channels-last in bf16, where oneDNN's convolutions run fastest in it, contiguous in fp32."),
        .scalar("model.projector", \.model.projector, expected: "layer sizes joined by -, e.g. 8192-8192-8192, or \"\"",
                "Projector layer sizes after the head (the paper: 8192-8192-8192); supervised modes end in the class count.",
                parse: parseLayerSizes, show: { ConfigText.quoted($0.map(String.init).joined(separator: "-")) }),
        .optionalChoice("model.noise", \.model.noise, none: "none", "Gaussian noise added to each block's output in training (§5)."),
        .number("model.noise_sigma", \.model.noiseSigma, in: 0...1e6, "Standard deviation σ of the injected noise."),

        // objective
        .choice("objective.name", \.objective.name,
                "Each block's self-supervised learning rule; the supervised modes use cross-entropy instead."),
        .perBlock("objective.lambda", \.objective.lambda, in: 0...1e6, "Barlow Twins' off-diagonal weight λ, per block."),
        .perBlock("objective.invariance_target", \.objective.invarianceTarget, in: 0...1e6,
                  "Barlow Twins' target of the diagonal, per block (App. A tries 0.6, 0.75, 0.9, 1.0)."),
        .number("objective.scale", \.objective.scale, in: 0...1e6, "Factor on the Barlow Twins loss (the reference's --scale-loss)."),
        .number("objective.temperature", \.objective.temperature, in: 1e-6...1e6, "SimCLR's temperature τ."),
        .number("objective.vicreg_invariance", \.objective.vicregInvariance, in: 0...1e6, "VICReg's invariance weight."),
        .number("objective.vicreg_variance", \.objective.vicregVariance, in: 0...1e6, "VICReg's variance weight."),
        .number("objective.vicreg_covariance", \.objective.vicregCovariance, in: 0...1e6, "VICReg's covariance weight."),
        .number("objective.label_smoothing", \.objective.labelSmoothing, in: 0...1, "Label smoothing of the supervised cross-entropy."),

        // training
        .choice("training.mode", \.training.mode, "Which objectives exist and where gradients stop (§3.1, §5)."),
        .integer("training.epochs", \.training.epochs, in: 1...maxEpochs, "Epochs of training (sequential mode: per block)."),
        .integer("training.trained_block", \.training.trainedBlock, in: 1...4,
                 "random-frozen mode: the block that trains while the blocks below stay random and frozen."),
        .flag("training.lower_bn_train", \.training.lowerBatchNormTrains,
              "sequential mode: keep the frozen lower blocks' BN layers in training mode (§5)."),
        .scalar("training.init_from", \.training.initFrom, expected: "a path, or \"\" for none",
                "A run directory or backbone .safetensors whose weights initialise the blocks in training.init_blocks.",
                parse: { text -> String?? in text.isEmpty ? .some(nil) : .some(text) }, show: { ConfigText.quoted($0 ?? "") }),
        .blockList("training.init_blocks", \.training.initBlocks, "Blocks loaded from training.init_from."),
        .flag("training.init_frozen", \.training.initFrozen, "Keep the loaded blocks frozen (else train them further)."),
        .flag("training.recompute", \.training.recompute,
              "Blockwise modes: run each block first without a graph, then view by view with it, so only one view's activations are held: less memory, ~1/3 more compute."),
        .choice("training.precision", \.training.precision,
                "Number format of the blocks, heads and projectors (autocast, as torch.autocast); the losses and the Barlow Twins cross-correlation stay float32."),
        .flag("training.online_probe", \.training.onlineProbe,
              "Train a linear classifier per block on detached features alongside pretraining, when labels exist."),
        .choice("training.routing", \.training.routing,
                "Difficulty-based routing (App. A): each example trains the block its previous-epoch loss ranks it to (sequential and simultaneous modes, one process)."),
        .number("training.routing_weight", \.training.routingWeight, in: 0...1,
                "weighted routing: an example's weight in the blocks it is not routed to."),
        .flag("training.sync_batchnorm", \.training.syncBatchNorm,
              "With several processes: every BN layer uses the statistics of the whole global batch (SyncBatchNorm); the projectors' and Barlow Twins' always do."),

        // optimizer
        .choice("optimizer.name", \.optimizer.name, "Optimizer."),
        .number("optimizer.lr_weights", \.optimizer.lrWeights, in: 0...Double.greatestFiniteMagnitude, "Base learning rate of weights (scaled by batch/256)."),
        .number("optimizer.lr_biases", \.optimizer.lrBiases, in: 0...Double.greatestFiniteMagnitude,
                "Base learning rate of biases and BN parameters (scaled by batch/256)."),
        .number("optimizer.weight_decay", \.optimizer.weightDecay, in: 0...1e6, "Weight decay (LARS: weights only)."),
        .number("optimizer.momentum", \.optimizer.momentum, in: 0...1, "Momentum (LARS, SGD)."),
        .number("optimizer.eta", \.optimizer.eta, in: 0...1e6, "LARS trust coefficient η."),

        // schedule
        .choice("schedule.name", \.schedule.name, "Learning-rate schedule, stepped every iteration."),
        .number("schedule.warmup_epochs", \.schedule.warmupEpochs, in: 0...Double(maxEpochs), "Linear warm-up epochs (the paper: 10)."),
        .number("schedule.final_lr_factor", \.schedule.finalLRFactor, in: 0...1, "Cosine floor as a fraction of the base rate."),

        // checkpoints and logs
        .integer("checkpoint.every_epochs", \.checkpoint.everyEpochs, in: 0...maxEpochs,
                 "Write a checkpoint every N epochs (0: never by epoch)."),
        .integer("checkpoint.every_steps", \.checkpoint.everySteps, in: 0...Int(Int32.max),
                 "Write a checkpoint every N steps (0: never by step)."),
        .integer("checkpoint.keep", \.checkpoint.keep, in: 1...1_000_000, "Checkpoints kept; older ones are removed."),
        .integer("log.every_steps", \.log.everySteps, in: 1...Int(Int32.max), "Steps between lines of metrics.jsonl."),

        // several processes
        .choice("distributed.strategy", \.distributed.strategy, "How the processes of a run share the work."),
        .integer("distributed.max_in_flight", \.distributed.maxInFlight, in: 1...64,
                 "blocks strategy: batches a block's process may send up before the block above has received the oldest (bounds memory)."),
    ]

    /// Keys that moved, old path → new path: configurations written before the move still read.
    public static let renamed: [String: String] = [
        "optimizer.schedule": "schedule.name",
        "optimizer.warmup_epochs": "schedule.warmup_epochs",
        "optimizer.final_lr_factor": "schedule.final_lr_factor",
    ]

    /// Keys that say how the processes share the work, not what they compute: a resumed run
    /// may change them (`pretrain --resume RUN --set distributed.strategy=blocks`), since
    /// every strategy trains to the same numbers.
    public static let placementKeys: Set<String> = ["distributed.strategy", "distributed.max_in_flight", "run.timeout_s"]

    /// Refuses, for a resumed run, an assignment (`path=value`) of a key outside `placementKeys`.
    public static func checkResumable(_ assignments: [String]) throws {
        guard let setting = assignments.first(where: { !placementKeys.contains(String($0.prefix { $0 != "=" })) }) else { return }
        throw ConfigError(source: "--set \(setting)", message: "--resume continues a run with its own config.yaml, which this would change; a resumed run may change only "
            + placementKeys.sorted().joined(separator: ", "))
    }

    /// The keys by path.
    public static let byPath: [String: ConfigKey] = Dictionary(uniqueKeysWithValues: keys.map { ($0.path, $0) })

    /// The key at `path`, or at the path it moved to.
    static func key(at path: String) -> ConfigKey? { byPath[renamed[path] ?? path] }

    /// More threads than this is a typo, not a machine.
    static let maxThreads = 1024
    /// Bounds every count derived from epochs (steps, schedule lengths) far inside Int.
    static let maxEpochs = 1_000_000

    /// "8192-8192-8192" → [8192, 8192, 8192]; "" → [].
    static func parseLayerSizes(_ text: String) -> [Int]? {
        if text.isEmpty { return [] }
        let sizes = text.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
        guard sizes.allSatisfy({ ($0 ?? 0) >= 1 && ($0 ?? 0) <= 1 << 20 }) else { return nil }
        return sizes.map { $0! }
    }
}

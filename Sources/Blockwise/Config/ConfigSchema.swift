/// Every configuration key of a run, documented in this one place. `blockwise config keys`
/// prints this table; the resolved configuration of a run (RUN/config.yaml) holds every key.
///
/// Defaults follow the paper's method (simultaneous blockwise Barlow Twins, CbE 1×1 + GSP,
/// LARS with warm-up and cosine decay) at a size a laptop CPU trains.
public enum ConfigSchema {
    public static let keys: [ConfigKey] = [
        // run
        key("run.name", .string, .string("run"), "Name of the run directory under runs/ (or --out)."),
        key("run.seed", .int(min: 0), .int(0), "Seed of every random stream: initialisation, data order, augmentations, noise."),
        key("run.device", .string, .string("auto"), "cpu, cuda, cuda:N, or auto (the first CUDA device if any, else cpu)."),
        key("run.threads", .int(min: 0), .int(0), "libtorch intra-op threads; 0 uses every core of the process."),

        // data
        key("data.dataset", .string, .string("fashion-mnist"),
            "Dataset spec: fashion-mnist, mnist, cifar10[:DIR], cifar100[:DIR], stl10[:DIR], folder:DIR[?skip-unreadable=true], synthetic:shapes; ?limit=N for a subset."),
        key("data.image_size", .int(min: 8), .int(32), "Side of the square training crops (32 CIFAR-like, 96 STL-10, 224 ImageNet)."),
        key("data.batch_size", .int(min: 2), .int(256), "Images per step over all processes (the paper: 2048)."),
        key("data.prefetch", .int(min: 0), .int(2),
            "Batches decoded and augmented ahead of training, in the background (the last incomplete batch of an epoch is dropped)."),
        key("data.augmentation", .choice(["barlow-twins", "none"]), .string("barlow-twins"),
            "Two-view augmentations: Barlow Twins' asymmetric pair, or none (identical views)."),
        key("data.adaptive_augmentation", .bool, .bool(false),
            "Per-block augmentations (paper App. A): colour jitter only at block 1, small crops added at block 2, all from block 3."),

        // model
        key("model.arch", .choice(["resnet18", "resnet34", "resnet50"]), .string("resnet18"), "Backbone architecture."),
        key("model.stem", .choice(["small", "imagenet"]), .string("small"),
            "small: 3×3 stride-1 conv, no max-pool (small images); imagenet: 7×7 stride-2 conv + max-pool."),
        key("model.width", .double(min: 0.0625), .double(1), "Width multiplier of every layer's channels."),
        key("model.zero_init_residual", .bool, .bool(true),
            "Zero the last BN weight of each residual branch (torchvision's option, used by the reference code)."),
        key("model.partition", .string, .string("1,2,3,4"),
            "Training blocks as contiguous groups of the four ResNet stages, e.g. 1+2,3,4 merges B1 and B2 (Fig. 7); end-to-end modes train the whole network as one block."),
        key("model.head", .choice(["gsp", "lsp", "cbe", "cbe-l2", "cbe-sqrt"]), .string("cbe"),
            "Pooling head of each block (§3.3): global spatial, local spatial, conv-based expansion + GSP, + L2 or square-root pooling."),
        key("model.head_dim", .int(min: 1), .int(512), "Output dimension of LSP and CbE heads (the paper: 2048)."),
        key("model.head_kernel", .int(min: 1), .int(1), "Kernel size k of the CbE convolution (App. B: 1 is best)."),
        key("model.head_groups", .int(min: 1), .int(1), "Groups of the CbE convolution (App. B)."),
        key("model.projector", .string, .string("2048-2048-2048"),
            "Projector layer sizes after the head (the paper: 8192-8192-8192); supervised modes end in the class count."),
        key("model.noise", .choice(["none", "independent", "shared-across-channels", "scaled-by-std"]), .string("none"),
            "Gaussian noise added to each block's output in training (§5)."),
        key("model.noise_sigma", .double(min: 0), .double(0.25), "Standard deviation σ of the injected noise."),

        // objective
        key("objective.name", .choice(["barlow-twins", "vicreg", "simclr"]), .string("barlow-twins"),
            "Each block's self-supervised learning rule; the supervised modes use cross-entropy instead."),
        key("objective.lambda", .perBlock(min: 0), .double(0.0051), "Barlow Twins' off-diagonal weight λ, per block."),
        key("objective.invariance_target", .perBlock(min: 0), .double(1),
            "Barlow Twins' target of the diagonal, per block (App. A tries 0.6, 0.75, 0.9, 1.0)."),
        key("objective.scale", .double(min: 0), .double(1), "Factor on the Barlow Twins loss (the reference's --scale-loss)."),
        key("objective.temperature", .double(min: 1e-6), .double(0.1), "SimCLR's temperature τ."),
        key("objective.vicreg_invariance", .double(min: 0), .double(25), "VICReg's invariance weight."),
        key("objective.vicreg_variance", .double(min: 0), .double(25), "VICReg's variance weight."),
        key("objective.vicreg_covariance", .double(min: 0), .double(1), "VICReg's covariance weight."),
        key("objective.label_smoothing", .double(min: 0), .double(0), "Label smoothing of the supervised cross-entropy."),

        // training
        key("training.mode",
            .choice(["end-to-end", "simultaneous", "sequential", "supervised-blockwise", "supervised-end-to-end",
                     "random-frozen"]),
            .string("simultaneous"), "Which objectives exist and where gradients stop (§3.1, §5)."),
        key("training.epochs", .int(min: 1), .int(10), "Epochs of training (sequential mode: per block)."),
        key("training.trained_block", .int(min: 1), .int(4),
            "random-frozen mode: the block that trains while the blocks below stay random and frozen."),
        key("training.lower_bn_train", .bool, .bool(false),
            "sequential mode: keep the frozen lower blocks' BN layers in training mode (§5)."),
        key("training.init_from", .string, .string(""),
            "A run directory or backbone .safetensors whose weights initialise the blocks in training.init_blocks."),
        key("training.init_blocks", .ints, .list([.int(1)]), "Blocks loaded from training.init_from."),
        key("training.init_frozen", .bool, .bool(true), "Keep the loaded blocks frozen (else train them further)."),
        key("training.recompute", .bool, .bool(false),
            "Blockwise modes: run each block first without a graph, then view by view with it, so only one view's activations are held: less memory, ~1/3 more compute."),
        key("training.online_probe", .bool, .bool(true),
            "Train a linear classifier per block on detached features alongside pretraining, when labels exist."),

        // optimizer
        key("optimizer.name", .choice(["lars", "sgd", "adamw"]), .string("lars"), "Optimizer."),
        key("optimizer.lr_weights", .double(min: 0), .double(0.2), "Base learning rate of weights (scaled by batch/256)."),
        key("optimizer.lr_biases", .double(min: 0), .double(0.0048), "Base learning rate of biases and BN parameters (scaled by batch/256)."),
        key("optimizer.weight_decay", .double(min: 0), .double(1e-6), "Weight decay (LARS: weights only)."),
        key("optimizer.momentum", .double(min: 0), .double(0.9), "Momentum (LARS, SGD)."),
        key("optimizer.eta", .double(min: 0), .double(0.001), "LARS trust coefficient η."),
        key("optimizer.schedule", .choice(["warmup-cosine", "constant", "step"]), .string("warmup-cosine"),
            "Learning-rate schedule, stepped every iteration."),
        key("optimizer.warmup_epochs", .double(min: 0), .double(1), "Linear warm-up epochs (the paper: 10)."),
        key("optimizer.final_lr_factor", .double(min: 0), .double(0.001), "Cosine floor as a fraction of the base rate."),

        // checkpoints and logs
        key("checkpoint.every_epochs", .int(min: 0), .int(1), "Write a checkpoint every N epochs (0: never by epoch)."),
        key("checkpoint.every_steps", .int(min: 0), .int(0), "Write a checkpoint every N steps (0: never by step)."),
        key("checkpoint.keep", .int(min: 1), .int(2), "Checkpoints kept; older ones are removed."),
        key("log.every_steps", .int(min: 1), .int(10), "Steps between lines of metrics.jsonl."),
    ]

    /// The keys by path.
    public static let byPath: [String: ConfigKey] = Dictionary(uniqueKeysWithValues: keys.map { ($0.path, $0) })

    private static func key(_ path: String, _ kind: ConfigKey.Kind, _ value: ConfigValue, _ doc: String) -> ConfigKey {
        ConfigKey(path: path, kind: kind, defaultValue: value, doc: doc)
    }
}

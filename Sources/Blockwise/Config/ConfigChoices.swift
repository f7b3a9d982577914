import Torch

// The named values configuration keys choose among, each with what it means: the choice
// lists and their documentation in `blockwise config keys` come from here.

extension TrainingMode: ConfigChoice {
    public var summary: String {
        switch self {
        case .endToEnd: return "one objective after the last block, full backpropagation (the baseline)"
        case .simultaneous: return "an objective at every block, a stop-gradient between blocks (the paper's method)"
        case .sequential: return "block k trains for its epochs while the blocks below are frozen"
        case .supervisedBlockwise: return "cross-entropy through each block's projector, stop-gradient between blocks"
        case .supervisedEndToEnd: return "cross-entropy after the last block, full backpropagation"
        case .randomFrozen: return "blocks below training.trained_block random and frozen; only that block trains"
        }
    }
}

extension PoolingKind: ConfigChoice {
    public var summary: String {
        switch self {
        case .globalSpatial: return "global spatial mean (GSP), the block's channels"
        case .localSpatial: return "spatial means over a grid of bins (LSP), model.head_dim features"
        case .convExpansion: return "conv to model.head_dim channels, BN, ReLU, then GSP (CbE, the paper's best)"
        case .convExpansionL2: return "CbE followed by L2 pooling"
        case .convExpansionSqrt: return "CbE followed by square-root pooling"
        }
    }
}

extension NoiseInjection.Kind: ConfigChoice {
    public var summary: String {
        switch self {
        case .independent: return "x + σε, ε independent for every value (the paper's best)"
        case .sharedAcrossChannels: return "one ε per sample and location, shared by all channels"
        case .scaledByActivationStd: return "x + σ·std(x)·ε, as the reference code's \"all\" mode"
        }
    }
}

extension MemoryFormat: ConfigChoice {
    public static var choices: [MemoryFormat] { [.contiguous, .channelsLast] }
    public var configName: String { self == .contiguous ? "contiguous" : "channels-last" }
    public var summary: String {
        switch self {
        case .contiguous: return "[N, C, H, W], PyTorch's default"
        case .channelsLast: return "[N, H, W, C] in memory (torch.channels_last)"
        }
    }
}

extension ResNet.Stem: ConfigChoice {
    public var summary: String {
        switch self {
        case .small: return "3×3 stride-1 conv, no max-pool (small images)"
        case .imagenet: return "7×7 stride-2 conv + max-pool (ImageNet-sized images)"
        }
    }
}

extension ResNet.Architecture: ConfigChoice {
    public static var choices: [ResNet.Architecture] { [.resnet18, .resnet34, .resnet50] }
    public var configName: String { name }
    public var summary: String { "\(bottleneck ? "bottleneck" : "basic") blocks, \(layers.map(String.init).joined(separator: "-")) per stage" }
}

/// `data.augmentation`: how the two views of an image are made.
public enum AugmentationRecipe: String, CaseIterable, ConfigChoice {
    case barlowTwins = "barlow-twins"
    case none

    public var summary: String {
        switch self {
        case .barlowTwins: return "Barlow Twins' asymmetric pair of views"
        case .none: return "identical views, only resized and normalised"
        }
    }
}

/// `objective.name`: each block's self-supervised learning rule.
public enum ObjectiveKind: String, CaseIterable, ConfigChoice {
    case barlowTwins = "barlow-twins"
    case vicreg
    case simclr

    public var summary: String {
        switch self {
        case .barlowTwins: return "cross-correlation towards the identity (objective.lambda, invariance_target, scale)"
        case .vicreg: return "variance, invariance, covariance (objective.vicreg_*)"
        case .simclr: return "contrastive InfoNCE (objective.temperature)"
        }
    }
}

/// `optimizer.name`.
public enum OptimizerKind: String, CaseIterable, ConfigChoice {
    case lars
    case sgd
    case adamw

    public var summary: String {
        switch self {
        case .lars: return "LARS as Barlow Twins' reference (weights adapted, biases and BN excluded)"
        case .sgd: return "SGD with momentum"
        case .adamw: return "AdamW"
        }
    }
}

/// `schedule.name`: the learning rate over training, as a factor of the base rates.
public enum ScheduleKind: String, CaseIterable, ConfigChoice {
    case warmupCosine = "warmup-cosine"
    case constant
    case step

    public var summary: String {
        switch self {
        case .warmupCosine: return "linear warm-up, then cosine decay to schedule.final_lr_factor"
        case .constant: return "the base rates throughout"
        case .step: return "÷10 at half and at three quarters of training"
        }
    }
}

/// `distributed.strategy`: what each process of a run holds (DESIGN.md, "Scale").
public enum ParallelStrategy: String, CaseIterable, ConfigChoice {
    case data
    case blocks

    public var summary: String {
        switch self {
        case .data: return "every process holds the whole network and trains on its shard of each batch; gradients are averaged"
        case .blocks: return "each process trains one block of model.partition (times replicas): outputs flow up, no gradient crosses"
        }
    }
}

/// `training.routing`: which blocks an example trains (paper App. A).
extension Routing.Scheme: ConfigChoice {
    public var summary: String {
        switch self {
        case .none: return "every example trains every block"
        case .allBelow: return "an example trains the block its difficulty ranks it to and every block below; the blocks above never see it"
        case .weighted: return "an example trains its block with weight 1 and every other with training.routing_weight"
        }
    }
}

/// `training.precision`: the number format autocast runs the network's matrix products in.
public enum Precision: String, CaseIterable, ConfigChoice {
    case fp32
    case bf16

    /// Autocast's lower-precision dtype; nil for float32 throughout.
    public var autocast: DType? {
        switch self {
        case .fp32: return nil
        case .bf16: return .bfloat16
        }
    }

    public var summary: String {
        switch self {
        case .fp32: return "float32 throughout"
        case .bf16: return "convolutions and matrix products in bfloat16 (autocast), the rest as PyTorch's autocast policy says"
        }
    }
}

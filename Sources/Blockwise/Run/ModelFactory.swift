import Torch

/// Builds the paper's model from a configuration: one place that reads the model.* keys.
public enum ModelFactory {
    public static func architecture(_ config: Config) throws -> ResNet.Architecture {
        let name = config.string("model.arch")
        guard let arch = ResNet.Architecture.named(name) else { throw RunError("model.arch: unknown architecture \(name)") }
        return arch
    }

    /// The backbone, randomly initialised from `generator`.
    public static func backbone(_ config: Config, inputChannels: Int = 3, generator: Generator? = nil) throws -> ResNet {
        ResNet(try architecture(config), stem: ResNet.Stem(rawValue: config.string("model.stem")) ?? .small,
               width: config.double("model.width"), inputChannels: inputChannels,
               zeroInitResidual: config.bool("model.zero_init_residual"), generator: generator)
    }

    /// The partition the training mode uses: end-to-end modes see the whole network as one block.
    public static func partition(_ config: Config) throws -> BlockPartition {
        let mode = try trainingMode(config)
        if mode.isEndToEnd { return .whole }
        return try BlockPartition(parsing: config.string("model.partition"))
    }

    public static func trainingMode(_ config: Config) throws -> TrainingMode {
        let name = config.string("training.mode")
        guard let mode = TrainingMode(rawValue: name) else { throw RunError("training.mode: unknown mode \(name)") }
        return mode
    }

    public static func noise(_ config: Config) -> NoiseInjection? {
        guard let kind = NoiseInjection.Kind(rawValue: config.string("model.noise")) else { return nil }
        return NoiseInjection(kind: kind, sigma: config.double("model.noise_sigma"))
    }

    /// The whole network: backbone, and a head and projector per block. Supervised modes end
    /// the projector in `classes` units.
    public static func network(_ config: Config, classes: Int?, generator: Generator? = nil) throws -> BlockwiseNetwork {
        let mode = try trainingMode(config)
        var projector = config.string("model.projector")
        if mode.isSupervised {
            guard let classes else { throw RunError("training.mode \(mode.rawValue) needs a labelled dataset") }
            projector = projector.isEmpty ? "\(classes)" : projector + "-\(classes)"
        }
        let head = BlockwiseNetwork.HeadSpec(
            kind: PoolingKind(rawValue: config.string("model.head")) ?? .convExpansion,
            dimension: config.int("model.head_dim"), kernelSize: config.int("model.head_kernel"),
            groups: config.int("model.head_groups"), projector: projector)
        do {
            return try BlockwiseNetwork(backbone: try backbone(config, generator: generator),
                                        partition: try partition(config), head: head, noise: noise(config),
                                        generator: generator)
        } catch let error as PartitionError {
            throw RunError("model: \(error)")
        }
    }

    /// Each block's objective, with its per-block parameters.
    public static func objectives(_ config: Config, blocks: Int) throws -> [any Objective] {
        let mode = try trainingMode(config)
        if mode.isSupervised {
            return Array(repeating: SupervisedCrossEntropy(labelSmoothing: config.double("objective.label_smoothing")),
                         count: blocks)
        }
        let lambdas: [Double], targets: [Double]
        do {
            lambdas = try config.perBlock("objective.lambda", blocks: blocks)
            targets = try config.perBlock("objective.invariance_target", blocks: blocks)
        } catch let error as ConfigError {
            throw RunError("\(error)")
        }
        return (0..<blocks).map { k -> any Objective in
            switch config.string("objective.name") {
            case "vicreg":
                return VICReg(invarianceWeight: config.double("objective.vicreg_invariance"),
                              varianceWeight: config.double("objective.vicreg_variance"),
                              covarianceWeight: config.double("objective.vicreg_covariance"))
            case "simclr":
                return SimCLR(temperature: config.double("objective.temperature"))
            default:
                return BarlowTwins(lambda: lambdas[k], invarianceTarget: targets[k], scale: config.double("objective.scale"))
            }
        }
    }
}

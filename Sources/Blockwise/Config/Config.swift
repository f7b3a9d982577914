import Torch

/// A run's configuration, typed: one section per part of the system, each field a checked
/// value of its own type. It is decoded once, from the defaults below, then a YAML file, then
/// `--set path=value` overrides (`Config+Decoding.swift`); `ConfigSchema` names and documents
/// every field under its dotted key path. Nothing after the decoder reads a string key.
///
/// The defaults follow the paper's method (simultaneous blockwise Barlow Twins, CbE 1×1 + GSP,
/// LARS with warm-up and cosine decay) at a size a laptop CPU trains.
public struct Config: Equatable, Sendable {
    public var run = RunSection()
    public var data = DataSection()
    public var model = ModelSection()
    public var objective = ObjectiveSection()
    public var training = TrainingSection()
    public var optimizer = OptimizerSection()
    public var schedule = ScheduleSection()
    public var checkpoint = CheckpointSection()
    public var log = LogSection()
    public var distributed = DistributedSection()

    /// The defaults of every key.
    public init() {}

    public struct RunSection: Equatable, Sendable {
        public var name = "run"
        public var seed = 0
        public var device = DeviceRequest.auto
        /// 0: every core of the process, shared out among the processes of a machine.
        public var threads = 0
        /// Seconds a process waits for the others (rendezvous, each exchange) before it gives up.
        public var timeoutSeconds = 300.0
    }

    public struct DataSection: Equatable, Sendable {
        public var dataset = DatasetSpec.defaultReal
        public var imageSize = 32
        /// Images per step over all processes.
        public var batchSize = 256
        public var prefetch = 2
        public var augmentation = AugmentationRecipe.barlowTwins
        public var adaptiveAugmentation = false
    }

    public struct ModelSection: Equatable, Sendable {
        public var architecture = ResNet.Architecture.resnet18
        public var stem = ResNet.Stem.small
        public var width = 1.0
        public var zeroInitResidual = true
        public var partition = BlockPartition.perStage
        public var head = PoolingKind.convExpansion
        public var headDimension = 512
        public var headKernel = 1
        public var headGroups = 1
        /// CbE heads with a 1×1 convolution run as one fused node (`PoolingHead.fused`).
        public var fusedHead = true
        /// The order the blocks' activations lie in memory; nil: by the precision
        /// (`Config.activationMemoryFormat`).
        public var memoryFormat: MemoryFormat? = nil
        /// Projector layer sizes after the head; empty: no projector.
        public var projector = [2048, 2048, 2048]
        /// nil: no noise.
        public var noise: NoiseInjection.Kind? = nil
        public var noiseSigma = 0.25
    }

    public struct ObjectiveSection: Equatable, Sendable {
        public var name = ObjectiveKind.barlowTwins
        public var lambda = PerBlock.all(0.0051)
        public var invarianceTarget = PerBlock.all(1)
        public var scale = 1.0
        public var temperature = 0.1
        public var vicregInvariance = 25.0
        public var vicregVariance = 25.0
        public var vicregCovariance = 1.0
        public var labelSmoothing = 0.0
    }

    public struct TrainingSection: Equatable, Sendable {
        public var mode = TrainingMode.simultaneous
        public var epochs = 10
        /// random-frozen mode: the block (from 1) that trains.
        public var trainedBlock = 4
        public var lowerBatchNormTrains = false
        /// A run directory or backbone .safetensors; nil: a random start.
        public var initFrom: String? = nil
        /// Blocks (from 1) loaded from `initFrom`.
        public var initBlocks = [1]
        public var initFrozen = true
        public var recompute = false
        /// Autocast's lower precision for the blocks, heads and projectors; the losses stay float32.
        public var precision = Precision.fp32
        public var onlineProbe = true
        /// With several processes: every BN layer normalises with the whole global batch's
        /// statistics (the projectors' and the objective's always do).
        public var syncBatchNorm = true
        /// Difficulty-based routing of examples to blocks (App. A); `.none`: every example trains every block.
        public var routing = Routing.Scheme.none
        /// `weighted` routing: the weight of the blocks an example is not routed to.
        public var routingWeight = 0.5
    }

    public struct OptimizerSection: Equatable, Sendable {
        public var name = OptimizerKind.lars
        /// Base rates, scaled by batch / 256.
        public var lrWeights = 0.2
        public var lrBiases = 0.0048
        public var weightDecay = 1e-6
        public var momentum = 0.9
        public var eta = 0.001
    }

    public struct ScheduleSection: Equatable, Sendable {
        public var name = ScheduleKind.warmupCosine
        public var warmupEpochs = 1.0
        public var finalLRFactor = 0.001
    }

    public struct CheckpointSection: Equatable, Sendable {
        public var everyEpochs = 1
        public var everySteps = 0
        public var keep = 2
    }

    public struct LogSection: Equatable, Sendable {
        public var everySteps = 10
    }

    /// How a run of several processes shares the work (DESIGN.md, "Scale").
    public struct DistributedSection: Equatable, Sendable {
        public var strategy = ParallelStrategy.data
        /// `blocks`: batches a block may send up before the block above has taken the oldest.
        public var maxInFlight = 2
    }

    /// The partition training uses: end-to-end modes see the whole network as one block.
    public var trainingPartition: BlockPartition {
        training.mode.isEndToEnd ? .whole : model.partition
    }
}

/// `run.device`: the CPU, a CUDA device, or `auto`, chosen where the run starts (a CUDA
/// device if any, else the CPU), so a resolved configuration moves between machines. `cuda`
/// and `auto` take the GPU of the process's local rank when a launcher starts several.
public enum DeviceRequest: Equatable, Sendable, CustomStringConvertible {
    case auto
    case cpu
    /// A given GPU, or (nil) the local rank's.
    case cuda(Int?)

    public init?(_ text: String) {
        switch text {
        case "auto": self = .auto
        case "cpu": self = .cpu
        case "cuda": self = .cuda(nil)
        default:
            guard text.hasPrefix("cuda:"), let index = Int(text.dropFirst(5)), index >= 0 else { return nil }
            self = .cuda(index)
        }
    }

    /// The device of the process of local rank `localRank` on this machine.
    public func resolved(localRank: Int = 0) -> Device {
        switch self {
        case .auto: return Runtime.cudaDeviceCount > localRank ? .cuda(localRank) : .cpu
        case .cpu: return .cpu
        case .cuda(let index): return .cuda(index ?? localRank)
        }
    }

    public var description: String {
        switch self {
        case .auto: return "auto"
        case .cpu: return "cpu"
        case .cuda(let index): return index.map { "cuda:\($0)" } ?? "cuda"
        }
    }
}

/// A number for every block: one for all, or a list with one per block.
public enum PerBlock: Equatable, Sendable, CustomStringConvertible {
    case all(Double)
    case each([Double])

    /// One value per block of a partition of `blocks` blocks; `key` names the setting in errors.
    public func values(blocks: Int, key: String) throws -> [Double] {
        switch self {
        case .all(let value): return Array(repeating: value, count: blocks)
        case .each(let values):
            guard values.count == blocks else {
                throw ConfigError(source: key, message: "has \(values.count) values but the partition has \(blocks) blocks")
            }
            return values
        }
    }

    public var description: String {
        switch self {
        case .all(let value): return ConfigText.number(value)
        case .each(let values): return "[" + values.map(ConfigText.number).joined(separator: ", ") + "]"
        }
    }
}

extension Config {
    /// The order of the blocks' activations: `model.memory_format`, or by the precision. In bf16
    /// oneDNN's convolutions ran 2–4× faster in channels-last order, and the bench config's
    /// simultaneous step 21% faster (4.87 s against 6.14 s). In fp32 that step ran as fast in
    /// either order (the fused heads' kernels read channel-major copies), so it keeps PyTorch's.
    public var activationMemoryFormat: MemoryFormat {
        model.memoryFormat ?? (training.precision == .bf16 ? .channelsLast : .contiguous)
    }
}

import Torch

/// The paper's network (§3, Fig. 2, App. E): a ResNet backbone cut into training blocks,
/// and after each block its own pooling head and projector, whose embedding feeds the
/// block's objective. Parameters are named `backbone.*` (torchvision's names),
/// `heads.K.*` and `projectors.K.*` (K = block index from 0).
public final class BlockwiseNetwork: Module {
    public let backbone: ResNet
    public let heads: [PoolingHead]
    public let projectors: [Projector]
    public let partition: BlockPartition
    public var noise: NoiseInjection?
    /// The order each block's input is laid out in (`model.memory_format`); convolutions, batch
    /// norms and ReLUs keep it, so that the whole block runs in it.
    public var memoryFormat = MemoryFormat.contiguous

    /// What goes after each block.
    public struct HeadSpec: Sendable {
        public var kind: PoolingKind = .convExpansion
        public var dimension = 2048
        public var kernelSize = 1
        public var groups = 1
        /// Projector layer sizes.
        public var projector = [8192, 8192, 8192]

        public init(kind: PoolingKind = .convExpansion, dimension: Int = 2048, kernelSize: Int = 1, groups: Int = 1,
                    projector: [Int] = [8192, 8192, 8192]) {
            self.kind = kind
            self.dimension = dimension
            self.kernelSize = kernelSize
            self.groups = groups
            self.projector = projector
        }
    }

    public init(backbone: ResNet, partition: BlockPartition, head: HeadSpec, noise: NoiseInjection? = nil,
                generator: Generator? = nil) throws {
        self.backbone = backbone
        self.partition = partition
        self.noise = noise
        var heads: [PoolingHead] = []
        var projectors: [Projector] = []
        for channels in backbone.channels(of: partition) {
            let pooling = try PoolingHead(head.kind, inputChannels: channels, outputDimension: head.dimension,
                                          kernelSize: head.kernelSize, groups: head.groups, generator: generator)
            heads.append(pooling)
            projectors.append(Projector(inputDimension: pooling.outputDimension, layerSizes: head.projector, generator: generator))
        }
        self.heads = heads
        self.projectors = projectors
        super.init()
    }

    /// The embedding of block `index` (from 0) from that block's output.
    public func embed(block index: Int, _ blockOutput: Tensor) -> Tensor {
        projectors[index](heads[index](blockOutput))
    }

    /// The modules of block `index` (from 0): its stages', its head and its projector.
    public func modules(ofBlock index: Int) -> [Module] {
        partition.blocks[index].flatMap(backbone.modules(ofStage:)) + [heads[index], projectors[index]]
    }

    /// The parameters of block `index` (from 0): its stages', its head's and its projector's.
    public func parameters(ofBlock index: Int) -> [Tensor] {
        let stages = partition.blocks[index]
        let backboneParameters = backbone.namedParameters()
            .filter { ResNet.stage(ofParameter: $0.name).map(stages.contains) ?? false }.map(\.tensor)
        return backboneParameters + heads[index].parameters() + projectors[index].parameters()
    }

    /// The block (from 0) whose process trains a state-dict entry in block-parallel training:
    /// a backbone entry's by its stage, a head's or projector's by its index.
    public func block(ofEntry name: String) -> Int? {
        let parts = name.split(separator: ".", maxSplits: 2)
        if parts.count == 3, parts[0] == "heads" || parts[0] == "projectors" { return Int(parts[1]) }
        guard parts.first == "backbone", let stage = ResNet.stage(ofParameter: String(name.dropFirst("backbone.".count))) else {
            return nil
        }
        return partition.blocks.firstIndex { $0.contains(stage) }
    }

    /// Block `index` (from 0) on one view: its stages, then the injected noise in training.
    /// The noisy output feeds both the head and the next block, as in the paper's reference code.
    public func forward(block index: Int, _ x: Tensor, generator: Generator? = nil) -> Tensor {
        let h = backbone.forward(stages: partition.blocks[index], x.rank == 4 ? x.contiguous(memoryFormat) : x)
        return noise.map { $0(h, training: training, generator: generator) } ?? h
    }
}

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

    /// What goes after each block.
    public struct HeadSpec: Sendable {
        public var kind: PoolingKind = .convExpansion
        public var dimension = 2048
        public var kernelSize = 1
        public var groups = 1
        /// Projector layer sizes, e.g. "8192-8192-8192".
        public var projector = "8192-8192-8192"

        public init(kind: PoolingKind = .convExpansion, dimension: Int = 2048, kernelSize: Int = 1, groups: Int = 1,
                    projector: String = "8192-8192-8192") {
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
            projectors.append(try Projector(inputDimension: pooling.outputDimension, spec: head.projector, generator: generator))
        }
        self.heads = heads
        self.projectors = projectors
        super.init()
    }

    /// The embedding of block `index` (from 0) from that block's output.
    public func embed(block index: Int, _ blockOutput: Tensor) -> Tensor {
        projectors[index](heads[index](blockOutput))
    }

    /// Every block's output and embedding; `stopGradient` cuts the graph between blocks.
    public func callAsFunction(_ x: Tensor, stopGradient: Bool, generator: Generator? = nil)
        -> [(output: Tensor, embedding: Tensor)]
    {
        backbone.blockOutputs(x, partition: partition, stopGradient: stopGradient, noise: noise, generator: generator)
            .enumerated().map { ($0.element, embed(block: $0.offset, $0.element)) }
    }
}

import Torch

/// The ResNet family as torchvision builds it (`torchvision.models.resnet`), with the same
/// parameter and buffer names (conv1, bn1, layer1.0.conv1, layer1.0.downsample.0, …) so that
/// an exported backbone loads into torchvision. There is no classifier (`fc`): the backbone
/// ends with layer4, and probes or heads pool its output.
///
/// Each residual unit's last ReLU keeps a bit per value for its backward rather than its output
/// (`reluKeepingMask_`): a training block's output under noise injection is read by the head and
/// the next block only through its noised copy, so its last ReLU would otherwise be all that
/// holds it through the backward (a fifth of ResNet-50 block 1's activations at 224²). The
/// stem's ReLU does the same: the max-pool, which keeps only its indices, is all that reads it.
///
/// Two stems: `imagenet` (7×7 stride-2 conv, BN, ReLU, 3×3 stride-2 max-pool) and `small`
/// (3×3 stride-1 conv, BN, ReLU, no max-pool) for 32–96 px images.
public final class ResNet: Module {
    public enum Stem: String, Sendable, CaseIterable { case imagenet, small }

    /// Layer counts and block type of the architectures of the paper.
    public struct Architecture: Sendable, Equatable {
        public var name: String
        public var bottleneck: Bool
        public var layers: [Int]

        public static let resnet18 = Architecture(name: "resnet18", bottleneck: false, layers: [2, 2, 2, 2])
        public static let resnet34 = Architecture(name: "resnet34", bottleneck: false, layers: [3, 4, 6, 3])
        public static let resnet50 = Architecture(name: "resnet50", bottleneck: true, layers: [3, 4, 6, 3])

        public static func named(_ name: String) -> Architecture? {
            [resnet18, resnet34, resnet50].first { $0.name == name }
        }
    }

    public let architecture: Architecture
    public let stem: Stem
    /// Output channels of layer1…layer4.
    public let stageChannels: [Int]

    let conv1: Conv2d
    let bn1: BatchNorm2d
    let layer1: Sequential
    let layer2: Sequential
    let layer3: Sequential
    let layer4: Sequential

    /// - Parameters:
    ///   - width: multiplier of every layer's channels (torchvision: 1).
    ///   - zeroInitResidual: zero the last BN weight of each residual branch, so each block
    ///     starts as the identity (torchvision's option; the paper's reference code sets it).
    public init(_ architecture: Architecture, stem: Stem = .imagenet, width: Double = 1, inputChannels: Int = 3,
                zeroInitResidual: Bool = false, generator: Generator? = nil) {
        self.architecture = architecture
        self.stem = stem
        let expansion = architecture.bottleneck ? 4 : 1
        let planes = [64, 128, 256, 512].map { Swift.max(1, Int((Double($0) * width).rounded())) }
        stageChannels = planes.map { $0 * expansion }
        let stemChannels = planes[0]
        conv1 = stem == .imagenet
            ? Conv2d(inputChannels, stemChannels, kernelSize: 7, stride: 2, padding: 3, bias: false, generator: generator)
            : Conv2d(inputChannels, stemChannels, kernelSize: 3, stride: 1, padding: 1, bias: false, generator: generator)
        bn1 = BatchNorm2d(stemChannels)
        var inplanes = stemChannels
        func stage(_ index: Int) -> Sequential {
            let stride = index == 0 ? 1 : 2
            var blocks: [any UnaryLayer] = []
            for b in 0..<architecture.layers[index] {
                let block: any UnaryLayer = architecture.bottleneck
                    ? Bottleneck(inplanes, planes[index], stride: b == 0 ? stride : 1, generator: generator)
                    : BasicBlock(inplanes, planes[index], stride: b == 0 ? stride : 1, generator: generator)
                blocks.append(block)
                inplanes = planes[index] * expansion
            }
            return Sequential(blocks)
        }
        layer1 = stage(0)
        layer2 = stage(1)
        layer3 = stage(2)
        layer4 = stage(3)
        super.init()
        initialise(zeroInitResidual: zeroInitResidual, generator: generator)
    }

    /// torchvision's initialisation: He normal (fan_out, ReLU) for convolutions, BN weight 1
    /// and bias 0, optionally the last BN of each residual branch zeroed.
    private func initialise(zeroInitResidual: Bool, generator: Generator?) {
        withNoGrad {
            for module in modules() {
                if let conv = module as? Conv2d {
                    Init.kaimingNormal_(conv.weight, mode: .fanOut, nonlinearity: .relu, generator: generator)
                } else if let bn = module as? BatchNorm {
                    bn.weight?.fill_(1)
                    bn.bias?.zero_()
                }
            }
            guard zeroInitResidual else { return }
            for module in modules() {
                (module as? Bottleneck)?.bn3.weight?.zero_()
                (module as? BasicBlock)?.bn2.weight?.zero_()
            }
        }
    }

    // MARK: Stages
    //
    // Stage membership has this one home. Stage 1 holds the stem (conv1, bn1, and the max-pool
    // of the ImageNet stem) and layer1; stage k > 1 holds layerk. Training blocks, the loading
    // of blocks from another run, and evaluation all ask here.

    /// The ResNet's stages, the paper's blocks B1…B4 under the default partition.
    public static let stageNumbers = 1...4

    /// The top-level members of a stage, by torchvision's names.
    static func members(ofStage stage: Int) -> [String] {
        stage == 1 ? ["conv1", "bn1", "layer1"] : ["layer\(stage)"]
    }

    /// The stage a parameter or buffer belongs to, from its torchvision name:
    /// `conv1.weight` → 1, `layer3.0.bn1.running_mean` → 3; nil for a name of no stage.
    public static func stage(ofParameter name: String) -> Int? {
        let top = String(name.prefix { $0 != "." })
        return stageNumbers.first { members(ofStage: $0).contains(top) }
    }

    /// Every module of a stage.
    public func modules(ofStage stage: Int) -> [Module] {
        let members = Self.members(ofStage: stage)
        return namedChildren().filter { members.contains($0.name) }.flatMap { $0.module.modules() }
    }

    /// Output channels of a stage.
    public func channels(ofStage stage: Int) -> Int { stageChannels[stage - 1] }

    /// Output channels of each block of a partition: those of its last stage.
    public func channels(of partition: BlockPartition) -> [Int] {
        partition.blocks.map { channels(ofStage: $0.last!) }
    }

    /// One stage on `x`; stage 1 starts with the stem.
    public func forward(stage: Int, _ x: Tensor) -> Tensor {
        let layer = [layer1, layer2, layer3, layer4][stage - 1]
        return layer(stage == 1 ? applyStem(x) : x)
    }

    /// Consecutive stages on `x`, in order: one training block.
    public func forward(stages: [Int], _ x: Tensor) -> Tensor {
        stages.reduce(x) { h, stage in forward(stage: stage, h) }
    }

    /// conv1, bn1, ReLU and, for the ImageNet stem, the max-pool.
    func applyStem(_ x: Tensor) -> Tensor {
        let y = bn1(conv1(x)).reluKeepingMask_()
        return stem == .imagenet ? maxPool2d(y, kernel: [3, 3], stride: [2, 2], padding: [1, 1]) : y
    }

    /// The outputs of stages 1…`last`, each feeding the next: what evaluation reads.
    public func stageOutputs(_ x: Tensor, through last: Int) -> [Tensor] {
        var h = x
        return (1...last).map { stage in
            h = forward(stage: stage, h)
            return h
        }
    }

    /// The output of layer4 [N, C, H, W].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        forward(stages: Array(Self.stageNumbers), x)
    }

    /// Global-average-pooled layer4 features [N, C]: what torchvision's ResNet feeds its fc.
    public func features(_ x: Tensor) -> Tensor { self(x).mean(dims: [2, 3]) }
}

extension ResNet {
    /// The backbone a configuration's model section describes, randomly initialised from `generator`.
    public convenience init(_ model: Config.ModelSection, generator: Generator? = nil) {
        self.init(model.architecture, stem: model.stem, width: model.width, zeroInitResidual: model.zeroInitResidual,
                  generator: generator)
    }
}

/// torchvision's `BasicBlock`: two 3×3 convolutions and a shortcut (ResNet-18/34).
public final class BasicBlock: Module, UnaryLayer {
    let conv1: Conv2d
    let bn1: BatchNorm2d
    let conv2: Conv2d
    let bn2: BatchNorm2d
    let downsample: Sequential?

    init(_ inplanes: Int, _ planes: Int, stride: Int, generator: Generator?) {
        conv1 = Conv2d(inplanes, planes, kernelSize: 3, stride: .init(stride), padding: 1, bias: false, generator: generator)
        bn1 = BatchNorm2d(planes)
        conv2 = Conv2d(planes, planes, kernelSize: 3, padding: 1, bias: false, generator: generator)
        bn2 = BatchNorm2d(planes)
        downsample = stride != 1 || inplanes != planes
            ? Sequential(Conv2d(inplanes, planes, kernelSize: 1, stride: .init(stride), bias: false, generator: generator),
                         BatchNorm2d(planes))
            : nil
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let out = bn2(conv2(bn1(conv1(x)).relu_()))
        return (out + (downsample?(x) ?? x)).reluKeepingMask_()
    }
}

/// torchvision's `Bottleneck` (v1.5: the stride on the 3×3 convolution): 1×1, 3×3, 1×1
/// convolutions expanding the channels 4 times, and a shortcut (ResNet-50).
public final class Bottleneck: Module, UnaryLayer {
    let conv1: Conv2d
    let bn1: BatchNorm2d
    let conv2: Conv2d
    let bn2: BatchNorm2d
    let conv3: Conv2d
    let bn3: BatchNorm2d
    let downsample: Sequential?

    init(_ inplanes: Int, _ planes: Int, stride: Int, generator: Generator?) {
        conv1 = Conv2d(inplanes, planes, kernelSize: 1, bias: false, generator: generator)
        bn1 = BatchNorm2d(planes)
        conv2 = Conv2d(planes, planes, kernelSize: 3, stride: .init(stride), padding: 1, bias: false, generator: generator)
        bn2 = BatchNorm2d(planes)
        conv3 = Conv2d(planes, planes * 4, kernelSize: 1, bias: false, generator: generator)
        bn3 = BatchNorm2d(planes * 4)
        downsample = stride != 1 || inplanes != planes * 4
            ? Sequential(Conv2d(inplanes, planes * 4, kernelSize: 1, stride: .init(stride), bias: false, generator: generator),
                         BatchNorm2d(planes * 4))
            : nil
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let out = bn3(conv3(bn2(conv2(bn1(conv1(x)).relu_())).relu_()))
        return (out + (downsample?(x) ?? x)).reluKeepingMask_()
    }
}

import Foundation
import Testing
import Torch
@testable import Blockwise

private func fixtureLines(_ name: String) throws -> [String] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures/resnet/\(name)")
    return try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
}

@Suite struct ResNetTests {
    @Test(arguments: ["resnet18", "resnet50"])
    func namesEqualTorchvisionsInOrder(_ name: String) throws {
        let model = ResNet(.named(name)!, generator: Generator(seed: 0))
        #expect(model.orderedStateDict().map(\.name) == (try fixtureLines("\(name)_names.txt")))
    }

    @Test func parameterCountsMatchTorchvisionWithoutTheClassifier() {
        // torchvision: resnet18 11,689,512 and resnet50 25,557,032 parameters, fc included.
        #expect(ResNet(.resnet18).parameterCount == 11_689_512 - (512 * 1000 + 1000))
        #expect(ResNet(.resnet50).parameterCount == 25_557_032 - (2048 * 1000 + 1000))
    }

    @Test func smallStemKeepsTheResolutionAndImagenetStemDividesItByFour() {
        let small = ResNet(.resnet18, stem: .small, width: 0.25)
        let imagenet = ResNet(.resnet18, stem: .imagenet, width: 0.25)
        #expect(small.applyStem(Tensor.zeros([2, 3, 32, 32])).shape == [2, 16, 32, 32])
        #expect(imagenet.applyStem(Tensor.zeros([2, 3, 64, 64])).shape == [2, 16, 16, 16])
        #expect(small(Tensor.zeros([2, 3, 32, 32])).shape == [2, 128, 4, 4])
    }

    @Test func widthMultiplierScalesEveryStage() {
        #expect(ResNet(.resnet50, width: 0.5).stageChannels == [128, 256, 512, 1024])
        #expect(ResNet(.resnet18, width: 2).stageChannels == [128, 256, 512, 1024])
    }

    @Test func zeroInitResidualMakesEveryResidualBranchStartAtZero() {
        let model = ResNet(.resnet50, width: 0.125, zeroInitResidual: true)
        let last = model.orderedStateDict().filter { $0.name.hasSuffix("bn3.weight") }
        #expect(last.count == 16)
        #expect(last.allSatisfy { $0.tensor.abs().sum().item() == 0 })
    }

    @Test func convolutionsAreHeNormalWithFanOut() {
        // torchvision: kaiming_normal_(mode="fan_out", nonlinearity="relu"): std = √(2 / (out·k·k)).
        let model = ResNet(.resnet18, generator: Generator(seed: 3))
        let w = model.orderedStateDict().first { $0.name == "layer3.0.conv1.weight" }!.tensor
        let expected = (2.0 / Double(256 * 9)).squareRoot()
        #expect(abs(w.std().item() / expected - 1) < 0.02)
    }
}

@Suite struct BlockPartitionTests {
    @Test func parsesMergedBlocks() throws {
        #expect(try BlockPartition(parsing: "1+2,3,4").blocks == [[1, 2], [3], [4]])
        #expect(try BlockPartition(parsing: "1,2,3,4") == .perStage)
        #expect(try BlockPartition(parsing: "1+2+3+4") == .whole)
    }

    @Test func rejectsPartitionsThatSkipOrReorderStages() {
        for bad in ["1,3,4", "2,1,3,4", "1,2,3,4,4", "1+x,2", ""] {
            #expect(throws: PartitionError.self) { try BlockPartition(parsing: bad) }
        }
    }

    @Test func blocksFollowThePartition() throws {
        let network = try BlockwiseNetwork(backbone: ResNet(.resnet18, stem: .small, width: 0.25),
                                           partition: try BlockPartition(parsing: "1+2,3,4"), head: .init(kind: .globalSpatial))
        var h = Tensor.randn([2, 3, 16, 16])
        var shapes: [[Int]] = []
        for k in 0..<3 {
            h = network.forward(block: k, h)
            shapes.append(h.shape)
        }
        #expect(shapes == [[2, 32, 8, 8], [2, 64, 4, 4], [2, 128, 2, 2]])
        #expect(network.backbone.channels(of: network.partition) == [32, 64, 128])
    }

    @Test func mergedBlocksGiveTheSameFeaturesAsTheWholeNetwork() throws {
        let model = ResNet(.resnet18, stem: .small, width: 0.25, generator: Generator(seed: 1))
        model.eval()
        let x = Tensor.randn([2, 3, 16, 16], generator: Generator(seed: 2))
        let blockByBlock = [[1, 2], [3], [4]].reduce(x) { model.forward(stages: $1, $0) }
        #expect(blockByBlock.allClose(model(x), atol: 1e-6))
    }

    @Test func stageOneHoldsTheStemByModuleAndByName() throws {
        #expect(ResNet.stage(ofParameter: "conv1.weight") == 1)
        #expect(ResNet.stage(ofParameter: "bn1.running_mean") == 1)
        #expect(ResNet.stage(ofParameter: "layer1.0.conv1.weight") == 1)
        #expect(ResNet.stage(ofParameter: "layer3.1.downsample.1.bias") == 3)
        #expect(ResNet.stage(ofParameter: "fc.weight") == nil)
        #expect(ResNet.stage(ofParameter: "layer10.weight") == nil)
        let model = ResNet(.resnet18, stem: .imagenet, width: 0.25)
        // A stage's modules hold exactly the tensors its names say.
        for stage in ResNet.stageNumbers {
            let held = model.modules(ofStage: stage).flatMap { $0.orderedStateDict().filter { !$0.name.contains(".") } }
            let named = model.orderedStateDict().filter { ResNet.stage(ofParameter: $0.name) == stage }
            #expect(held.count == named.count && named.count > 0, "stage \(stage)")
            #expect(held.map(\.tensor.count).reduce(0, +) == named.map(\.tensor.count).reduce(0, +), "stage \(stage)")
        }
        #expect(model.orderedStateDict().allSatisfy { ResNet.stage(ofParameter: $0.name) != nil })
        #expect(model.modules(ofStage: 1).contains { $0 === model.conv1 } && !model.modules(ofStage: 2).contains { $0 === model.bn1 })
    }
}

@Suite struct PoolingHeadTests {
    static let kinds = PoolingKind.allCases

    @Test(arguments: kinds)
    func everyHeadGivesItsDimensionAtEveryBlockOfEveryDepth(_ kind: PoolingKind) throws {
        for arch in [ResNet.Architecture.resnet18, .resnet50] {
            let backbone = ResNet(arch, stem: .small, width: 0.125)
            let outputs = backbone.stageOutputs(Tensor.randn([2, 3, 16, 16]), through: 4)
            let dimension = backbone.stageChannels.last!
            for (output, channels) in zip(outputs, backbone.stageChannels) {
                let head = try PoolingHead(kind, inputChannels: channels, outputDimension: dimension)
                let expected = kind == .globalSpatial ? channels : dimension
                #expect(head(output).shape == [2, expected], "\(arch.name) \(kind) \(channels) channels")
                #expect(head.outputDimension == expected)
            }
        }
    }

    @Test func localSpatialBinsFollowTheDocumentedLayout() throws {
        // ResNet-50, D = 2048: block 1 (256 channels) has 2×4 bins.
        let head = try PoolingHead(.localSpatial, inputChannels: 256, outputDimension: 2048)
        #expect(head.bins == (2, 4))
        let x = Tensor.arange(0, 256 * 4 * 8, dtype: .float32).reshape([1, 256, 4, 8])
        let z = head(x)
        // Channel 0, bin (0, 0) covers rows 0–1, columns 0–1: values 0, 1, 8, 9.
        #expect(z.toArray(Float.self)[0] == 4.5)
        #expect(z.shape == [1, 2048])
    }

    @Test func globalSpatialPoolingIsTheSpatialMean() throws {
        let x = Tensor.randn([3, 5, 4, 4])
        let head = try PoolingHead(.globalSpatial, inputChannels: 5)
        #expect(head(x).allClose(adaptiveAvgPool2d(x, outputSize: [1, 1]).flatten(start: 1), atol: 1e-6))
    }

    @Test func convExpansionPoolingsFollowTheirFormulas() throws {
        let x = Tensor.randn([4, 8, 3, 3], generator: Generator(seed: 7))
        let gsp = try PoolingHead(.convExpansion, inputChannels: 8, outputDimension: 16, generator: Generator(seed: 8))
        let l2 = try PoolingHead(.convExpansionL2, inputChannels: 8, outputDimension: 16, generator: Generator(seed: 8))
        let sqrt = try PoolingHead(.convExpansionSqrt, inputChannels: 8, outputDimension: 16, generator: Generator(seed: 8))
        let y = gsp.expansion!(x)
        #expect(y.min().item() >= 0)
        #expect(gsp(x).allClose(y.mean(dims: [2, 3]), atol: 1e-6))
        #expect(l2(x).allClose(y.square().mean(dims: [2, 3]).sqrt(), atol: 1e-6))
        #expect(sqrt(x).allClose((y + 1e-6).sqrt().mean(dims: [2, 3]), atol: 1e-6))
    }

    @Test func kernelSizeAndGroupsShapeTheExpansionConvolution() throws {
        let head = try PoolingHead(.convExpansion, inputChannels: 8, outputDimension: 16, kernelSize: 3, groups: 4)
        let weight = head.orderedStateDict().first { $0.name == "expansion.0.weight" }!.tensor
        #expect(weight.shape == [16, 2, 3, 3])
        #expect(head(Tensor.randn([2, 8, 5, 5])).shape == [2, 16])
        #expect(throws: PartitionError.self) { try PoolingHead(.convExpansion, inputChannels: 6, outputDimension: 16, groups: 4) }
        #expect(throws: PartitionError.self) { try PoolingHead(.localSpatial, inputChannels: 6, outputDimension: 16) }
    }
}

/// The fused CbE head (`PoolingHead.fused`) against the composed conv, BN, ReLU and pooling
/// layers of the reference code, in float64.
@Suite struct FusedPoolingHeadTests {
    static let kinds: [PoolingKind] = [.convExpansion, .convExpansionL2, .convExpansionSqrt]

    /// A float64 head whose BN weight and bias are away from their initial 1 and 0.
    func head(_ kind: PoolingKind, fused: Bool, kernelSize: Int = 1, groups: Int = 1) throws -> PoolingHead {
        let head = try PoolingHead(kind, inputChannels: 8, outputDimension: 24, kernelSize: kernelSize, groups: groups,
                                   generator: Generator(seed: 3))
        head.to(dtype: .float64)
        head.fused = fused
        let g = Generator(seed: 4)
        let norm = head.expansion!.layers[1] as! BatchNorm
        withNoGrad {
            norm.weight!.uniform_(0.5, 1.5, generator: g)
            norm.bias!.uniform_(-0.5, 0.5, generator: g)
        }
        return head
    }

    /// The output, the gradients of the input and of every parameter (conv weight, BN weight
    /// and bias), then every buffer (running mean and variance, batches tracked) after the pass.
    func pass(_ head: PoolingHead, seed: UInt64) -> [(String, Tensor)] {
        let g = Generator(seed: seed)
        let x = (Tensor.randn([6, 8, 5, 5], dtype: .float64, generator: g) + 0.2).requiresGrad_()
        let upstream = Tensor.randn([6, 24], dtype: .float64, generator: g)
        let z = head(x)
        let parameters = head.namedParameters()
        let grads = gradients(of: [z], withRespectTo: [x] + parameters.map(\.tensor), gradOutputs: [upstream])
        return [("output", z.detach()), ("input gradient", grads[0]!)]
            + zip(parameters, grads.dropFirst()).map { ("\($0.0.name) gradient", $0.1!) }
            + head.namedBuffers().map { ($0.name, $0.tensor.to(.float64)) }
    }

    /// (groups, kernel size): 1×1 heads fuse whole; a 3×3 head runs its convolution as a layer
    /// and the rest as one node (`normalizedExpansion`).
    @Test(arguments: kinds, [(1, 1), (4, 1), (1, 3)])
    func theFusedHeadGivesTheComposedValuesGradientsAndRunningStatisticsInTrainingAndEvaluation(_ kind: PoolingKind,
                                                                                               shape: (groups: Int, kernelSize: Int)) throws {
        let groups = shape.groups
        let fused = try head(kind, fused: true, kernelSize: shape.kernelSize, groups: groups)
        let composed = try head(kind, fused: false, kernelSize: shape.kernelSize, groups: groups)
        for (step, training) in [true, true, false].enumerated() {
            fused.train(training)
            composed.train(training)
            let a = pass(fused, seed: UInt64(10 + step)), b = pass(composed, seed: UInt64(10 + step))
            #expect(a.map(\.0) == b.map(\.0))
            #expect(a.count == 8, "output, 4 gradients, 3 buffers")
            for ((name, x), (_, y)) in zip(a, b) {
                #expect(x.allClose(y, rtol: 1e-10, atol: 1e-12),
                        "\(kind), \(groups) group(s), \(shape.kernelSize)², \(training ? "training" : "evaluation") step \(step): \(name)")
            }
        }
    }

    /// A block output in channels-last order (`model.memory_format`) gives the fused float32
    /// head the values, gradients and statistics of the default order: its kernels and tiles
    /// read a channel-major copy of either, and the input gradient has the input's values.
    @Test(arguments: kinds)
    func aChannelsLastInputGivesTheFusedHeadTheSameValuesAndGradients(_ kind: PoolingKind) throws {
        func pass(_ format: MemoryFormat) throws -> [Tensor] {
            let head = try PoolingHead(kind, inputChannels: 8, outputDimension: 24, generator: Generator(seed: 3))
            let g = Generator(seed: 5)
            let x = (Tensor.randn([6, 8, 5, 5], generator: g) + 0.2).contiguous(format).requiresGrad_()
            let upstream = Tensor.randn([6, 24], generator: g)
            let z = head(x)
            let parameters = head.parameters()
            let grads = gradients(of: [z], withRespectTo: [x] + parameters, gradOutputs: [upstream])
            return [z.detach()] + grads.map { $0! } + head.namedBuffers().map { $0.tensor.to(.float64) }
        }
        let (plain, channelsLast) = (try pass(.contiguous), try pass(.channelsLast))
        #expect(plain.count == 8, "output, 4 gradients, 3 buffers")
        for (index, (x, y)) in zip(plain, channelsLast).enumerated() {
            #expect(x.allClose(y, rtol: 1e-6, atol: 1e-7), "\(kind): tensor \(index)")
        }
    }

    @Test func aOneByOneHeadFusesAndOthersFallBackToTheComposedLayers() throws {
        let x = Tensor.randn([2, 8, 5, 5], dtype: .float64)
        #expect(try head(.convExpansion, fused: true).fusedExpansion(x) != nil)
        #expect(try head(.convExpansionL2, fused: true).fusedExpansion(x) != nil)
        #expect(try head(.convExpansion, fused: false).fusedExpansion(x) == nil)
        #expect(try head(.convExpansion, fused: true, kernelSize: 3).fusedExpansion(x) == nil)
        #expect(try head(.convExpansion, fused: true, groups: 4).fusedExpansion(x) != nil)
        #expect(try head(.convExpansion, fused: true, kernelSize: 3).normalizedExpansion(x) != nil)
        #expect(try head(.convExpansion, fused: false, kernelSize: 3).normalizedExpansion(x) == nil)
    }

    @Test func fusingKeepsTheStateDictNames() throws {
        #expect(try head(.convExpansion, fused: true).orderedStateDict().map(\.name)
            == ["expansion.0.weight", "expansion.1.weight", "expansion.1.bias", "expansion.1.running_mean",
                "expansion.1.running_var", "expansion.1.num_batches_tracked"])
    }
}

@Suite struct ProjectorTests {
    @Test func buildsLinearBatchNormReLUBetweenLayersAndAPlainLinearLast() throws {
        let projector = Projector(inputDimension: 16, layerSizes: [32, 32, 8])
        #expect(projector.orderedStateDict().map(\.name).filter { $0.hasSuffix("weight") }
            == ["layers.0.weight", "layers.1.weight", "layers.3.weight", "layers.4.weight", "layers.6.weight"])
        #expect(!projector.orderedStateDict().contains { $0.name.hasSuffix("bias") && $0.name.contains("layers.6") })
        #expect(projector(Tensor.randn([4, 16])).shape == [4, 8])
    }

    @Test func noLayersIsTheIdentity() throws {
        let x = Tensor.randn([3, 5])
        #expect(Projector(inputDimension: 5, layerSizes: [])(x).equal(x))
    }
}

/// Gradient isolation, checked on the path training runs: `BlockwiseStep` under a phase
/// of the trainer's plan, with noise, both views, and with and without recomputation.
@Suite struct GradientIsolationTests {
    /// A loss with zero gradient everywhere: it lets one block's loss be seen alone while
    /// every block of the phase trains.
    struct Silent: Objective {
        func loss(_ zA: Tensor, _ zB: Tensor, labels: Tensor?) -> Tensor { (zA.sum() + zB.sum()) * 0 }
    }

    struct Square: Objective {
        func loss(_ zA: Tensor, _ zB: Tensor, labels: Tensor?) -> Tensor { zA.square().sum() + zB.square().sum() }
    }

    func network(_ partition: BlockPartition) throws -> BlockwiseNetwork {
        try BlockwiseNetwork(backbone: ResNet(.resnet18, stem: .small, width: 0.125, generator: Generator(seed: 0)),
                             partition: partition,
                             head: .init(kind: .convExpansion, dimension: 32, projector: [32, 16]),
                             noise: NoiseInjection(sigma: 0.25), generator: Generator(seed: 1))
    }

    /// Names of parameters that received a non-zero gradient.
    func touched(_ net: BlockwiseNetwork) -> Set<String> {
        Set(net.namedParameters().compactMap { name, p in (p.grad?.abs().sum().item() ?? 0) > 0 ? name : nil })
    }

    /// The parameters of block `k`: its stages, head and projector.
    func owned(by k: Int, _ net: BlockwiseNetwork) -> (String) -> Bool {
        let stages = net.partition.blocks[k]
        return { name in
            if name.hasPrefix("heads.\(k).") || name.hasPrefix("projectors.\(k).") { return true }
            guard name.hasPrefix("backbone.") else { return false }
            return ResNet.stage(ofParameter: String(name.dropFirst("backbone.".count))).map { stages.contains($0) } ?? false
        }
    }

    @Test(arguments: ["1,2,3,4", "1+2,3,4"], [false, true])
    func eachBlockLossReachesOnlyItsOwnBlockHeadAndProjector(_ spec: String, recompute: Bool) throws {
        let net = try network(try BlockPartition(parsing: spec))
        let phase = try TrainingPlan(mode: .simultaneous, blocks: net.partition.count).phases[0]
        let x = Tensor.randn([4, 3, 16, 16], generator: Generator(seed: 2))
        for k in 0..<net.partition.count {
            for p in net.parameters() { p.grad = nil }
            let objectives: [any Objective] = net.partition.blocks.indices.map { $0 == k ? Square() as any Objective : Silent() }
            let step = BlockwiseStep(network: net, objectives: objectives, recompute: recompute)
            let result = step.run(x, x.flip([3]), labels: nil, phase: phase, noise: NoiseStreams(seed: 3, blocks: net.partition.count))
            #expect(result.losses.count == net.partition.count)
            let names = touched(net)
            let isOwned = owned(by: k, net)
            #expect(!names.isEmpty)
            #expect(names.allSatisfy(isOwned), "block \(k) leaked into \(names.filter { !isOwned($0) }.sorted().prefix(3))")
            #expect(net.namedParameters().filter { isOwned($0.name) }.contains { names.contains($0.name) })
        }
    }

    @Test func withoutStopGradientTheLastLossReachesTheFirstBlock() throws {
        let net = try network(.perStage)
        let phase = TrainingPhase(trainedBlocks: [3], frozenBlocks: [], stopGradient: false, frozenBatchNormTrains: false)
        let step = BlockwiseStep(network: net, objectives: Array(repeating: Square(), count: 4))
        let x = Tensor.randn([4, 3, 16, 16])
        _ = step.run(x, x, labels: nil, phase: phase)
        #expect(touched(net).contains("backbone.conv1.weight"))
    }
}

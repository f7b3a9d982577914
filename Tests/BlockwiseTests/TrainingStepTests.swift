import Testing
import Torch
@testable import Blockwise

@Suite struct TrainingPlanTests {
    @Test func sequentialTrainsOneBlockPerPhaseWithTheBlocksBelowFrozen() throws {
        let plan = try TrainingPlan(mode: .sequential, blocks: 3)
        #expect(plan.phases.map(\.trainedBlocks) == [[0], [1], [2]])
        #expect(plan.phases.map(\.frozenBlocks) == [[], [0], [0, 1]])
    }

    @Test func randomFrozenTrainsOnlyTheChosenBlock() throws {
        let plan = try TrainingPlan(mode: .randomFrozen, blocks: 4, trainedBlock: 3)
        #expect(plan.phases == [TrainingPhase(trainedBlocks: [2], frozenBlocks: [0, 1], stopGradient: true,
                                              frozenBatchNormTrains: false)])
        #expect(throws: TrainingError.self) { try TrainingPlan(mode: .randomFrozen, blocks: 4, trainedBlock: 5) }
    }

    @Test func endToEndNeedsTheWholeNetworkAsOneBlock() throws {
        #expect(try TrainingPlan(mode: .endToEnd, blocks: 1).phases[0].stopGradient == false)
        #expect(throws: TrainingError.self) { try TrainingPlan(mode: .supervisedEndToEnd, blocks: 4) }
    }

    @Test func loadedFrozenBlocksLeaveTheTrainedSetAndJoinTheFrozenOne() throws {
        let plan = try TrainingPlan(mode: .simultaneous, blocks: 3, loadedFrozen: [0])
        #expect(plan.phases[0].trainedBlocks == [1, 2])
        #expect(plan.phases[0].frozenBlocks == [0])
        #expect(throws: TrainingError.self) { try TrainingPlan(mode: .randomFrozen, blocks: 2, trainedBlock: 1, loadedFrozen: [0]) }
        // Sequential: the loaded block's phase has nothing to do and is skipped.
        #expect(try TrainingPlan(mode: .sequential, blocks: 3, loadedFrozen: [0]).phases.map(\.trainedBlocks) == [[1], [2]])
    }
}

@Suite struct BlockwiseStepTests {
    func step(_ partition: BlockPartition = .perStage, objective: any Objective = BarlowTwins()) throws -> BlockwiseStep {
        let network = try BlockwiseNetwork(
            backbone: ResNet(.resnet18, stem: .small, width: 0.125, generator: Generator(seed: 0)),
            partition: partition, head: .init(kind: .convExpansion, dimension: 32, projector: [32, 16]),
            generator: Generator(seed: 1))
        return BlockwiseStep(network: network, objectives: Array(repeating: objective, count: partition.count))
    }

    let a = Tensor.randn([8, 3, 16, 16], generator: Generator(seed: 2))
    let b = Tensor.randn([8, 3, 16, 16], generator: Generator(seed: 3))

    func hasGradient(_ modules: [Module]) -> Bool {
        modules.flatMap { $0.parameters() }.contains { ($0.grad?.abs().sum().item() ?? 0) > 0 }
    }

    func buffersSnapshot(_ modules: [Module]) -> [Tensor] { modules.flatMap { $0.buffers() }.map { $0.clone() } }

    @Test func simultaneousGivesEveryBlockALossAndAGradient() throws {
        let s = try step()
        let plan = try TrainingPlan(mode: .simultaneous, blocks: 4)
        let result = s.run(a, b, labels: nil, phase: plan.phases[0])
        #expect(result.losses.keys.sorted() == [0, 1, 2, 3])
        for k in 0..<4 { #expect(hasGradient(s.network.modules(ofBlock: k)), "block \(k)") }
    }

    @Test func sequentialPhaseLeavesFrozenBlocksWithoutGradientsAndTheirStatisticsUnchanged() throws {
        let s = try step()
        let phase = try TrainingPlan(mode: .sequential, blocks: 4).phases[2]
        let frozen = s.network.modules(ofBlock: 0) + s.network.modules(ofBlock: 1)
        let before = buffersSnapshot(frozen)
        let result = s.run(a, b, labels: nil, phase: phase)
        #expect(result.losses.keys.sorted() == [2])
        #expect(!hasGradient(frozen))
        #expect(hasGradient(s.network.modules(ofBlock: 2)))
        #expect(!hasGradient(s.network.modules(ofBlock: 3)))
        #expect(zip(before, buffersSnapshot(frozen)).allSatisfy { $0.equal($1) })
    }

    @Test func frozenBatchNormCanKeepTraining() throws {
        let s = try step()
        let phase = try TrainingPlan(mode: .sequential, blocks: 4, lowerBatchNormTrains: true).phases[1]
        let frozen = s.network.modules(ofBlock: 0)
        let before = buffersSnapshot(frozen)
        _ = s.run(a, b, labels: nil, phase: phase)
        #expect(!hasGradient(frozen))
        #expect(!zip(before, buffersSnapshot(frozen)).allSatisfy { $0.equal($1) })
    }

    @Test func endToEndBackpropagatesTheLastLossToTheStem() throws {
        let s = try step(.whole)
        let result = s.run(a, b, labels: nil, phase: try TrainingPlan(mode: .endToEnd, blocks: 1).phases[0])
        #expect(result.losses.keys.sorted() == [0])
        #expect(s.network.backbone.conv1.weight.grad != nil)
    }

    @Test(arguments: ["1,2,3,4", "1+2,3,4"])
    func recomputationGivesTheSameLossesGradientsAndStatistics(_ spec: String) throws {
        func make() throws -> BlockwiseNetwork {
            try BlockwiseNetwork(backbone: ResNet(.resnet18, stem: .small, width: 0.125, generator: Generator(seed: 0)),
                                 partition: try BlockPartition(parsing: spec),
                                 head: .init(kind: .convExpansion, dimension: 32, projector: [32, 16]),
                                 noise: NoiseInjection(sigma: 0.25), generator: Generator(seed: 1))
        }
        let plain = try make()
        let recomputing = try make()
        let blocks = plain.partition.count
        let phase = try TrainingPlan(mode: .simultaneous, blocks: blocks).phases[0]
        let first = BlockwiseStep(network: plain, objectives: Array(repeating: BarlowTwins(), count: blocks))
            .run(a, b, labels: nil, phase: phase, noise: NoiseStreams(seed: 9, blocks: blocks))
        let second = BlockwiseStep(network: recomputing, objectives: Array(repeating: BarlowTwins(), count: blocks),
                                   recompute: true).run(a, b, labels: nil, phase: phase, noise: NoiseStreams(seed: 9, blocks: blocks))
        for k in 0..<blocks { #expect(abs(first.losses[k]!.item() - second.losses[k]!.item()) < 1e-5) }
        for ((name, p), (_, q)) in zip(plain.namedParameters(), recomputing.namedParameters()) {
            #expect(p.grad!.allClose(q.grad!, rtol: 1e-4, atol: 1e-6), "\(name)")
        }
        for ((name, p), (_, q)) in zip(plain.namedBuffers(), recomputing.namedBuffers()) {
            #expect(p.allClose(q, rtol: 1e-5, atol: 1e-7), "\(name)")
        }
    }

    /// The network of the memory-format tests, its activations in `format`.
    static func network(_ format: MemoryFormat) throws -> BlockwiseNetwork {
        let network = try BlockwiseNetwork(backbone: ResNet(.resnet18, stem: .small, width: 0.125, generator: Generator(seed: 0)),
                                           partition: .perStage, head: .init(kind: .convExpansion, dimension: 32, projector: [32, 16]),
                                           generator: Generator(seed: 1))
        network.memoryFormat = format
        return network
    }

    /// One simultaneous step: the step's result and the network's gradients and buffers.
    static func simultaneousStep(_ format: MemoryFormat, dtype: DType = .float32, precision: DType? = nil) throws
        -> (BlockwiseStep.Output, [Tensor], [Tensor])
    {
        let network = try Self.network(format)
        network.to(dtype: dtype)
        let phase = try TrainingPlan(mode: .simultaneous, blocks: 4).phases[0]
        let a = Tensor.randn([8, 3, 16, 16], generator: Generator(seed: 2)).to(dtype)
        let b = Tensor.randn([8, 3, 16, 16], generator: Generator(seed: 3)).to(dtype)
        let result = BlockwiseStep(network: network, objectives: Array(repeating: BarlowTwins(), count: 4), precision: precision)
            .run(a, b, labels: nil, phase: phase)
        return (result, network.parameters().map { $0.grad! }, network.namedBuffers().map(\.tensor))
    }

    /// `model.memory_format: channels-last` lays every block's activations out as [N, H, W, C]
    /// and changes nothing else: the losses, gradients and statistics of the default order, in
    /// float64, through the fused CbE node, to 10⁻¹⁰ (observed: 5·10⁻¹⁴ of each gradient's
    /// largest value); a wrong order of values (a mask, a gradient, a noise) gives errors of
    /// order 1. Not in float32: the convolutions sum in another order, and here a value before
    /// layer2.0's first ReLU lies 10⁻⁷ from zero, so float32's rounding decides which side of
    /// the kink it falls on, and that one value moved two gradients by 2–3% at 1 thread (a
    /// 10⁻⁶ noise on the input did the same in the default order alone).
    @Test func channelsLastGivesTheSameLossesGradientsAndStatistics() throws {
        let (first, firstGradients, firstBuffers) = try Self.simultaneousStep(.contiguous, dtype: .float64)
        let (second, secondGradients, secondBuffers) = try Self.simultaneousStep(.channelsLast, dtype: .float64)
        #expect(second.outputs.values.allSatisfy { $0.0.dtype == .float64 && $0.0.isContiguous(.channelsLast) && !$0.0.isContiguous() })
        #expect(first.outputs.values.allSatisfy { $0.0.isContiguous() })
        for k in 0..<4 { #expect(abs(first.losses[k]!.item() - second.losses[k]!.item()) <= 1e-10 * abs(first.losses[k]!.item())) }
        for (index, (p, q)) in zip(firstGradients, secondGradients).enumerated() {
            let (off, largest) = ((p - q).abs().max().item(), p.abs().max().item())
            #expect(off <= 1e-10 * largest, "gradient \(index) \(p.shape): \(off) off, largest \(largest)")
        }
        for (p, q) in zip(firstBuffers, secondBuffers) { #expect(p.allClose(q, rtol: 1e-10, atol: 1e-12)) }
    }

    /// In bf16 (BN, ReLU and pooling as one node over the bf16 expansion, read channels-last),
    /// each order's rounding moves the gradients away from float32's by about as much: the
    /// two bf16 runs are not closer to each other than to float32, so each is held to float32.
    @Test func channelsLastInBF16IsAsCloseToFloat32AsTheDefaultOrder() throws {
        let (_, exact, _) = try Self.simultaneousStep(.contiguous)
        let (_, plain, _) = try Self.simultaneousStep(.contiguous, precision: .bfloat16)
        let (result, channelsLast, _) = try Self.simultaneousStep(.channelsLast, precision: .bfloat16)
        #expect(result.outputs.values.allSatisfy { $0.0.dtype == .bfloat16 && $0.0.isContiguous(.channelsLast) })
        func distance(_ gradients: [Tensor]) -> Double {
            let squares = zip(gradients, exact).map { ($0.to(.float64) - $1.to(.float64)).square().sum().item() }
            return (squares.reduce(0, +) / exact.map { $0.to(.float64).square().sum().item() }.reduce(0, +)).squareRoot()
        }
        let (plainDistance, channelsLastDistance) = (distance(plain), distance(channelsLast))
        print("bf16 distance to float32: default order \(plainDistance), channels-last \(channelsLastDistance)")
        #expect(plainDistance > 1e-4, "bf16 changed nothing")
        #expect(channelsLastDistance <= 2 * plainDistance, "channels-last \(channelsLastDistance), default order \(plainDistance)")
    }

    @Test func supervisedBlockwiseUsesTheLabels() throws {
        let network = try BlockwiseNetwork(
            backbone: ResNet(.resnet18, stem: .small, width: 0.125), partition: .perStage,
            head: .init(kind: .globalSpatial, projector: [16, 10]))
        let s = BlockwiseStep(network: network, objectives: Array(repeating: SupervisedCrossEntropy(), count: 4))
        let labels = Tensor.randint(0, 10, [8], generator: Generator(seed: 4))
        let result = s.run(a, b, labels: labels, phase: try TrainingPlan(mode: .supervisedBlockwise, blocks: 4).phases[0])
        // Untrained logits are near uniform: each loss is close to log(10).
        for (_, loss) in result.losses { #expect(abs(loss.item() - Foundation.log(10.0)) < 1.5) }
    }
}

import Foundation

import Foundation
import Testing
import Torch
@testable import Blockwise

/// Difficulty-based routing (paper App. A): quantile routing, the two schemes' weights, the
/// weighted Barlow Twins loss, blocks above left untouched, and exact resume.
@Suite(.serialized) struct RoutingTests {
    /// Eight examples with difficulties 7, 6, …, 0 measured in one epoch.
    func measured(_ scheme: Routing.Scheme, weight: Double = 0.25) -> Routing {
        let routing = Routing(scheme: scheme, weight: weight, blocks: 4, count: 9)
        routing.record(indices: Array(0..<8), difficulties: (0..<8).map { Double(7 - $0) })
        routing.endEpoch()
        return routing
    }

    @Test func quantilesRouteTheEasiestToBlockOneAndTheHardestToTheTop() {
        let allBelow = measured(.allBelow).weights(for: Array(0..<9), trained: [0, 1, 2, 3]).weights
        // Example 7 is the easiest, 0 the hardest; 8 was never measured and trains everything.
        let own = (0..<9).map { i in (0..<4).filter { allBelow[$0]![i] == 1 }.max()! }
        #expect(own == [3, 3, 2, 2, 1, 1, 0, 0, 3])
        // All below: an example's weights are 1 up to its block and 0 above.
        for i in 0..<8 { #expect((0..<4).map { allBelow[$0]![i] } == (0..<4).map { $0 <= own[i] ? 1 : 0 }) }
        #expect((0..<4).map { k in allBelow[k]!.reduce(0, +) } == [9, 7, 5, 3])
        // Weighted: 1 at its block, w at the three others.
        let weighted = measured(.weighted).weights(for: Array(0..<9), trained: [0, 1, 2, 3]).weights
        for i in 0..<8 {
            let total: Double = (0..<4).map { weighted[$0]![i] }.reduce(0, +)
            #expect(total == 1.75)
            #expect(weighted[own[i]]![i] == 1)
        }
        #expect((0..<4).map { weighted[$0]![8] } == [1, 1, 1, 1])
    }

    @Test func unmeasuredExamplesKeepTheirLastDifficulty() {
        let routing = measured(.allBelow)
        routing.record(indices: [0], difficulties: [-1])
        routing.endEpoch()
        // Example 0 is now the easiest; the others kept their difficulties.
        let weights = routing.weights(for: [0, 1, 7], trained: [0, 1, 2, 3]).weights
        #expect((0..<4).map { weights[$0]![0] } == [1, 0, 0, 0])
        #expect((0..<4).map { weights[$0]![1] } == [1, 1, 1, 1])
    }

    @Test func theWeightedCrossCorrelationWeighsExamplesAndTheirStatistics() {
        let zA = Tensor.randn([12, 6], dtype: .float64, generator: Generator(seed: 4))
        let zB = Tensor.randn([12, 6], dtype: .float64, generator: Generator(seed: 5))
        let uniform = BarlowTwins.weightedCrossCorrelation(zA, zB, weights: Tensor(Array(repeating: 2.0, count: 12)))
        #expect((uniform - BarlowTwins.crossCorrelation(zA, zB)).abs().max().item() < 1e-12)
        // Weight 0 is the same as leaving the example out; weight 2 as counting it twice.
        let weights = Tensor((0..<12).map { $0 < 4 ? 0.0 : ($0 < 6 ? 2 : 1) })
        let rows = Tensor([4, 4, 5, 5, 6, 7, 8, 9, 10, 11].map(Int64.init))
        let expected = BarlowTwins.crossCorrelation(zA.indexSelect(dim: 0, index: rows), zB.indexSelect(dim: 0, index: rows))
        #expect((BarlowTwins.weightedCrossCorrelation(zA, zB, weights: weights) - expected).abs().max().item() < 1e-12)
    }

    @Test func barlowTwinsDifficultiesSplitTheInvarianceTermAmongTheExamples() {
        let zA = Tensor.randn([16, 5], dtype: .float64, generator: Generator(seed: 6))
        let zB = zA + Tensor.randn([16, 5], dtype: .float64, generator: Generator(seed: 7)) * 0.5
        let difficulty = BarlowTwins().difficulty(zA, zB, labels: nil)
        let c = BarlowTwins.crossCorrelation(zA, zB)
        // Σ_b d_b = N Σ_j (1 − C_jj), up to BatchNorm's ε in the variance.
        let share = 16 * (1 - c.diagonal()).sum().item()
        #expect(abs(difficulty.sum().item() - share) < 1e-4 * share)
        #expect(difficulty.toArray(Double.self).allSatisfy { $0 >= 0 })
    }

    @Test func trainAllBelowLeavesTheBlocksAboveUntouchedByAnExample() throws {
        let network = try BlockwiseNetwork(backbone: ResNet(.resnet18, stem: .small, width: 0.125, generator: Generator(seed: 0)),
                                           partition: .perStage, head: .init(kind: .convExpansion, dimension: 32, projector: [32, 16]),
                                           generator: Generator(seed: 1))
        let step = BlockwiseStep(network: network, objectives: Array(repeating: BarlowTwins(), count: 4))
        let phase = try TrainingPlan(mode: .simultaneous, blocks: 4).phases[0]
        // Example 0 is routed to block 2 (index 1): it trains blocks 1 and 2 only.
        let routing = RoutedBatch(weights: Dictionary(uniqueKeysWithValues: (0..<4).map { k in
            (k, (0..<8).map { i in i == 0 && k > 1 ? 0.0 : 1.0 })
        }), dropsUnweighted: true)
        let a = Tensor.randn([8, 3, 16, 16], generator: Generator(seed: 2)), b = Tensor.randn([8, 3, 16, 16], generator: Generator(seed: 3))
        let saved = network.stateDict().mapValues { $0.clone() }
        let above = { (0..<4).filter { $0 > 1 }.flatMap { network.parameters(ofBlock: $0) }.map { $0.grad!.clone() } }
        let routed = step.run(a, b, labels: nil, phase: phase, routing: routing, afterForward: { _, _, _ in }, afterBackward: { _ in })
        #expect(routed.rows == [2: Array(1..<8), 3: Array(1..<8)])
        let routedAbove = above()
        // The blocks above train exactly as on block 2's outputs of the other seven examples.
        _ = try network.load(stateDict: saved)
        for p in network.parameters() { p.grad = nil }
        let others = Tensor((1..<8).map(Int64.init))
        let (outA, outB) = routed.outputs[1]!
        _ = step.run(outA.indexSelect(dim: 0, index: others), outB.indexSelect(dim: 0, index: others), labels: nil, phase: phase,
                     blocks: 2...3, afterForward: { _, _, _ in }, afterBackward: { _ in })
        for (x, y) in zip(routedAbove, above()) { #expect((x - y).abs().max().item() == 0) }
        #expect(network.parameters(ofBlock: 0).allSatisfy { $0.grad == nil }, "the second pass trains only the blocks above")
    }

    @Test(arguments: [("all-below", "simultaneous"), ("weighted", "sequential")])
    func aRoutedRunResumesExactly(_ scheme: String, _ mode: String) throws {
        let config = try tinyConfig(["training.routing=\(scheme)", "training.mode=\(mode)", "training.epochs=3",
                                     "checkpoint.every_steps=1", "model.noise=independent"])
        let straight = temporaryRun(), stopped = temporaryRun()
        defer { for run in [straight, stopped] { try? FileManager.default.removeItem(atPath: run.path) } }
        _ = try Trainer(config: config, run: straight, log: { _ in }).train()
        var steps = 0
        let first = try Trainer(config: config, run: stopped, log: { _ in }).train { steps += 1; return steps > 5 }
        #expect(first.stoppedEarly)
        _ = try Trainer.resume(run: stopped, log: { _ in }).train()
        #expect(try largestDifference(straight.path + "/checkpoints/last.safetensors", stopped.path + "/checkpoints/last.safetensors") == 0)
        let routing = try SafeTensors.read(contentsOf: stopped.path + "/checkpoints/last.safetensors").tensors["routing.previous"]!
        #expect(routing.toArray(Double.self).contains { !$0.isNaN })
        #expect(try stepLosses(straight.path) == stepLosses(stopped.path))
    }

    @Test func routingIsRefusedWhereItHasNoMeaning() throws {
        #expect(throws: RunError.self) { try TrainingSetup(config: try tinyConfig(["training.routing=all-below", "training.mode=end-to-end"])) }
        #expect(throws: RunError.self) { try TrainingSetup(config: try tinyConfig(["training.routing=weighted", "objective.name=simclr"])) }
        _ = try TrainingSetup(config: try tinyConfig(["training.routing=all-below", "objective.name=simclr"]))
    }
}

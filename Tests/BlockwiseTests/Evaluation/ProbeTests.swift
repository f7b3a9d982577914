import Foundation
import Testing
import Torch
@testable import Blockwise

@Suite struct ProbeTests {
    @Test(arguments: Probe.Method.allCases)
    func probeJsonHoldsTheAccuracyOfEveryBlockAndOfTheConcatenation(method: Probe.Method) throws {
        let fixture = try RunFixture()
        let evaluation = try RunEvaluation(run: fixture.run)
        let probe = Probe(method: method, blocks: [1, 2, 3, 4], concatenate: true, linear: LinearProbe(epochs: 2),
                          knn: KNNClassifier(k: 20))
        let report = try probe.run(evaluation)
        let json = try #require(try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: fixture.run.probePath))) as? [String: Any])
        #expect(json["method"] as? String == method.rawValue)
        #expect(json["dataset"] as? String == "synthetic:shapes?count=100&seed=1&size=16")
        #expect(json["split"] as? String == "test")
        let blocks = try #require(json["blocks"] as? [[String: Any]])
        #expect(blocks.map { $0["block"] as? Int } == [1, 2, 3, 4])
        #expect(blocks.map { $0["feature_dim"] as? Int } == evaluation.backbone.stageChannels)
        for entry in blocks {
            let top1 = try #require(entry["top1"] as? Double), top5 = try #require(entry["top5"] as? Double)
            #expect((0...1).contains(top1) && top1 <= top5 && top5 <= 1)
            #expect(entry["epochs"] as? Int == (method == .linear ? 2 : 0))
            #expect(entry["method"] as? String == method.rawValue)
        }
        let all = try #require(json["concatenated"] as? [String: Any])
        #expect(all["feature_dim"] as? Int == evaluation.backbone.stageChannels.reduce(0, +))
        #expect(try readJSON(ProbeReport.self, from: fixture.run.probePath) == report)
        #expect(report.table.split(separator: "\n").count == 2 + 5)
    }

    /// An honest stand-in for a pretrained backbone: a ResNet-18 trained a few hundred steps
    /// with a supervised loss at every block (GSP + linear head, stop-gradient between blocks)
    /// through the library's `BlockwiseStep`.
    static func trainedBackbone(_ settings: [String], steps: Int) throws -> ResNet {
        var config = Config()
        for setting in settings + ["training.mode=supervised-blockwise", "model.head=gsp", "model.projector="] {
            try config.set(setting)
        }
        let network = try TrainingSetup.network(config.model, partition: .perStage, mode: .supervisedBlockwise, classes: 10,
                                                generator: Generator(seed: 1))
        let step = BlockwiseStep(network: network, objectives: try TrainingSetup.objectives(config, blocks: 4))
        let phase = try TrainingPlan(mode: .supervisedBlockwise, blocks: 4).phases[0]
        let optimizer = SGD(network.parameters(), lr: 0.05, momentum: 0.9, weightDecay: 5e-4)
        let data = try config.data.dataset.load(split: .train)
        let transform = EvaluationTransform.matching(data, side: 16)
        let plan = try EpochPlan(count: data.count, batchSize: 50, seed: 2)
        for i in 0..<steps {
            let batch = try data.batch(plan.batch(epoch: i / plan.batchesPerEpoch, index: i % plan.batchesPerEpoch))
            let x = transform(batch.images)
            _ = step.run(x, x.flip([3]), labels: batch.labels, phase: phase)
            optimizer.step()
            optimizer.zeroGrad()
        }
        return network.backbone
    }

    @Test func bothProbesRankATrainedBackboneAboveARandomOneAtEveryBlock() throws {
        let settings = RunFixture.tinySettings.filter { !$0.hasPrefix("data.dataset") }
            + ["data.dataset=synthetic:shapes?count=1000&size=16&seed=1"]
        let trained = try RunFixture(settings, backbone: try Self.trainedBackbone(settings, steps: 100))
        let random = try RunFixture(settings, seed: 1)
        for method in Probe.Method.allCases {
            let probe = Probe(method: method, linear: LinearProbe(epochs: 20))
            let trainedReport = try probe.run(RunEvaluation(run: trained.run))
            let randomReport = try probe.run(RunEvaluation(run: random.run))
            for (t, r) in zip(trainedReport.blocks, randomReport.blocks) {
                #expect(t.top1 > r.top1, "\(method) probe at block \(t.block): trained \(t.top1), random \(r.top1)")
            }
        }
    }
}

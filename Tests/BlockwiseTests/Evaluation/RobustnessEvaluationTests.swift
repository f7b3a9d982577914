import Foundation
import Testing
import Torch
@testable import Blockwise

@Suite struct RobustnessEvaluationTests {
    @Test func errorsPerBlockCorruptionAndSeverityAreWrittenAsFractions() throws {
        let fixture = try RunFixture(overrides: RunFixture.sixteenthWidth)
        let evaluation = try RunEvaluation(run: fixture.run, batchSize: 40)
        let chosen: [Corruption] = [.gaussianNoise, .pixelate]
        let result = try RobustnessEvaluation(corruptions: chosen, trainLimit: 80, testLimit: 32).run(evaluation, blocks: [1, 2])
        #expect(result.blocks.map(\.block) == [1, 2])
        for block in result.blocks {
            #expect(Set(block.corruptions.keys) == ["gaussian_noise", "pixelate"])
            #expect(block.corruptions.values.allSatisfy { $0.count == 5 && $0.allSatisfy { (0...1).contains($0) } })
            let expectedMean = block.corruptions.values.map { $0.reduce(0, +) / 5 }.reduce(0, +) / 2
            #expect(abs(block.meanError - expectedMean) < 1e-12)
            #expect((0...1).contains(block.cleanError))
            // 32 test images: every error is a multiple of 1/32.
            #expect(abs(block.cleanError * 32 - (block.cleanError * 32).rounded()) < 1e-9)
        }
        let written = try readJSON(CorruptionResult.self, from: fixture.run.corruptionsPath)
        #expect(written == result)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fixture.run.corruptionsPath))) as! [String: Any]
        let first = (json["blocks"] as! [[String: Any]])[0]
        #expect(first["clean_error"] is Double && first["mean_error"] is Double)
    }

    @Test func strongNoiseHurtsMoreThanMildNoise() throws {
        let fixture = try RunFixture(overrides: RunFixture.sixteenthWidth + ["data.dataset=synthetic:shapes?count=400&size=16&seed=1"])
        let evaluation = try RunEvaluation(run: fixture.run, batchSize: 100)
        let result = try RobustnessEvaluation(corruptions: [.impulseNoise], trainLimit: 400, testLimit: 80).run(evaluation, blocks: [1])
        let errors = result.blocks[0].corruptions["impulse_noise"]!
        #expect(errors[4] > errors[0], "\(errors)")
    }

    @Test func anUnlabelledDatasetIsRefused() throws {
        let images = Tensor.zeros([8, 3, 16, 16], dtype: .uint8)
        let unlabelled = try TensorImageSet(name: "unlabelled", images: images, labels: Tensor.full([8], .int(-1), dtype: .int64),
                                            classCount: 10, statistics: .cifar10)
        let fixture = try RunFixture(overrides: RunFixture.sixteenthWidth)
        let extractor = FeatureExtractor(backbone: try fixture.run.loadBackbone(), transform: EvaluationTransform(normalization: .cifar10))
        let error = #expect(throws: RunError.self) {
            try RobustnessEvaluation().run(extractor, train: unlabelled, test: unlabelled, blocks: [1])
        }
        #expect(error?.description == "unlabelled: has unlabelled images; the robustness evaluation needs a labelled split")
    }
}

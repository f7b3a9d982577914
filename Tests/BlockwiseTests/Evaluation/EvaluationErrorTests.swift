import Foundation
import Testing
import Torch
@testable import Blockwise

@Suite struct EvaluationErrorTests {
    func message(_ body: () throws -> Void) -> String {
        do {
            try body()
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func aMissingRunDirectoryIsNamed() {
        let text = message { _ = try RunEvaluation(run: RunDirectory("/nonexistent/run-42")) }
        #expect(text == "/nonexistent/run-42: no such run directory")
    }

    @Test func aRunWithoutABackboneSaysSo() throws {
        let fixture = try RunFixture()
        try FileManager.default.removeItem(atPath: fixture.run.backbonePath)
        #expect(message { _ = try RunEvaluation(run: fixture.run) }.contains("no backbone.safetensors"))
        #expect(message { try BackboneExport.write(run: fixture.run, to: fixture.folder.path + "/x.safetensors") }
            .contains("no backbone.safetensors"))
    }

    @Test func aBackboneOfAnotherArchitectureIsRefusedWithTheOffendingKeys() throws {
        let fixture = try RunFixture()
        try ResNet(.resnet18, stem: .small, width: 0.25).save(safetensors: fixture.run.backbonePath)
        let text = message { _ = try RunEvaluation(run: fixture.run) }
        #expect(text.contains(fixture.run.backbonePath) && text.contains("size mismatch for conv1.weight"))
    }

    @Test func aBackboneWithNaNWeightsIsRefusedNamingTheFileAndTheTensor() throws {
        let fixture = try RunFixture()
        let file = try SafeTensors.read(contentsOf: fixture.run.backbonePath)
        file["layer3.1.bn2.running_var"]!.narrow(dim: 0, start: 2, length: 1).fill_(.double(.nan))
        try SafeTensors.write(file.orderedTensors, metadata: nil, to: fixture.run.backbonePath)
        let expected = "\(fixture.run.backbonePath): layer3.1.bn2.running_var holds NaN or infinite values"
        #expect(message { _ = try RunEvaluation(run: fixture.run) }.hasPrefix(expected))
        #expect(message { try BackboneExport.write(run: fixture.run, to: fixture.folder.path + "/x.safetensors") }.hasPrefix(expected))
    }

    @Test func aBlockOutOfRangeIsNamed() throws {
        let fixture = try RunFixture()
        let evaluation = try RunEvaluation(run: fixture.run)
        let text = message { try Probe(blocks: [1, 7]).run(evaluation) }
        #expect(text == "block 7 is out of range: a ResNet backbone has blocks 1, 2, 3, 4 (its four stages)")
        #expect(message { _ = try evaluation.features(data: .defaultSynthetic, split: .test, blocks: [0]) }.contains("block 0"))
        #expect(message { try Probe(blocks: []).run(evaluation) }.contains("no block"))
        #expect(message { try Probe(blocks: [2, 2]).run(evaluation) }.contains("twice"))
    }

    /// STL-10 in its binary layout: two labelled images per split and three unlabelled ones.
    func stl10() -> TemporaryFolder {
        let folder = TemporaryFolder()
        let image = [UInt8](repeating: 100, count: 3 * 96 * 96)
        folder.write("stl10_binary/train_X.bin", image + image)
        folder.write("stl10_binary/train_y.bin", [1, 2])
        folder.write("stl10_binary/test_X.bin", image + image)
        folder.write("stl10_binary/test_y.bin", [2, 1])
        folder.write("stl10_binary/unlabeled_X.bin", image + image + image)
        return folder
    }

    @Test func probingUnlabelledImagesIsRefused() throws {
        let fixture = try RunFixture()
        let evaluation = try RunEvaluation(run: fixture.run)
        let data = stl10()
        let spec = try DatasetSpec(parsing: "stl10:\(data.path)")
        let text = message { try Probe().run(evaluation, data: spec, trainSplit: .unlabeled) }
        #expect(text == "stl10:\(data.path)/unlabeled has unlabelled images: a probe needs labels to fit and score "
                + "(use labelled splits, e.g. train and test, not unlabeled or pretrain)")
        #expect(!FileManager.default.fileExists(atPath: fixture.run.probePath))
        // The labelled splits of the same dataset probe fine.
        try Probe(method: .knn, blocks: [1]).run(evaluation, data: spec)
        #expect(FileManager.default.fileExists(atPath: fixture.run.probePath))
    }

    @Test func unlabelledImagesAmongTheFeaturesAreRefused() throws {
        // A dataset whose labelled split turns out to hold −1 labels (checked after extraction).
        let set = FeatureSet(features: Tensor.zeros([3, 4]), labels: Tensor([0, -1, 1] as [Int]), classCount: 2)
        #expect(!set.isLabelled)
        #expect(FeatureSet(features: Tensor.zeros([2, 4]), labels: Tensor([0, 1] as [Int]), classCount: 2).isLabelled)
    }
}

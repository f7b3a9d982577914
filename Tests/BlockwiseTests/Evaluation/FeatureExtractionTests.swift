import Foundation
import Testing
import Torch
@testable import Blockwise

@Suite struct FeatureExtractionTests {
    /// The cache key names the file the weights came from: both come from one read, and the
    /// key is the fingerprint of the file on disk, as caches written before hold it.
    @Test func theBackboneAndItsCacheKeyComeFromOneRead() throws {
        let fixture = try RunFixture()
        let evaluation = try RunEvaluation(run: fixture.run)
        #expect(evaluation.backboneFingerprint == (try FileFingerprint.of(fixture.run.backbonePath)))
        let saved = try SafeTensors.read(contentsOf: fixture.run.backbonePath).tensors
        for (name, tensor) in evaluation.backbone.stateDict() {
            #expect((tensor.to(.float64) - saved[name]!.to(.float64)).abs().max().item() == 0, "\(name)")
        }
        // Another file: another key.
        try ResNet(fixture.config.model, generator: Generator(seed: 9)).save(safetensors: fixture.run.backbonePath)
        #expect(try RunEvaluation(run: fixture.run).backboneFingerprint != evaluation.backboneFingerprint)
    }

    @Test func blockFeaturesAreTheSpatialMeanOfEachStageOutputInEvaluationMode() throws {
        let fixture = try RunFixture()
        let backbone = try fixture.run.loadBackbone()
        let dataset = SyntheticShapes.make(count: 10, size: 16, seed: 2)
        let transform = EvaluationTransform.matching(dataset, side: 16)
        let (features, labels) = try FeatureExtractor(backbone: backbone, transform: transform, batchSize: 4)
            .extract(dataset, blocks: [2, 4])
        // The reference: the whole set in one batch, stage by stage, in evaluation mode.
        backbone.eval()
        let x = transform(dataset.images)
        let stage2 = withNoGrad { backbone.forward(stage: 2, backbone.forward(stage: 1, x)) }
        let stage4 = withNoGrad { backbone.forward(stage: 4, backbone.forward(stage: 3, stage2)) }
        #expect(Set(features.keys) == [2, 4])
        #expect(features[2]!.shape == [10, backbone.stageChannels[1]])
        #expect(features[2]!.allClose(stage2.mean(dims: [2, 3]), rtol: 1e-4, atol: 1e-5))
        #expect(features[4]!.allClose(withNoGrad { backbone.features(x) }, rtol: 1e-4, atol: 1e-5))
        #expect(labels.equal(dataset.labels))
    }

    @Test func theEvaluationTransformMatchesTheRunsViewSize() {
        let small = SyntheticShapes.make(count: 1, size: 16)
        #expect(EvaluationTransform.matching(small, side: 16).resize == nil)
        #expect(EvaluationTransform.matching(small, side: 16).crop == nil)
        #expect(EvaluationTransform.matching(small, side: 32).resize == 32)
        let large = SyntheticShapes.make(count: 1, size: 256)
        let imagenet = EvaluationTransform.matching(large, side: 224)
        #expect(imagenet.resize == 256 && imagenet.crop == 224)
        #expect(imagenet.normalization == large.statistics)
    }

    @Test func featuresAreCachedInTheRunDirectoryAndReused() throws {
        let fixture = try RunFixture()
        let evaluation = try RunEvaluation(run: fixture.run)
        let data = evaluation.trainingDataset
        let first = try evaluation.features(data: data, split: .test, blocks: [1, 3])
        let path = evaluation.cache.path(dataset: data, split: .test, block: 3)
        #expect(path.hasPrefix(fixture.run.path + "/features/"))
        #expect(FileManager.default.fileExists(atPath: path))
        // Replace the cached values under the same key: a second request must return them.
        let marked = FeatureSet(features: Tensor.full(first[3]!.features.shape, 7), labels: first[3]!.labels, classCount: 10)
        try evaluation.cache.store(marked, dataset: data, split: .test, block: 3)
        let second = try RunEvaluation(run: fixture.run).features(data: data, split: .test, blocks: [1, 3])
        #expect(second[3]!.features.equal(marked.features))
        #expect(second[1]!.features.equal(first[1]!.features))
    }

    @Test func rewritingTheBackboneInvalidatesTheCache() throws {
        let fixture = try RunFixture()
        let data = try RunEvaluation(run: fixture.run).trainingDataset
        let before = try RunEvaluation(run: fixture.run).features(data: data, split: .test, blocks: [2])[2]!
        try ResNet(fixture.config.model, generator: Generator(seed: 99)).save(safetensors: fixture.run.backbonePath)
        let evaluation = try RunEvaluation(run: fixture.run)
        let after = try evaluation.features(data: data, split: .test, blocks: [2])[2]!
        #expect(!after.features.allClose(before.features))
        // What was recomputed is what a fresh extraction of the new backbone gives.
        let dataset = try data.load(split: .test)
        let fresh = try FeatureExtractor(backbone: try fixture.run.loadBackbone(),
                                         transform: .matching(dataset, side: 16)).extract(dataset, blocks: [2])
        #expect(after.features.equal(fresh.features[2]!))
    }

    @Test func theFeaturesFileHoldsEmbeddingsAndLabelsOfTheSplit() throws {
        let fixture = try RunFixture()
        let evaluation = try RunEvaluation(run: fixture.run)
        let out = fixture.folder.path + "/block3.safetensors"
        let data = try DatasetSpec(parsing: "synthetic:shapes?count=50&size=16&seed=4")
        try evaluation.writeFeatures(data: data, split: .train, block: 3, to: out)
        let file = try SafeTensors.read(contentsOf: out)
        let dataset = try data.load(split: .train) as! TensorImageSet
        #expect(Set(file.names) == ["embeddings", "labels"])
        #expect(file["embeddings"]!.shape == [50, evaluation.backbone.stageChannels[2]])
        #expect(file["embeddings"]!.dtype == .float32)
        #expect(file["labels"]!.equal(dataset.labels))
        #expect(file.metadata["block"] == "3" && file.metadata["split"] == "train")
    }
}

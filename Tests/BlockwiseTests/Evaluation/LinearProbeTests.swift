import Testing
import Torch
@testable import Blockwise

@Suite struct LinearProbeTests {
    /// Ten Gaussian clusters in 32 dimensions, far apart relative to their spread.
    func clusters(count: Int, scale: Double, generator: Generator) -> FeatureSet {
        let centres = Tensor.randn([10, 32], generator: Generator(seed: 1)) * 4.0
        let labels = Tensor.randint(0, 10, [count], generator: generator)
        let features = (centres.indexSelect(dim: 0, index: labels) + Tensor.randn([count, 32], generator: generator) * 0.5) * scale
        return FeatureSet(features: features, labels: labels, classCount: 10)
    }

    @Test func separableFeaturesAreClassifiedPerfectly() {
        let g = Generator(seed: 2)
        let probe = LinearProbe(epochs: 10, batchSize: 64)
        let result = probe.evaluate(train: clusters(count: 1000, scale: 1, generator: g), test: clusters(count: 200, scale: 1, generator: g))
        #expect(result.top1 == 1)
        #expect(result.top5 == 1)
    }

    @Test func standardisationMakesTheProbeIndependentOfEachFeaturesScaleAndOffset() {
        // Standardised, x and 1000·x + 5 are the same inputs: the same seed trains the same classifier.
        let train = clusters(count: 500, scale: 1, generator: Generator(seed: 3))
        var shifted = train
        shifted.features = train.features * 1000.0 + 5.0
        let probe = LinearProbe(epochs: 3, batchSize: 64)
        let a = probe.fit(train), b = probe.fit(shifted)
        #expect(a.layer.weight.allClose(b.layer.weight, rtol: 1e-3, atol: 1e-4))
        #expect(a.scores(train.features).allClose(b.scores(shifted.features), rtol: 1e-3, atol: 1e-3))
        #expect(!LinearProbe(epochs: 3, batchSize: 64, standardize: false).fit(train).layer.weight
            .allClose(a.layer.weight, rtol: 1e-3, atol: 1e-4))
    }

    @Test func theInitialClassifierFollowsBarlowTwinsProtocol() {
        // N(0, 0.01²) weights and zero biases, as evaluate.py; with one epoch at lr 0 nothing moves.
        let set = clusters(count: 2000, scale: 1, generator: Generator(seed: 4))
        let classifier = LinearProbe(epochs: 1, learningRate: 0).fit(set)
        let weight = classifier.layer.weight
        #expect(abs(weight.std().item() - 0.01) < 0.001)
        #expect(classifier.layer.bias!.abs().max().item() == 0)
    }
}

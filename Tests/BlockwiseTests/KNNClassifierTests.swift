import Testing
import Torch
@testable import Blockwise

@Suite struct KNNClassifierTests {
    @Test func separableClustersAreClassifiedPerfectly() {
        let g = Generator(seed: 5)
        let centres = Tensor.randn([3, 16], generator: g) * 5.0
        let trainLabels = Tensor.randint(0, 3, [300], generator: g)
        let testLabels = Tensor.randint(0, 3, [60], generator: g)
        let train = centres.indexSelect(dim: 0, index: trainLabels) + Tensor.randn([300, 16], generator: g) * 0.3
        let test = centres.indexSelect(dim: 0, index: testLabels) + Tensor.randn([60, 16], generator: g) * 0.3
        let result = KNNClassifier(k: 20, chunkSize: 7).evaluate(train: train, trainLabels: trainLabels, test: test,
                                                                 testLabels: testLabels, classes: 3)
        #expect(result.top1 == 1)
    }

    @Test func votesAreWeightedByExponentiatedSimilarity() {
        // Query along x; neighbours: two of class 0 at 90° (similarity 0), one of class 1 at 0° (similarity 1).
        let train = Tensor([0.0, 1, 0, -1, 1, 0] as [Float], shape: [3, 2])
        let labels = Tensor([0, 0, 1] as [Int])
        let query = Tensor([1.0, 0] as [Float], shape: [1, 2])
        let scores = KNNClassifier(k: 3, temperature: 0.5).scores(train: train, trainLabels: labels, test: query, classes: 2)
        let values = scores.toArray(Float.self)
        #expect(abs(Double(values[0]) - 2) < 1e-5)                          // 2 · e^(0/0.5)
        #expect(abs(Double(values[1]) - Foundation.exp(2.0)) < 1e-4)        // e^(1/0.5)
    }

    @Test func topFiveCountsAHitAnywhereAmongTheFiveBestScores() {
        let scores = Tensor([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.0, 0.1, 0.2, 0.3, 0.4, 0.5] as [Float], shape: [2, 6])
        let labels = Tensor([4, 0] as [Int])
        let (top1, top5) = Accuracy.topK(scores: scores, labels: labels)
        #expect(top1 == 0)
        #expect(top5 == 0.5)
    }
}

import Foundation

import Torch

/// Weighted k-nearest-neighbour classification of frozen features (Wu et al. 2018, as
/// solo-learn and DINO evaluate): cosine similarity to every training feature, the k most
/// similar vote for their class with weight exp(similarity / T).
public struct KNNClassifier: Sendable {
    public var k: Int
    public var temperature: Double
    /// Test samples compared at once, bounding the [chunk, N_train] similarity matrix.
    public var chunkSize: Int

    public init(k: Int = 200, temperature: Double = 0.07, chunkSize: Int = 256) {
        self.k = k
        self.temperature = temperature
        self.chunkSize = chunkSize
    }

    /// Class scores [N_test, classes] of each test feature.
    public func scores(train: Tensor, trainLabels: Tensor, test: Tensor, classes: Int) -> Tensor {
        withNoGrad {
            let bank = normalize(train.to(.float32), dim: 1)
            let queries = normalize(test.to(.float32), dim: 1)
            let labels = trainLabels.to(.int64)
            let neighbours = Swift.min(k, bank.size(0))
            var chunks: [Tensor] = []
            var start = 0
            while start < queries.size(0) {
                let q = queries.narrow(dim: 0, start: start, length: Swift.min(chunkSize, queries.size(0) - start))
                let (similarity, index) = q.mm(bank.t).topk(neighbours, dim: 1)
                let weights = (similarity / temperature).exp()
                let neighbourLabels = labels.indexSelect(dim: 0, index: index.flatten()).view(index.shape)
                let votes = Tensor.zeros([q.size(0), classes], device: q.device)
                chunks.append(votes.scatterAdd(dim: 1, index: neighbourLabels, source: weights))
                start += chunkSize
            }
            return Tensor.cat(chunks, dim: 0)
        }
    }

    /// Top-1 and top-5 accuracy (fractions) of the test features.
    public func evaluate(train: Tensor, trainLabels: Tensor, test: Tensor, testLabels: Tensor, classes: Int)
        -> (top1: Double, top5: Double)
    {
        let s = scores(train: train, trainLabels: trainLabels, test: test, classes: classes)
        return Accuracy.topK(scores: s, labels: testLabels)
    }
}

/// Classification accuracy from class scores.
public enum Accuracy {
    /// Top-1 and top-5 accuracy (top-5 is top-min(5, classes)), as fractions in [0, 1].
    public static func topK(scores: Tensor, labels: Tensor) -> (top1: Double, top5: Double) {
        withNoGrad {
            let k = Swift.min(5, scores.size(1))
            let best = scores.topk(k, dim: 1).indices
            let hits = best .== labels.to(.int64).unsqueeze(1)
            let top1 = hits.narrow(dim: 1, start: 0, length: 1).to(.float32).mean().item()
            let top5 = hits.any(dim: 1).to(.float32).mean().item()
            return (top1, top5)
        }
    }
}

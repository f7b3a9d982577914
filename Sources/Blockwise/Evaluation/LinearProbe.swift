import Torch

/// A linear classifier on frozen features, with the evaluation protocol of Barlow Twins
/// (`evaluate.py`, which the paper follows): SGD with momentum 0.9, learning rate 0.3 decayed
/// by a cosine over the epochs (stepped once per epoch, to 0, as `CosineAnnealingLR`), weight
/// decay 1e-6, batches of 256, cross-entropy; weights drawn from N(0, 0.01²), biases 0.
///
/// Two differences, because the features are extracted once and cached: there is no
/// augmentation (the reference crops and flips each image anew every epoch), and each
/// feature is standardised with the training set's mean and standard deviation (on by
/// default), which makes one learning rate fit every block, whose features differ in scale.
public struct LinearProbe: Sendable {
    public var epochs: Int
    public var batchSize: Int
    public var learningRate: Double
    public var momentum: Double
    public var weightDecay: Double
    public var standardize: Bool
    /// Seeds the initial weights and the order of the samples.
    public var seed: UInt64

    public init(epochs: Int = 100, batchSize: Int = 256, learningRate: Double = 0.3, momentum: Double = 0.9,
                weightDecay: Double = 1e-6, standardize: Bool = true, seed: UInt64 = 0) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.standardize = standardize
        self.seed = seed
    }

    /// A classifier fitted to `train`: the standardisation and the linear layer.
    public struct Classifier {
        public let mean: Tensor?
        public let std: Tensor?
        public let layer: Linear

        /// Class scores [N, classes] of features [N, D].
        public func scores(_ features: Tensor) -> Tensor {
            withNoGrad { layer(standardized(features.to(layer.weight.device, .float32))) }
        }

        func standardized(_ x: Tensor) -> Tensor {
            guard let mean, let std else { return x }
            return (x - mean) / std
        }
    }

    /// Trains a classifier on `train` (on the device its features are on).
    public func fit(_ train: FeatureSet) -> Classifier {
        precondition(epochs > 0 && batchSize > 0, "LinearProbe: epochs and batchSize must be positive")
        let x = train.features.to(.float32)
        let y = train.labels.to(.int64)
        let device = x.device
        let (mean, std): (Tensor?, Tensor?) = standardize
            ? (x.mean(dims: [0], keepDims: true), x.std(dims: [0], keepDims: true).clamp(min: 1e-6))
            : (nil, nil)
        let generator = Generator(seed: seed)
        let layer = Linear(train.dimension, train.classCount, device: device, generator: generator)
        withNoGrad {
            _ = layer.weight.normal_(mean: 0, std: 0.01, generator: generator)
            _ = layer.bias!.zero_()
        }
        let classifier = Classifier(mean: mean, std: std, layer: layer)
        let inputs = classifier.standardized(x)
        let optimizer = SGD(layer.parameters(), lr: learningRate, momentum: momentum, weightDecay: weightDecay)
        let schedule = WarmupCosine(base: 1, warmupSteps: 0, totalSteps: epochs, floorFactor: 0)
        for epoch in 0..<epochs {
            optimizer.applySchedule(schedule, step: epoch)
            let order = Tensor.randperm(train.count, generator: generator).to(device)
            var start = 0
            while start < train.count {
                let index = order.narrow(dim: 0, start: start, length: Swift.min(batchSize, train.count - start))
                let loss = crossEntropy(layer(inputs.indexSelect(dim: 0, index: index)), y.indexSelect(dim: 0, index: index))
                optimizer.zeroGrad()
                loss.backward()
                optimizer.step()
                start += batchSize
            }
        }
        return classifier
    }

    /// Fits on `train` and returns top-1 and top-5 accuracy (fractions) on `test`.
    public func evaluate(train: FeatureSet, test: FeatureSet) -> (top1: Double, top5: Double) {
        let classifier = fit(train)
        return Accuracy.topK(scores: classifier.scores(test.features), labels: test.labels.to(classifier.layer.weight.device))
    }
}

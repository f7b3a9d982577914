import Torch

/// A small, fast linear classifier of frozen features for the robustness evaluation:
/// features standardised with the training statistics, then multinomial logistic regression
/// fitted by full-batch AdamW from zero weights (deterministic, no data order). Not the
/// paper's linear-probe protocol (that is the linear probe's job); enough to read how much a
/// corruption moves the features off what the classifier learned.
public struct SoftmaxRegression: Sendable {
    public var steps: Int
    public var learningRate: Double
    public var weightDecay: Double

    public init(steps: Int = 300, learningRate: Double = 0.05, weightDecay: Double = 1e-4) {
        self.steps = steps
        self.learningRate = learningRate
        self.weightDecay = weightDecay
    }

    /// Fits features [N, D] to labels [N] in 0..<classes.
    public func fit(_ features: Tensor, labels: Tensor, classes: Int) -> FittedLinearClassifier {
        let x = features.detach().to(.float32)
        let mean = x.mean(dim: 0, keepDims: true)
        let std = x.std(dims: [0], unbiased: false, keepDims: true).clamp(min: 1e-6)
        let standardised = (x - mean) / std
        let target = labels.to(x.device, .int64)
        let weight = Tensor.zeros([classes, x.size(1)], device: x.device).requiresGrad_()
        let bias = Tensor.zeros([classes], device: x.device).requiresGrad_()
        let optimizer = AdamW([weight, bias], lr: learningRate, weightDecay: weightDecay)
        for _ in 0..<steps {
            optimizer.zeroGrad()
            crossEntropy(linear(standardised, weight: weight, bias: bias), target).backward()
            optimizer.step()
        }
        return FittedLinearClassifier(mean: mean, std: std, weight: weight.detach(), bias: bias.detach())
    }
}

/// A linear classifier with the feature standardisation it was fitted with.
public struct FittedLinearClassifier: @unchecked Sendable {
    public let mean: Tensor, std: Tensor, weight: Tensor, bias: Tensor

    /// Class scores [N, classes].
    public func logits(_ features: Tensor) -> Tensor {
        withNoGrad { linear((features.to(.float32) - mean) / std, weight: weight, bias: bias) }
    }

    /// The predicted class of each row.
    public func predict(_ features: Tensor) -> Tensor { logits(features).argmax(dim: 1) }
}

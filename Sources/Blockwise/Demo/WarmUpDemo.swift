import Foundation
import Torch

/// A small real training loop on raw tensors: a two-layer perceptron learns to tell apart
/// Gaussian clusters, by plain gradient descent through libtorch's autograd. It shows the
/// whole stack working end to end (bridge, autograd, BLAS) before any model is built.
public struct WarmUpDemo: Sendable {
    public struct Step: Sendable {
        public var step: Int
        public var loss: Double
        public var accuracy: Double
    }

    public var classes = 4
    public var features = 16
    public var hidden = 64
    public var samples = 1024
    public var steps = 200
    public var learningRate = 0.5
    public var seed: UInt64 = 0

    public init() {}

    /// Trains and returns the loss and accuracy every `logEvery` steps (first and last included).
    public func run(logEvery: Int = 20, onStep: (Step) -> Void = { _ in }) -> [Step] {
        let generator = Generator(seed: seed)
        let centres = Tensor.randn([classes, features], generator: generator) * 2.0
        let labels = Tensor.randint(0, classes, [samples], generator: generator)
        let inputs = centres.indexSelect(dim: 0, index: labels) + Tensor.randn([samples, features], generator: generator)

        let w1 = (Tensor.randn([hidden, features], generator: generator) / Double(features).squareRoot()).requiresGrad_()
        let b1 = Tensor.zeros([hidden]).requiresGrad_()
        let w2 = (Tensor.randn([classes, hidden], generator: generator) / Double(hidden).squareRoot()).requiresGrad_()
        let b2 = Tensor.zeros([classes]).requiresGrad_()
        let parameters = [w1, b1, w2, b2]

        var log: [Step] = []
        for step in 0...steps {
            let logits = linear(linear(inputs, weight: w1, bias: b1).relu(), weight: w2, bias: b2)
            let loss = crossEntropy(logits, labels)
            if step % logEvery == 0 || step == steps {
                let accuracy = withNoGrad { (logits.argmax(dim: 1) .== labels).to(.float32).mean().item() }
                let entry = Step(step: step, loss: loss.item(), accuracy: accuracy)
                log.append(entry)
                onStep(entry)
            }
            if step == steps { break }
            loss.backward()
            withNoGrad {
                for p in parameters {
                    p.add_(p.grad!, alpha: -learningRate)
                    p.grad = nil
                }
            }
        }
        return log
    }
}

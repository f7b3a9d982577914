import Torch

/// solo-learn's online linear probe: one linear classifier per block, trained alongside
/// pretraining on the detached, globally pooled block output of the first view, with its own
/// optimizer, so it measures the representation without shaping it.
public final class OnlineProbe: Module {
    let classifiers: [Linear]

    public init(channels: [Int], classes: Int, generator: Generator? = nil) {
        classifiers = channels.map { Linear($0, classes, generator: generator) }
        super.init()
    }

    /// Trains on one batch (accumulating gradients) and returns the number of correct
    /// predictions per block among `outputs` (block index → block output).
    public func fit(outputs: [Int: Tensor], labels: Tensor) -> [Int: Int] {
        var correct: [Int: Int] = [:]
        for (k, output) in outputs {
            let logits = classifiers[k](output.detach().mean(dims: [2, 3]))
            crossEntropy(logits, labels).backward()
            correct[k] = withNoGrad { (logits.argmax(dim: 1) .== labels).to(.int64).sum().itemInt() }
        }
        return correct
    }
}

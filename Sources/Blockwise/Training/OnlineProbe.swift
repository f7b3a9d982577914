import Torch

/// solo-learn's online linear probe: one linear classifier per block, trained alongside
/// pretraining on the detached, globally pooled block output of the first view, with its own
/// optimizer, so it measures the representation without shaping it. Unlabelled images
/// (label −1, STL-10's unlabelled split) are left out of its loss and its counts.
public final class OnlineProbe: Module {
    let classifiers: [Linear]
    /// The probe's own SGD: its learning rate never follows the backbone's schedule.
    let optimizer: SGD

    /// Correct predictions among the labelled images a block's classifier saw.
    public struct Score: Equatable, Sendable {
        public var correct: Int
        public var labelled: Int
    }

    public init(channels: [Int], classes: Int, generator: Generator? = nil) {
        classifiers = channels.map { Linear($0, classes, generator: generator) }
        optimizer = SGD(classifiers.flatMap { $0.parameters() }, lr: 0.1, momentum: 0.9)
        super.init()
    }

    /// A block's score before it is read: the count of correct predictions stays a 0-d tensor on
    /// the training device, so the trainer reads it with the step's losses in one transfer (on a
    /// GPU each read waits for the device).
    public struct PendingScore {
        public var correct: Tensor
        public var labelled: Int

        public func read() -> Score { Score(correct: correct.itemInt(), labelled: labelled) }
    }

    /// One optimisation step of every classifier on the labelled images of a batch; returns each
    /// block's score among `outputs` (block index → block output), before the step.
    public func step(outputs: [Int: Tensor], labels: Tensor) -> [Int: Score] {
        let scores = fit(outputs: outputs, labels: labels)
        update()
        return scores.mapValues { $0.read() }
    }

    /// The classifiers' gradients on the labelled images of a batch, and each block's score.
    /// `labels` are best given on the CPU, as batches come: choosing the labelled rows then
    /// waits for no device.
    public func fit(outputs: [Int: Tensor], labels: Tensor) -> [Int: PendingScore] {
        let host = labels.to(.cpu)
        let values = host.toArray(Int64.self)
        let rows = values.indices.filter { values[$0] >= 0 }
        guard !rows.isEmpty else {
            return outputs.mapValues { PendingScore(correct: Tensor.zeros([], dtype: .int64, device: $0.device), labelled: 0) }
        }
        let index = rows.count == values.count ? nil : Tensor(rows.map(Int64.init))
        let labelled = { (x: Tensor) in index.map { x.indexSelect(dim: 0, index: $0.to(x.device)) } ?? x }
        let targets = labelled(host)
        var scores: [Int: PendingScore] = [:]
        for (k, output) in outputs {
            // Block outputs of a bf16 run are bf16; the classifier is float32.
            let features = labelled(output.detach().mean(dims: [2, 3]).to(.float32))
            let blockTargets = targets.to(output.device)
            let logits = classifiers[k](features)
            crossEntropy(logits, blockTargets).backward()
            let correct = withNoGrad { (logits.argmax(dim: 1) .== blockTargets).to(.int64).sum() }
            scores[k] = PendingScore(correct: correct, labelled: rows.count)
        }
        return scores
    }

    /// The optimizer step on the gradients `fit` left.
    public func update() {
        optimizer.step()
        optimizer.zeroGrad()
    }
}

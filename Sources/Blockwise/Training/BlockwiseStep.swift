import Torch

/// One training step's forward and backward passes through a `BlockwiseNetwork` under a
/// `TrainingPhase`: the heart of the trainer, shared by every mode, and the one walk over the
/// blocks in training (the trainer, the benchmarks and the gradient-isolation tests run it).
///
/// In blockwise phases each block's loss is backpropagated as soon as the block has run,
/// so its graph is freed before the next block starts: peak activation memory is that of
/// the largest block, not of the whole network (DESIGN.md). The two views go through the
/// network separately, so each view's batch statistics are its own, as in the reference.
///
/// With `recompute`, a trained block of a blockwise phase runs first without a graph, to get
/// the embeddings and the loss's gradient with respect to them; then each view runs again
/// with its graph and backpropagates its part, so only one view's activations of one block
/// are alive at a time: less memory for about a third more compute. Batch-norm statistics
/// and noise are replayed so that the step computes what the ordinary one does.
public struct BlockwiseStep {
    public let network: BlockwiseNetwork
    public let objectives: [any Objective]
    public var recompute: Bool

    public init(network: BlockwiseNetwork, objectives: [any Objective], recompute: Bool = false) {
        precondition(objectives.count == network.partition.count, "one objective per block")
        self.network = network
        self.objectives = objectives
        self.recompute = recompute
    }

    /// Runs forward and backward; gradients accumulate in the trained blocks' parameters.
    /// Returns each trained block's loss (a 0-d tensor, detached) and every block output run
    /// (detached, for the online probe), by block index. `noise` draws each block's injected
    /// noise from that block's stream.
    public func run(_ viewA: Tensor, _ viewB: Tensor, labels: Tensor?, phase: TrainingPhase,
                    noise: NoiseStreams? = nil) -> (losses: [Int: Tensor], outputs: [Int: (Tensor, Tensor)]) {
        run(viewA, viewB, labels: labels, phase: phase, noise: noise, afterForward: { _, _, _ in }, afterBackward: { _ in })
    }

    /// The step over `blocks` only (all of the phase's by default), the views being the input
    /// of the first of them. `afterForward(k, a, b)` gets block k's outputs (detached, noise
    /// included) as soon as they exist, before its loss: block-parallel training sends them
    /// to the next block's process there. `afterBackward(k)` runs as soon as block k's
    /// gradients are complete, while later blocks still compute: data-parallel training
    /// starts averaging them there.
    public func run(_ viewA: Tensor, _ viewB: Tensor, labels: Tensor?, phase: TrainingPhase,
                    noise: NoiseStreams? = nil, blocks: ClosedRange<Int>? = nil,
                    afterForward: (Int, Tensor, Tensor) throws -> Void, afterBackward: (Int) throws -> Void) rethrows
        -> (losses: [Int: Tensor], outputs: [Int: (Tensor, Tensor)])
    {
        setModes(phase)
        var losses: [Int: Tensor] = [:]
        var outputs: [Int: (Tensor, Tensor)] = [:]
        var hA = viewA
        var hB = viewB
        var pending: [Tensor] = []
        let range = blocks ?? 0...max(0, network.partition.count - 1)
        for k in range where k <= phase.lastBlock {
            if phase.stopGradient, k > range.lowerBound {
                hA = hA.detach()
                hB = hB.detach()
            }
            let frozen = phase.frozenBlocks.contains(k)
            let trained = phase.trainedBlocks.contains(k)
            let generator = noise?[k]
            // Replaying the noise needs its generator.
            if recompute, trained, phase.stopGradient, network.noise == nil || generator != nil {
                let result = try recomputed(block: k, hA, hB, labels: labels, generator: generator) { a, b in
                    try afterForward(k, a, b)
                }
                (hA, hB) = (result.a, result.b)
                outputs[k] = (hA, hB)
                losses[k] = result.loss
                try afterBackward(k)
                continue
            }
            withGradMode(!frozen && isGradEnabled) {
                hA = network.forward(block: k, hA, generator: generator)
                hB = network.forward(block: k, hB, generator: generator)
            }
            outputs[k] = (hA.detach(), hB.detach())
            try afterForward(k, outputs[k]!.0, outputs[k]!.1)
            guard trained else { continue }
            let loss = objectives[k].loss(network.embed(block: k, hA), network.embed(block: k, hB), labels: labels)
            losses[k] = loss.detach()
            if phase.stopGradient {
                loss.backward()
                try afterBackward(k)
            } else {
                pending.append(loss)
            }
        }
        // Without stop-gradients the losses share one graph: one backward through their sum.
        if !pending.isEmpty {
            pending.dropFirst().reduce(pending[0], +).backward()
            for k in phase.trainedBlocks { try afterBackward(k) }
        }
        return (losses, outputs)
    }

    /// Block `k` of a blockwise phase with recomputation: returns both views' outputs
    /// (detached, from the first pass, which `afterForward` gets before any backward) and the
    /// loss (detached), gradients accumulated in the block's parameters. The second pass
    /// replays the first's noise and statistics, so its outputs equal the first's.
    private func recomputed(block k: Int, _ inputA: Tensor, _ inputB: Tensor, labels: Tensor?, generator: Generator?,
                            afterForward: (Tensor, Tensor) throws -> Void) rethrows
        -> (a: Tensor, b: Tensor, loss: Tensor)
    {
        var seen = Set<ObjectIdentifier>()
        let buffers = network.modules(ofBlock: k).flatMap { $0.buffers() }.filter { seen.insert(ObjectIdentifier($0)).inserted }
        let savedBuffers = buffers.map { $0.clone() }
        let savedNoise = network.noise == nil ? nil : generator?.state
        let (hA, hB, zA, zB) = withNoGrad {
            let a = network.forward(block: k, inputA, generator: generator)
            let b = network.forward(block: k, inputB, generator: generator)
            return (a, b, network.embed(block: k, a), network.embed(block: k, b))
        }
        try afterForward(hA, hB)
        // Back to the state before the first pass, so the second updates it once, as usual.
        withNoGrad { for (buffer, saved) in zip(buffers, savedBuffers) { buffer.copy_(saved) } }
        if let savedNoise { generator?.state = savedNoise }
        let a = zA.requiresGrad_()
        let b = zB.requiresGrad_()
        let loss = objectives[k].loss(a, b, labels: labels)
        loss.backward()
        let outputA = network.forward(block: k, inputA, generator: generator)
        network.embed(block: k, outputA).backward(a.grad)
        let outputB = network.forward(block: k, inputB, generator: generator)
        network.embed(block: k, outputB).backward(b.grad)
        return (hA, hB, loss.detach())
    }

    /// Trained blocks train; frozen blocks evaluate, unless their BN layers are asked to train.
    private func setModes(_ phase: TrainingPhase) {
        network.train()
        for k in phase.frozenBlocks {
            for module in network.modules(ofBlock: k) {
                module.train(phase.frozenBatchNormTrains && module is BatchNorm)
            }
        }
    }
}

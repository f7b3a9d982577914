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
    /// Autocast's dtype for the blocks, heads and projectors (`training.precision`); nil: float32.
    /// The losses always run in float32, on float32 embeddings.
    public var precision: DType?
    /// Set by `bench --profile`: each part of the step is timed into it.
    public var profile: StepProfile?

    public init(network: BlockwiseNetwork, objectives: [any Objective], recompute: Bool = false, precision: DType? = nil) {
        precondition(objectives.count == network.partition.count, "one objective per block")
        self.network = network
        self.objectives = objectives
        self.recompute = recompute
        self.precision = precision
    }

    /// `body` under autocast at `precision`; as it is without autocast in float32.
    private func autocast<R>(_ device: Device, _ body: () throws -> R) rethrows -> R {
        guard let precision else { return try body() }
        return try withAutocast(precision, device: device, body)
    }

    /// What a step computed: each trained block's loss (a 0-d tensor, detached) and every block
    /// output run (detached, for the online probe), by block index. Under routing, `rows[k]`
    /// lists the batch's examples that reached block k (all when absent), and `difficulty` each
    /// one's difficulty at the phase's last block (`RoutableObjective.difficulty`).
    public struct Output {
        public var losses: [Int: Tensor] = [:]
        public var outputs: [Int: (Tensor, Tensor)] = [:]
        public var rows: [Int: [Int]] = [:]
        public var difficulty: (rows: [Int], values: [Double])?
    }

    /// Runs forward and backward; gradients accumulate in the trained blocks' parameters.
    /// `noise` draws each block's injected noise from that block's stream.
    public func run(_ viewA: Tensor, _ viewB: Tensor, labels: Tensor?, phase: TrainingPhase, noise: NoiseStreams? = nil) -> Output {
        run(viewA, viewB, labels: labels, phase: phase, noise: noise, afterForward: { _, _, _ in }, afterBackward: { _ in })
    }

    /// The step over `blocks` only (all of the phase's by default), the views being the input
    /// of the first of them. `afterForward(k, a, b)` gets block k's outputs (detached, noise
    /// included) as soon as they exist, before its loss: block-parallel training sends them
    /// to the next block's process there. `afterBackward(k)` runs as soon as block k's
    /// gradients are complete, while later blocks still compute: data-parallel training
    /// starts averaging them there. `routing` weights the examples in each block's loss, or
    /// takes them out of the batch (`Routing`).
    public func run(_ viewA: Tensor, _ viewB: Tensor, labels: Tensor?, phase: TrainingPhase,
                    noise: NoiseStreams? = nil, blocks: ClosedRange<Int>? = nil, routing: RoutedBatch? = nil,
                    afterForward: (Int, Tensor, Tensor) throws -> Void, afterBackward: (Int) throws -> Void) rethrows -> Output
    {
        setModes(phase)
        var result = Output()
        var hA = viewA
        var hB = viewB
        var labels = labels
        var rows = Array(0..<viewA.size(0))
        var pending: [Tensor] = []
        let range = blocks ?? 0...max(0, network.partition.count - 1)
        for k in range where k <= phase.lastBlock {
            if phase.stopGradient, k > range.lowerBound {
                hA = hA.detach()
                hB = hB.detach()
            }
            let frozen = phase.frozenBlocks.contains(k)
            let trained = phase.trainedBlocks.contains(k)
            // Examples routed below this block leave the batch before it, for good.
            if let routing, routing.dropsUnweighted, trained, let weights = routing.weights[k] {
                let kept = rows.indices.filter { weights[rows[$0]] > 0 }
                if kept.count < rows.count {
                    // Batch statistics need two examples: too few, and no block from here trains on this batch.
                    guard kept.count >= 2 else { break }
                    let index = Tensor(kept.map(Int64.init), device: hA.device)
                    hA = hA.indexSelect(dim: 0, index: index)
                    hB = hB.indexSelect(dim: 0, index: index)
                    labels = labels?.indexSelect(dim: 0, index: index.to(labels!.device))
                    rows = kept.map { rows[$0] }
                }
            }
            if rows.count < viewA.size(0) { result.rows[k] = rows }
            let generator = noise?[k]
            let weights = routing.flatMap { routing in routing.dropsUnweighted ? nil : routing.weights[k] }
                .map { weights in Tensor(rows.map { weights[$0] }, device: hA.device) }
            let measures = trained && k == phase.lastBlock && routing != nil
            // Replaying the noise needs its generator.
            if recompute, trained, phase.stopGradient, network.noise == nil || generator != nil {
                let block = try recomputed(block: k, hA, hB, labels: labels, weights: weights, measures: measures, generator: generator) { a, b in
                    try afterForward(k, a, b)
                }
                (hA, hB) = (block.a, block.b)
                result.outputs[k] = (hA, hB)
                result.losses[k] = block.loss
                if let measured = block.difficulty { result.difficulty = (rows, measured.toArray(Double.self)) }
                try afterBackward(k)
                continue
            }
            // One autocast region for the block's views, heads and projectors, so that each
            // weight is cast once. View A's head runs before view B's block, and view B's head
            // last: the backward, which takes the latest-made node first, then runs view B's head
            // and block before view A's head, so that A's head gradient for the block output is
            // not held through B's block. The outputs go to afterForward before B's head.
            //
            // Under `--profile`, each head takes a leaf copy of its input, so the loss's backward
            // stops at the block's output and the heads' backward is timed apart from the block's,
            // which then runs from the leaves' gradients: the same gradients, one graph cut (and
            // both views' gradients at the block's output held through the block's backward).
            let splitsBackward = profile != nil && trained && phase.stopGradient
            var headInputs: (Tensor, Tensor)?
            let embeddings: (Tensor, Tensor)? = try autocast(hA.device) {
                forward(k, &hA, frozen: frozen, generator: generator)
                let inA = splitsBackward ? hA.detach().requiresGrad_() : hA
                let gA = trained ? head(k, inA) : nil
                forward(k, &hB, frozen: frozen, generator: generator)
                result.outputs[k] = (hA.detach(), hB.detach())
                try afterForward(k, result.outputs[k]!.0, result.outputs[k]!.1)
                guard let gA else { return nil }
                let inB = splitsBackward ? hB.detach().requiresGrad_() : hB
                if splitsBackward { headInputs = (inA, inB) }
                let gB = head(k, inB)
                defer { profile?.mark(k, .projector) }
                return (network.projectors[k](gA), network.projectors[k](gB))
            }
            guard let (zA, zB) = embeddings else { continue }
            let loss = blockLoss(k, zA, zB, labels: labels, weights: weights)
            profile?.mark(k, .loss)
            if measures { result.difficulty = (rows, difficulty(k, zA, zB, labels: labels).toArray(Double.self)) }
            result.losses[k] = loss.detach()
            if phase.stopGradient {
                loss.backward()
                if let (inA, inB) = headInputs {
                    profile?.mark(k, .headBackward)
                    if let gradient = inB.grad, hB.requiresGrad { hB.backward(gradient) }
                    if let gradient = inA.grad, hA.requiresGrad { hA.backward(gradient) }
                }
                profile?.mark(k, .backward)
                try afterBackward(k)
            } else {
                pending.append(loss)
            }
        }
        // Without stop-gradients the losses share one graph: one backward through their sum.
        if !pending.isEmpty {
            pending.dropFirst().reduce(pending[0], +).backward()
            profile?.mark(phase.lastBlock, .backward)
            for k in phase.trainedBlocks { try afterBackward(k) }
        }
        return result
    }

    /// Block k on one view's input `h`, which becomes the block's output.
    private func forward(_ k: Int, _ h: inout Tensor, frozen: Bool, generator: Generator?) {
        let input = h
        h = withGradMode(!frozen && isGradEnabled) { network.forward(block: k, input, generator: generator) }
        profile?.mark(k, .forward)
    }

    /// Block k's head on one view's block output.
    private func head(_ k: Int, _ output: Tensor) -> Tensor {
        defer { profile?.mark(k, .head) }
        return network.heads[k](output)
    }

    /// Block k's loss, with per-example weights under routing's weighted scheme (which the
    /// set-up allows only for objectives that weight examples).
    private func blockLoss(_ k: Int, _ zA: Tensor, _ zB: Tensor, labels: Tensor?, weights: Tensor?) -> Tensor {
        // Under autocast, the loss and its statistics run in float32 on float32 embeddings.
        if precision != nil {
            return withAutocast(nil, device: zA.device) {
                blockLoss32(k, zA.to(.float32), zB.to(.float32), labels: labels, weights: weights)
            }
        }
        return blockLoss32(k, zA, zB, labels: labels, weights: weights)
    }

    private func blockLoss32(_ k: Int, _ zA: Tensor, _ zB: Tensor, labels: Tensor?, weights: Tensor?) -> Tensor {
        guard let weights else { return objectives[k].loss(zA, zB, labels: labels) }
        guard let objective = objectives[k] as? any RoutableObjective, objective.weighsExamples else {
            preconditionFailure("block \(k + 1)'s objective cannot weight its examples")
        }
        return objective.loss(zA, zB, labels: labels, weights: weights)
    }

    private func difficulty(_ k: Int, _ zA: Tensor, _ zB: Tensor, labels: Tensor?) -> Tensor {
        guard let objective = objectives[k] as? any RoutableObjective else {
            preconditionFailure("block \(k + 1)'s objective measures no difficulty")
        }
        return objective.difficulty(zA.detach().to(.float32), zB.detach().to(.float32), labels: labels).to(.cpu, .float64)
    }

    /// Block `k` of a blockwise phase with recomputation: returns both views' outputs
    /// (detached, from the first pass, which `afterForward` gets before any backward) and the
    /// loss (detached), gradients accumulated in the block's parameters. The second pass
    /// replays the first's noise and statistics, so its outputs equal the first's.
    private func recomputed(block k: Int, _ inputA: Tensor, _ inputB: Tensor, labels: Tensor?, weights: Tensor?, measures: Bool,
                            generator: Generator?, afterForward: (Tensor, Tensor) throws -> Void) rethrows
        -> (a: Tensor, b: Tensor, loss: Tensor, difficulty: Tensor?)
    {
        var seen = Set<ObjectIdentifier>()
        let buffers = network.modules(ofBlock: k).flatMap { $0.buffers() }.filter { seen.insert(ObjectIdentifier($0)).inserted }
        let savedBuffers = buffers.map { $0.clone() }
        let savedNoise = network.noise == nil ? nil : generator?.state
        let (hA, hB, zA, zB) = withNoGrad {
            autocast(inputA.device) {
                let a = network.forward(block: k, inputA, generator: generator)
                let b = network.forward(block: k, inputB, generator: generator)
                return (a, b, network.embed(block: k, a), network.embed(block: k, b))
            }
        }
        try afterForward(hA, hB)
        // Back to the state before the first pass, so the second updates it once, as usual.
        withNoGrad { for (buffer, saved) in zip(buffers, savedBuffers) { buffer.copy_(saved) } }
        if let savedNoise { generator?.state = savedNoise }
        let a = zA.requiresGrad_()
        let b = zB.requiresGrad_()
        let loss = blockLoss(k, a, b, labels: labels, weights: weights)
        loss.backward()
        autocast(inputA.device) { network.embed(block: k, network.forward(block: k, inputA, generator: generator)) }.backward(a.grad)
        autocast(inputB.device) { network.embed(block: k, network.forward(block: k, inputB, generator: generator)) }.backward(b.grad)
        return (hA, hB, loss.detach(), measures ? difficulty(k, zA, zB, labels: labels) : nil)
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

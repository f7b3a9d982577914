import Foundation
import Torch

/// Block-parallel training's side of the set-up: the step of one process's block, and the
/// parts of the run's state each block's process owns (the weights, optimizer state, probe
/// classifier and noise stream of its block), which rank 0 gathers to write the run directory.
extension TrainingSetup {
    /// Block-parallel training runs one phase in which every block trains behind a stop-gradient:
    /// the simultaneous modes. Sequential training has a phase per block, and end-to-end
    /// training sends gradients between blocks.
    static func checkPipelined(_ plan: TrainingPlan, placement: BlockPlacement) throws {
        guard plan.phases.count == 1, plan.phases[0].stopGradient, plan.phases[0].lastBlock == placement.blocks - 1 else {
            throw RunError("distributed.strategy blocks trains every block at once behind a stop-gradient, which training.mode \(plan.mode.rawValue) does not: use simultaneous or supervised-blockwise, or distributed.strategy data")
        }
    }

    /// One step of this process's block on `input` (the images, or the outputs of the block
    /// below): its forward pass, whose outputs go up to the next block at once, then its loss,
    /// backward (averaged over the block's replicas), optimizer step and probe step. Returns
    /// the block's loss (this replica's) and probe score.
    func optimise(block input: BlockPipeline.Message, phase: TrainingPhase) throws -> (loss: Double?, probe: OnlineProbe.Score?) {
        guard let placement, let pipeline else { throw RunError("not a block-parallel run") }
        let k = placement.block
        let labels = input.labels.to(device)
        let result = try step.run(input.viewA.to(device), input.viewB.to(device), labels: labels, phase: phase, noise: noise,
                                  blocks: k...k, afterForward: { _, a, b in
                                      try pipeline.send(step: input.step, position: input.position, a, b, labels: input.labels)
                                  }, afterBackward: { k in try dataParallel?.startAveraging(blockParameters[k]) })
        let score = probe?.fit(outputs: [k: result.outputs[k]!.0], labels: input.labels)[k]
        if let probe { try dataParallel?.startAveraging(probe.classifiers[k].parameters()) }
        try dataParallel?.finishAveraging()
        // The loss and the probe's count in one read: on a GPU each read waits for the device.
        let pending = [result.losses[k], score?.correct].compactMap { $0?.to(.float64) }
        var values = pending.isEmpty ? [] : Tensor.stack(pending).to(.cpu).toArray(Double.self)[...]
        let loss = result.losses[k] == nil ? nil : values.popFirst()
        if let loss, !loss.isFinite { throw NonFiniteLoss(block: k, value: loss) }
        optimizer.step()
        optimizer.zeroGrad()
        probe?.update()
        return (loss, score.map { OnlineProbe.Score(correct: Int(values.popFirst()!), labelled: $0.labelled) })
    }

    // MARK: Parts of the state

    /// The part of the run's state that block `k`'s process trains, named as in checkpoints:
    /// `model.*` entries of the block, `optimizer.state.I.*` of its parameters (tensors; the
    /// scalars go in the metadata), `probe.*` and `probe_optimizer.state.I.*` of its
    /// classifier, and its noise stream `rng.noise.k`.
    func statePart(block k: Int) throws -> (tensors: [(String, Tensor)], metadata: [String: String]) {
        var tensors = network.orderedStateDict().filter { network.block(ofEntry: $0.name) == k }.map { ("model." + $0.name, $0.tensor) }
        var metadata: [String: String] = [:]
        func add(_ state: OptimizerState, prefix: String, owned: Set<Int>) throws {
            let keep = { (key: String) in Self.parameterIndex(key).map(owned.contains) ?? false }
            tensors += state.tensors.filter { keep($0.key) }.sorted { $0.key < $1.key }.map { (prefix + $0.key, $0.value) }
            metadata[prefix + "scalars"] = try Self.json(state.scalars.filter { keep($0.key) })
        }
        try add(optimizer.stateDict(), prefix: "optimizer.", owned: ownedIndices(of: optimizer, block: k))
        if let probe {
            tensors += probe.classifiers[k].orderedStateDict().map { ("probe.classifiers.\(k).\($0.name)", $0.tensor) }
            try add(probe.optimizer.stateDict(), prefix: "probe_optimizer.", owned: ownedIndices(of: probe.optimizer, block: k))
        }
        tensors.append((NoiseStreams.key(block: k), noise[k].state))
        return (tensors, metadata)
    }

    /// Takes block `k`'s part, from the process that trains it, into this process's copy of
    /// the whole state: rank 0 then writes checkpoints and the backbone as one process would.
    func absorb(part: [String: Tensor], metadata: [String: String], block k: Int) throws {
        func owned(_ prefix: String) -> [String: Tensor] {
            Dictionary(uniqueKeysWithValues: part.filter { $0.key.hasPrefix(prefix) }.map { (String($0.key.dropFirst(prefix.count)), $0.value) })
        }
        let weights = owned("model.")
        let expected = network.orderedStateDict().filter { network.block(ofEntry: $0.name) == k }.map(\.name)
        guard Set(weights.keys) == Set(expected) else {
            throw DistributedError("block \(k + 1)'s part holds \(weights.count) model tensors, the block has \(expected.count)")
        }
        _ = try network.load(stateDict: weights, strict: false)
        try merge(owned("optimizer."), scalars: metadata["optimizer.scalars"], into: optimizer, block: k)
        if let probe {
            _ = try probe.load(stateDict: owned("probe."), strict: false)
            try merge(owned("probe_optimizer."), scalars: metadata["probe_optimizer.scalars"], into: probe.optimizer, block: k)
        }
        if let stream = part[NoiseStreams.key(block: k)] { noise[k].state = stream }
    }

    /// Replaces the state of block `k`'s parameters in `optimizer` with the part's.
    private func merge(_ tensors: [String: Tensor], scalars: String?, into optimizer: Optimizer, block k: Int) throws {
        let owned = ownedIndices(of: optimizer, block: k)
        let others = { (key: String) in !(Self.parameterIndex(key).map(owned.contains) ?? false) }
        var state = optimizer.stateDict()
        state.tensors = state.tensors.filter { others($0.key) }.merging(tensors) { _, new in new }
        let partScalars = try scalars.map { try JSONDecoder().decode([String: Double].self, from: Data($0.utf8)) } ?? [:]
        state.scalars = state.scalars.filter { others($0.key) }.merging(partScalars) { _, new in new }
        try optimizer.load(stateDict: state)
    }

    /// The indices (in `optimizer.parameters`) of block `k`'s parameters: the block's own, or
    /// for the probe's optimizer, its classifier's.
    private func ownedIndices(of optimizer: Optimizer, block k: Int) -> Set<Int> {
        let mine = optimizer === probe?.optimizer ? probe!.classifiers[k].parameters() : blockParameters[k]
        let ids = Set(mine.map(ObjectIdentifier.init))
        return Set(optimizer.parameters.indices.filter { ids.contains(ObjectIdentifier(optimizer.parameters[$0])) })
    }

    /// I of an optimizer key `state.I.name`; nil for the groups' entries.
    private static func parameterIndex(_ key: String) -> Int? {
        let parts = key.split(separator: ".", maxSplits: 2)
        return parts.count == 3 && parts[0] == "state" ? Int(parts[1]) : nil
    }

    private static func json(_ value: [String: Double]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

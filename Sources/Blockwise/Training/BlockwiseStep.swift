import Torch

/// One training step's forward and backward passes through a `BlockwiseNetwork` under a
/// `TrainingPhase`: the heart of the trainer, shared by every mode.
///
/// In blockwise phases each block's loss is backpropagated as soon as the block has run,
/// so its graph is freed before the next block starts: peak activation memory is that of
/// the largest block, not of the whole network (DESIGN.md). The two views go through the
/// network separately, so each view's batch statistics are its own, as in the reference.
public struct BlockwiseStep {
    public let network: BlockwiseNetwork
    public let objectives: [any Objective]

    public init(network: BlockwiseNetwork, objectives: [any Objective]) {
        precondition(objectives.count == network.partition.count, "one objective per block")
        self.network = network
        self.objectives = objectives
    }

    /// Runs forward and backward; gradients accumulate in the trained blocks' parameters.
    /// Returns each trained block's loss (a 0-d tensor, detached) and every block output run
    /// (detached, for the online probe), by block index.
    public func run(_ viewA: Tensor, _ viewB: Tensor, labels: Tensor?, phase: TrainingPhase,
                    generator: Generator? = nil) -> (losses: [Int: Tensor], outputs: [Int: (Tensor, Tensor)]) {
        setModes(phase)
        var losses: [Int: Tensor] = [:]
        var outputs: [Int: (Tensor, Tensor)] = [:]
        var hA = viewA
        var hB = viewB
        var pending: [Tensor] = []
        let backbone = network.backbone
        for (k, stages) in network.partition.blocks.enumerated() where k <= phase.lastBlock {
            if phase.stopGradient, k > 0 {
                hA = hA.detach()
                hB = hB.detach()
            }
            let frozen = phase.frozenBlocks.contains(k)
            withGradMode(!frozen && isGradEnabled) {
                hA = backbone.applyBlock(stages, hA)
                hB = backbone.applyBlock(stages, hB)
                if let noise = network.noise {
                    hA = noise(hA, training: network.training, generator: generator)
                    hB = noise(hB, training: network.training, generator: generator)
                }
            }
            outputs[k] = (hA.detach(), hB.detach())
            guard phase.trainedBlocks.contains(k) else { continue }
            let loss = objectives[k].loss(network.embed(block: k, hA), network.embed(block: k, hB), labels: labels)
            losses[k] = loss.detach()
            if phase.stopGradient {
                loss.backward()
            } else {
                pending.append(loss)
            }
        }
        // Without stop-gradients the losses share one graph: one backward through their sum.
        if !pending.isEmpty { pending.dropFirst().reduce(pending[0], +).backward() }
        return (losses, outputs)
    }

    /// Trained blocks train; frozen blocks evaluate, unless their BN layers are asked to train.
    private func setModes(_ phase: TrainingPhase) {
        network.train()
        for k in phase.frozenBlocks {
            for module in blockModules(k) {
                module.train(phase.frozenBatchNormTrains && module is BatchNorm)
            }
        }
    }

    /// The modules of block k: its stages (the stem with stage 1), head and projector.
    public func blockModules(_ k: Int) -> [Module] {
        network.backbone.modules(ofStages: network.partition.blocks[k]) + [network.heads[k], network.projectors[k]]
    }
}

extension ResNet {
    /// The modules of the given stages (1…4), the stem's with stage 1.
    public func modules(ofStages stageNumbers: [Int]) -> [Module] {
        stageNumbers.flatMap { stage -> [Module] in
            (stage == 1 ? [conv1, bn1] : []) + stages[stage - 1].modules()
        }
    }
}

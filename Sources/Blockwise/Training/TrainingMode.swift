/// The training modes of the paper (§3.1, §4, §5). They differ only in which objectives
/// exist and where gradients stop; `TrainingPlan` spells that out for the one trainer.
public enum TrainingMode: String, Sendable, CaseIterable {
    /// One objective after the last block, full backpropagation: the paper's baseline.
    case endToEnd = "end-to-end"
    /// An objective at every block, a stop-gradient between blocks: the paper's method.
    case simultaneous
    /// Block k trains for its epochs while the blocks below are frozen.
    case sequential
    /// Cross-entropy through each block's projector, stop-gradient between blocks.
    case supervisedBlockwise = "supervised-blockwise"
    /// Cross-entropy after the last block, full backpropagation.
    case supervisedEndToEnd = "supervised-end-to-end"
    /// Blocks below k random and frozen; only block k trains (the trivial baseline, Fig. 4).
    case randomFrozen = "random-frozen"

    /// Whether the objective is the supervised cross-entropy.
    public var isSupervised: Bool { self == .supervisedBlockwise || self == .supervisedEndToEnd }

    /// Whether a single objective sits after the whole network.
    public var isEndToEnd: Bool { self == .endToEnd || self == .supervisedEndToEnd }
}

/// What one phase of training does with each block: a whole run is one phase, except in
/// sequential mode where each block gets a phase of its own.
public struct TrainingPhase: Equatable, Sendable {
    /// Blocks (from 0) whose objective is computed and whose parameters learn.
    public var trainedBlocks: [Int]
    /// Blocks (from 0) run without gradients and without learning.
    public var frozenBlocks: [Int]
    /// Detach each block's input from the block below.
    public var stopGradient: Bool
    /// Frozen blocks keep their BN layers in training mode (batch statistics, running
    /// statistics updated), as the §5 variant of sequential training; else evaluation mode.
    public var frozenBatchNormTrains: Bool

    /// The blocks that must run forward: everything up to the last trained block.
    public var lastBlock: Int { trainedBlocks.max() ?? -1 }
}

/// The phases of a mode over a network of `blocks` training blocks.
public struct TrainingPlan: Equatable, Sendable {
    public var mode: TrainingMode
    public var phases: [TrainingPhase]

    /// - Parameters:
    ///   - trainedBlock: random-frozen mode: the block (from 1) that trains.
    ///   - loadedFrozen: blocks (from 0) loaded from another run and kept frozen (`init-from`).
    public init(mode: TrainingMode, blocks: Int, trainedBlock: Int = 4, lowerBatchNormTrains: Bool = false,
                loadedFrozen: Set<Int> = []) throws {
        self.mode = mode
        func phase(_ trained: [Int], frozen: [Int], stop: Bool) -> TrainingPhase {
            let frozenAll = Set(frozen).union(loadedFrozen.filter { $0 <= (trained.max() ?? -1) })
            return TrainingPhase(trainedBlocks: trained.filter { !loadedFrozen.contains($0) },
                                 frozenBlocks: frozenAll.sorted(), stopGradient: stop,
                                 frozenBatchNormTrains: lowerBatchNormTrains)
        }
        switch mode {
        case .endToEnd, .supervisedEndToEnd:
            guard blocks == 1 else {
                throw TrainingError("\(mode.rawValue) training has one objective after the whole network: use the partition 1+2+3+4, got \(blocks) blocks")
            }
            phases = [phase([0], frozen: [], stop: false)]
        case .simultaneous, .supervisedBlockwise:
            phases = [phase(Array(0..<blocks), frozen: [], stop: true)]
        case .sequential:
            phases = (0..<blocks).map { k in phase([k], frozen: Array(0..<k), stop: true) }
        case .randomFrozen:
            guard (1...blocks).contains(trainedBlock) else {
                throw TrainingError("random-frozen: training.trained_block must be a block from 1 to \(blocks), got \(trainedBlock)")
            }
            phases = [phase([trainedBlock - 1], frozen: Array(0..<(trainedBlock - 1)), stop: true)]
        }
        // A phase whose blocks are all loaded and frozen has nothing to do (sequential mode).
        phases.removeAll { $0.trainedBlocks.isEmpty }
        if phases.isEmpty {
            throw TrainingError("nothing left to train: every trained block is loaded and frozen (training.init_frozen)")
        }
    }
}

/// A training set-up that cannot run, saying what to change.
public struct TrainingError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

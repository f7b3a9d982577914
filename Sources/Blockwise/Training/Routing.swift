import Torch

/// Difficulty-based routing (paper App. A, `training.routing`): each example goes to a block by
/// its difficulty, the easiest to block 1 and the hardest to the top block.
///
/// An example's difficulty is its loss in the previous epoch's training (the objective's
/// per-example share, `RoutableObjective.difficulty`), measured at the last block the phase
/// trains. At each epoch's start the examples are ranked by it, and the quantiles route them:
/// of B blocks, the easiest 1/B go to block 1, the next 1/B to block 2, and so on. Two
/// schemes, as in the paper:
/// - `all-below`: an example trains the block it is routed to and every block below; it leaves
///   the batch before the blocks above, which never see it (not even in batch statistics);
/// - `weighted`: it trains every block, with weight 1 at its own and `training.routing_weight`
///   at the others, through the objective's weighted loss.
///
/// An example not measured yet (the first epoch) trains every block with weight 1. One routed
/// below the top block under `all-below` is not measured at the top again: it keeps its last
/// difficulty. Both epochs' measurements are in checkpoints, so a resumed run routes the same.
public final class Routing {
    public enum Scheme: String, CaseIterable, Sendable {
        case none
        case allBelow = "all-below"
        case weighted
    }

    public let scheme: Scheme
    /// The weight of the blocks an example is not routed to (`weighted`).
    public let weight: Double
    public let blocks: Int
    /// Each example's difficulty as last measured before this epoch (NaN: never), which routes it.
    private(set) var previous: [Double]
    /// This epoch's measurements (NaN where none yet).
    private(set) var current: [Double]
    /// The block (from 0) each example is routed to this epoch; nil: not measured yet.
    private var assignment: [Int?]

    public init(scheme: Scheme, weight: Double, blocks: Int, count: Int) {
        self.scheme = scheme
        self.weight = weight
        self.blocks = blocks
        previous = Array(repeating: .nan, count: count)
        current = previous
        assignment = Array(repeating: nil, count: count)
    }

    /// The routing of `training.routing`, checked against the mode, the objective and the
    /// launch; nil for `none`.
    convenience init?(_ config: Config, plan: TrainingPlan, objectives: [any Objective], count: Int, launch: Launch) throws {
        let scheme = config.training.routing
        guard scheme != .none else { return nil }
        guard [.simultaneous, .sequential, .supervisedBlockwise].contains(plan.mode) else {
            throw RunError("training.routing \(scheme.rawValue) routes examples between blocks trained behind stop-gradients: use training.mode simultaneous, sequential or supervised-blockwise, not \(plan.mode.rawValue)")
        }
        guard !launch.isDistributed else {
            throw RunError("training.routing needs every example's difficulty in one process: run it without a launcher (\(launch.worldSize) processes)")
        }
        if scheme == .weighted, !objectives.allSatisfy({ ($0 as? any RoutableObjective)?.weighsExamples == true }) {
            throw RunError("training.routing weighted needs an objective whose loss weights examples (barlow-twins, or the supervised modes' cross-entropy), not objective.name \(config.objective.name.rawValue); all-below works with any")
        }
        self.init(scheme: scheme, weight: config.training.routingWeight, blocks: plan.phases.map(\.lastBlock).max()! + 1, count: count)
    }

    /// Each trained block's weight of each example of a batch (`indices` into the dataset).
    public func weights(for indices: [Int], trained: [Int]) -> RoutedBatch {
        var weights: [Int: [Double]] = [:]
        for k in trained {
            weights[k] = indices.map { index in
                guard let block = assignment[index] else { return 1 }
                switch scheme {
                case .none: return 1
                case .allBelow: return k <= block ? 1 : 0
                case .weighted: return k == block ? 1 : weight
                }
            }
        }
        return RoutedBatch(weights: weights, dropsUnweighted: scheme == .allBelow)
    }

    /// Records the difficulties measured for examples `indices` in this epoch.
    public func record(indices: [Int], difficulties: [Double]) {
        for (index, difficulty) in zip(indices, difficulties) { current[index] = difficulty }
    }

    /// At an epoch's end: its measurements replace the older ones, and route the next epoch.
    public func endEpoch() {
        previous = zip(previous, current).map { $1.isNaN ? $0 : $1 }
        current = Array(repeating: .nan, count: current.count)
        assign()
    }

    /// Ranks the measured examples by difficulty (ties by index) and routes them by quantile.
    private func assign() {
        let measured = previous.indices.filter { !previous[$0].isNaN }
            .sorted { previous[$0] != previous[$1] ? previous[$0] < previous[$1] : $0 < $1 }
        assignment = Array(repeating: nil, count: previous.count)
        for (rank, index) in measured.enumerated() { assignment[index] = min(blocks - 1, rank * blocks / measured.count) }
    }

    // MARK: Checkpoints

    static let previousKey = "routing.previous", currentKey = "routing.current"

    var checkpointTensors: [(String, Tensor)] { [(Self.previousKey, Tensor(previous)), (Self.currentKey, Tensor(current))] }

    /// Restores both epochs' measurements; a checkpoint of another dataset size is refused.
    func restore(_ tensors: [String: Tensor], path: String) throws {
        guard let saved = tensors[Self.previousKey], let now = tensors[Self.currentKey] else {
            throw RunError("\(path) holds no routing state (\(Self.previousKey), \(Self.currentKey)), which training.routing needs")
        }
        let (a, b) = (saved.to(.float64).toArray(Double.self), now.to(.float64).toArray(Double.self))
        guard a.count == previous.count, b.count == current.count else {
            throw RunError("\(path): the routing state covers \(a.count) examples, the dataset has \(previous.count)")
        }
        (previous, current) = (a, b)
        assign()
    }
}

/// Per-example weights of one step under routing: `weights[k][i]` is example i's weight in
/// block k's loss; with `dropsUnweighted`, an example of weight 0 leaves the batch before block k.
public struct RoutedBatch: Sendable {
    public var weights: [Int: [Double]]
    public var dropsUnweighted: Bool
}

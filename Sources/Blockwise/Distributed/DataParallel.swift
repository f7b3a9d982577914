import Foundation
import Torch

/// Data-parallel training (DESIGN.md, "Scale"): every rank holds the whole network and trains
/// on its shard of each global batch (`data.batch_size` stays the global batch), and a
/// block's gradients are averaged over the ranks as soon as that block's backward ends, so
/// the exchange runs while the next block computes. With the statistics the objectives and
/// batch norms share over the group (`ProcessGroup.sum`, SyncBatchNorm), a step computes what
/// one process computes on the whole global batch.
///
/// Why averaging is right: every rank's loss is the global loss (Barlow Twins' summed
/// cross-correlation, VICReg's and SimCLR's gathered embeddings) or its shard's share of it
/// (the supervised cross-entropy, a mean); the differentiable exchanges pass each rank the
/// sum over ranks of their gradients, so each rank's gradient is `world size` times its
/// shard's part of the global gradient, and their average is the global gradient.
public final class DataParallel {
    public let launch: Launch
    /// Every process of the run: checks, stop decisions, metrics, checkpoints.
    public let group: ProcessGroup
    /// The processes that hold the same weights and train on different shards of each batch:
    /// every process with `distributed.strategy: data`, a block's replicas with `blocks`
    /// (nil when a block has one). Gradients are averaged over it, and the objectives and
    /// batch norms share their statistics over it.
    public let replicaGroup: ProcessGroup?
    /// Seconds the step spent waiting for averages after its last backward: the exchange
    /// that computation did not hide.
    public private(set) var waitSeconds = 0.0
    private var pending: [(work: Work, gradients: [Tensor], flat: Tensor)] = []
    private let watch: RankWatch

    /// Joins the run's process group (rank 0 serves the rendezvous). From then on, an
    /// exchange that fails names the rank it lost, whether it throws or, inside a forward
    /// pass, stops the process.
    public init(launch: Launch, backend: ProcessGroup.Backend, timeout: Double, placement: BlockPlacement? = nil) throws {
        self.launch = launch
        do {
            group = try ProcessGroup(host: launch.masterAddress, port: launch.masterPort, rank: launch.rank,
                                     worldSize: launch.worldSize, backend: backend, timeout: timeout,
                                     storeServed: launch.storeServed)
        } catch let error as TorchError {
            throw DistributedError("rank \(launch.rank) could not join the \(launch.worldSize) processes at \(launch.masterAddress):\(launch.masterPort) within \(Int(timeout)) s (run.timeout_s): \(error.message)")
        }
        let watch = RankWatch(group: group, name: placement.map { placement in
            { BlockPlacement.describe(rank: $0, blocks: placement.blocks) }
        } ?? { "rank \($0)" })
        self.watch = watch
        Runtime.failureContext = { _ in watch.lostRanks() }
        if let placement {
            let group = group
            replicaGroup = placement.replicas == 1 ? nil : try Self.exchange(watch) {
                try group.subgroup(named: "replicas-of-block-\(placement.block)", rank: placement.replica, size: placement.replicas)
            }
        } else {
            replicaGroup = group
        }
    }

    /// Runs an exchange; a failure becomes an error naming the rank lost.
    func exchange<R>(_ body: () throws -> R) throws -> R {
        try Self.exchange(watch, body)
    }

    private static func exchange<R>(_ watch: RankWatch, _ body: () throws -> R) throws -> R {
        do {
            return try body()
        } catch let error as TorchError {
            throw DistributedError(watch.explain(error.message) + " (\(error.message))")
        }
    }

    /// Starts averaging the gradients of `parameters` over the ranks, without waiting.
    /// A trainable parameter without a gradient on this rank (an online probe that saw no
    /// labelled image) averages a zero one, so every rank exchanges the same tensors.
    func startAveraging(_ parameters: [Tensor]) throws {
        guard let replicaGroup else { return }
        let gradients = parameters.filter(\.requiresGrad).map { parameter in
            if let gradient = parameter.grad { return gradient }
            parameter.grad = Tensor.zeros(parameter.shape, dtype: parameter.dtype, device: parameter.device)
            return parameter.grad!
        }
        guard !gradients.isEmpty else { return }
        // One exchange per block: a flat copy of its gradients.
        let flat = Tensor.cat(gradients.map { $0.flatten() }, dim: 0)
        pending.append((try exchange { try replicaGroup.allReduce([flat], op: .average) }, gradients, flat))
    }

    /// Waits for every average started and writes it into the gradients.
    func finishAveraging() throws {
        let start = Date()
        defer { waitSeconds += Date().timeIntervalSince(start) }
        for (work, gradients, flat) in pending {
            try exchange { try work.wait() }
            var offset = 0
            withNoGrad {
                for gradient in gradients {
                    let count = gradient.count
                    gradient.copy_(flat.narrow(dim: 0, start: offset, length: count).reshape(gradient.shape))
                    offset += count
                }
            }
        }
        pending.removeAll()
    }

    /// The sum over ranks of a few numbers (losses, counts) of this step.
    func sum(_ values: [Double]) throws -> [Double] {
        let tensor = Tensor(values)
        try exchange { try group.allReduce([tensor]).wait() }
        return tensor.toArray(Double.self)
    }

    /// Every rank's `values` (the same count on each), in rank order.
    func gather(_ values: [Double]) throws -> [[Double]] {
        let outputs = (0..<launch.worldSize).map { _ in Tensor.zeros([values.count], dtype: .float64) }
        try exchange { try group.allGather(Tensor(values), into: outputs).wait() }
        return outputs.map { $0.toArray(Double.self) }
    }

    /// Every rank's `tensors` (the same shapes and dtypes on each), by rank.
    func gather(_ tensors: [Tensor]) throws -> [[Tensor]] {
        let outputs = tensors.map { tensor in (0..<launch.worldSize).map { _ in Tensor.empty(tensor.shape, dtype: tensor.dtype) } }
        try exchange {
            let works = try zip(tensors, outputs).map { try group.allGather($0.to(.cpu).contiguous(), into: $1) }
            for work in works { try work.wait() }
        }
        return (0..<launch.worldSize).map { rank in outputs.map { $0[rank] } }
    }

    func resetWaitTime() { waitSeconds = 0 }

    /// Whether any rank asks for it: ranks stop together, at the same step.
    func anyRank(_ flag: Bool) throws -> Bool {
        try sum([flag ? 1 : 0])[0] > 0
    }

    func barrier() throws {
        try exchange { try group.barrier().wait() }
    }

    /// Checks that every rank runs the same resolved configuration; the error names the
    /// ranks that differ from rank 0.
    func checkSameConfiguration(_ text: String) throws {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let outputs = (0..<launch.worldSize).map { _ in Tensor.zeros([1], dtype: .int64) }
        try exchange { try group.allGather(Tensor([Int64(bitPattern: hash)]), into: outputs).wait() }
        let hashes = outputs.map { $0.toArray(Int64.self)[0] }
        let differing = hashes.indices.filter { hashes[$0] != hashes[0] }
        guard differing.isEmpty else {
            throw DistributedError("rank(s) \(differing.map(String.init).joined(separator: ", ")) run a different configuration from rank 0: launch every rank with the same config file and --set options")
        }
    }
}

/// A distributed run that cannot go on, saying which rank or setting is at fault.
public struct DistributedError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

import CTorch

/// A group of processes that exchange tensors: libtorch's c10d process group (`torch.distributed`),
/// joined through a TCPStore rendezvous. Gloo on CPU tensors; NCCL on CUDA tensors where the
/// build has it (a CUDA libtorch), one GPU per rank.
///
/// Every rank of the group makes the same calls in the same order. Collectives are
/// asynchronous: each returns a `Work` to wait on, and its tensors must not be touched
/// until then. Failures (a rank that disappears, a timeout) are thrown as `TorchError`.
public final class ProcessGroup: @unchecked Sendable {
    /// The transport a group communicates over.
    public enum Backend: String, Sendable, CaseIterable {
        case gloo, nccl

        var code: Int32 {
            switch self {
            case .gloo: return Int32(CT_BACKEND_GLOO)
            case .nccl: return Int32(CT_BACKEND_NCCL)
            }
        }

        /// Whether this libtorch build can create such groups: Gloo always, NCCL in a CUDA build
        /// compiled with NCCL's headers. Creating an NCCL group also needs a CUDA device; without
        /// one it throws before the rendezvous.
        public var isAvailable: Bool { Runtime.ensureStarted(); return ct_dist_backend_available(code) != 0 }
    }

    /// How a reduction combines the ranks' tensors.
    public enum ReduceOp: Sendable {
        case sum, average, max, min
    }

    let handle: ct_process_group
    public let rank: Int
    public let worldSize: Int
    public let backend: Backend

    /// Joins the group through the rendezvous store on `host:port`: rank 0 serves it, unless
    /// `storeServed` says a launcher already does (torchrun's agent), and the others connect.
    /// Returns once all `worldSize` ranks have joined; fails after `timeout` seconds, which
    /// also bound every later operation.
    public init(host: String, port: Int, rank: Int, worldSize: Int, backend: Backend = .gloo,
                timeout: Double = 300, storeServed: Bool = false) throws {
        Runtime.ensureStarted()
        var out: ct_process_group?
        let serve: Int32 = rank == 0 && !storeServed ? 1 : 0
        try distributedCall(ct_pg_new(host, Int32(port), Int32(rank), Int32(worldSize), backend.code,
                                      Int64(timeout * 1000), serve, &out))
        handle = out!
        self.rank = rank
        self.worldSize = worldSize
        self.backend = backend
    }

    /// A group of some of this group's ranks (`torch.distributed.new_group`), which only its
    /// members create, each giving its `rank` among the `size` members. `name` tells groups
    /// apart: every member gives the same, and other groups others.
    public func subgroup(named name: String, rank: Int, size: Int) throws -> ProcessGroup {
        var out: ct_process_group?
        try distributedCall(ct_pg_new_subgroup(handle, name, Int32(rank), Int32(size), &out))
        return ProcessGroup(handle: out!, rank: rank, worldSize: size, backend: backend)
    }

    private init(handle: ct_process_group, rank: Int, worldSize: Int, backend: Backend) {
        self.handle = handle
        self.rank = rank
        self.worldSize = worldSize
        self.backend = backend
    }

    deinit { ct_pg_free(handle) }

    /// Reduces `tensors` in place over every rank. `average` divides the sum by the world size
    /// once the work completes.
    public func allReduce(_ tensors: [Tensor], op: ReduceOp = .sum) throws -> Work {
        let code: Int32
        switch op {
        case .sum, .average: code = Int32(CT_REDUCE_OP_SUM)
        case .max: code = Int32(CT_REDUCE_OP_MAX)
        case .min: code = Int32(CT_REDUCE_OP_MIN)
        }
        let work = try Work(tensors) { handles, out in ct_pg_all_reduce(self.handle, handles, Int64(handles.count), code, out) }
        if op == .average {
            let scale = 1 / Double(worldSize)
            work.completion = { withNoGrad { for tensor in tensors { tensor.mul_(scale) } } }
        }
        return work
    }

    /// Copies `root`'s `tensors` into every rank's, in place.
    public func broadcast(_ tensors: [Tensor], root: Int) throws -> Work {
        try Work(tensors) { handles, out in ct_pg_broadcast(self.handle, handles, Int64(handles.count), Int32(root), out) }
    }

    /// Every rank's `input`, in rank order, into `outputs` (one tensor per rank, shaped as `input`).
    public func allGather(_ input: Tensor, into outputs: [Tensor]) throws -> Work {
        try Work(outputs + [input]) { handles, out in
            ct_pg_all_gather(self.handle, handles[handles.count - 1], handles, Int64(outputs.count), out)
        }
    }

    /// Completes when every rank has reached it.
    public func barrier() throws -> Work {
        try Work([]) { _, out in ct_pg_barrier(self.handle, out) }
    }

    /// Sends `tensor` to rank `destination`; it pairs with that rank's `receive` of the same tag.
    public func send(_ tensor: Tensor, to destination: Int, tag: Int = 0) throws -> Work {
        try Work([tensor]) { handles, out in ct_pg_send(self.handle, handles[0], Int32(destination), Int32(tag), out) }
    }

    /// Receives into `tensor` (shaped and typed as what is sent) from rank `source`.
    public func receive(into tensor: Tensor, from source: Int, tag: Int = 0) throws -> Work {
        try Work([tensor]) { handles, out in ct_pg_recv(self.handle, handles[0], Int32(source), Int32(tag), out) }
    }

    /// Sets `key` to `value` in the group's rendezvous store, which every rank reads.
    public func setStoreValue(_ value: String, forKey key: String) throws {
        try distributedCall(ct_pg_store_set(handle, key, value))
    }

    /// The value of `key` in the group's rendezvous store, nil while no rank has set it.
    public func storeValue(forKey key: String) throws -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        var found: Int32 = 0
        try distributedCall(ct_pg_store_get(handle, key, &buffer, Int64(buffer.count), &found))
        return found != 0 ? String(cString: buffer) : nil
    }

    /// The sum over ranks of `tensor`, differentiable: in backward every rank's tensor gets the
    /// sum over ranks of the gradients, since every rank's loss depends on every rank's tensor.
    /// Blocks until every rank has contributed.
    public func sum(_ tensor: Tensor) throws -> Tensor {
        try differentiable { out in ct_dist_sum(handle, tensor.handle, out) }
    }

    /// Every rank's `tensor` concatenated along dimension 0 in rank order, differentiable: in
    /// backward each rank gets its own rows of the sum over ranks of the gradients.
    public func gather(_ tensor: Tensor) throws -> Tensor {
        try differentiable { out in ct_dist_gather(handle, tensor.handle, out) }
    }

    /// A differentiable collective's result; a failure is thrown.
    func differentiable(_ body: (UnsafeMutablePointer<ct_tensor?>) -> Int32) throws -> Tensor {
        var out: ct_tensor?
        try distributedCall(body(&out))
        return Tensor(owning: out)
    }
}

/// One asynchronous operation of a `ProcessGroup`: it keeps its tensors alive until it is
/// waited on.
public final class Work: @unchecked Sendable {
    let handle: ct_work
    let tensors: [Tensor]
    var completion: (() -> Void)?

    init(_ tensors: [Tensor], start: ([ct_tensor?], UnsafeMutablePointer<ct_work?>) -> Int32) throws {
        self.tensors = tensors
        var out: ct_work?
        try distributedCall(start(tensors.map(\.handle), &out))
        handle = out!
    }

    deinit { ct_work_free(handle) }

    /// Blocks until the operation has completed on this rank; throws what went wrong.
    public func wait() throws {
        try distributedCall(ct_work_wait(handle))
        completion?()
        completion = nil
    }

    /// Whether the operation has completed, without blocking.
    public var isCompleted: Bool {
        var done: Int32 = 0
        return ct_work_is_completed(handle, &done) == 0 && done != 0
    }
}

/// A bridge status of a distributed call, thrown as libtorch's message: a lost rank or a
/// timeout is an error a run reports, never a reason to stop the process on the spot.
func distributedCall(_ status: Int32) throws {
    if status != 0 { throw TorchError(message: String(cString: ct_last_error())) }
}

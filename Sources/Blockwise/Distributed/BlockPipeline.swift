import Foundation
import Torch

/// Block-parallel training's exchanges (`distributed.strategy: blocks`, DESIGN.md "Scale"):
/// each process trains one block (`BlockPlacement`), and per step receives its input from the
/// block below and sends its output to the block above. Nothing goes down: no gradient, and
/// no process waits for another's backward pass.
///
/// Why it is exact: a block's output at step t is computed, in forward, with that block's
/// weights of step t, before its own optimizer step; the block above trains on it at its
/// step t, as in one-process simultaneous training, where every block's forward at step t
/// also precedes every update. Each block draws its noise from its own stream
/// (`NoiseStreams`), so the noise is the same too: the runs compute the same numbers.
///
/// Per step and pair of neighbouring blocks the messages are a header (`Header`), the two
/// views' outputs and the labels, all sent without waiting. Up to `distributed.max_in_flight`
/// steps may be in flight: then the sender waits for the oldest to be received, so a fast
/// block never runs far ahead and memory stays bounded.
///
/// Where the tensors travel: between GPUs of an NCCL group the outputs and labels stay on the
/// device and go by NCCL's point-to-point sends; otherwise (Gloo, on CPUs) through host memory.
/// The header always goes through host memory (the NCCL group's Gloo side): the receiver
/// reads the shape from it before it can allocate the tensors, wherever they are.
final class BlockPipeline {
    let placement: BlockPlacement
    let dataParallel: DataParallel
    let maxInFlight: Int
    /// The device this process's block trains on, where the tensors it receives are put.
    let device: Device
    private var group: ProcessGroup { dataParallel.group }
    /// Sends not yet known to be received, one list per step, oldest first.
    private var inFlight: [[Work]] = []
    /// Time this process spent waiting for its input, and bytes it sent up (both since the last reset).
    private(set) var receiveSeconds = 0.0
    private(set) var bytesSent = 0
    private var requestedStop = false

    static let stopKey = "blockwise/stop"
    private enum Tag: Int { case activations = 1, parts = 2 }

    init(placement: BlockPlacement, dataParallel: DataParallel, maxInFlight: Int, device: Device) {
        self.placement = placement
        self.dataParallel = dataParallel
        self.maxInFlight = maxInFlight
        self.device = device
    }

    /// Whether block outputs go from device to device (NCCL between GPUs) rather than through
    /// host memory: NCCL carries CUDA tensors only, and Gloo's point-to-point sends host memory only.
    static func sendsOnDevice(backend: ProcessGroup.Backend, device: Device) -> Bool {
        backend == .nccl && device.isCUDA
    }

    var sendsOnDevice: Bool { Self.sendsOnDevice(backend: group.backend, device: device) }

    /// Where the tensors of a step are sent from and received into.
    private func place(onDevice: Bool) -> Device { onDevice ? device : .cpu }

    /// One step's input to a block: the outputs of the block below (or the images, for the
    /// first), the labels, and where the data stands after this batch.
    struct Message {
        var step: Int
        var position: DataPosition
        var viewA: Tensor
        var viewB: Tensor
        var labels: Tensor
    }

    // MARK: Activations

    /// Sends step `step`'s outputs (detached) and labels up to the next block, without waiting
    /// unless `max_in_flight` steps are already on their way.
    func send(step: Int, position: DataPosition, _ a: Tensor, _ b: Tensor, labels: Tensor) throws {
        guard let above = placement.above else { return }
        let onDevice = sendsOnDevice
        let place = self.place(onDevice: onDevice)
        guard Header.dtypes.contains(a.dtype), a.shape.count == 4 else {
            throw DistributedError("block \(placement.block + 1) made an output of \(a.dtype) \(a.shape): the pipeline carries 4-d floating-point tensors")
        }
        // Outputs in channels-last order (`model.memory_format`) go as their memory lies,
        // [N, H, W, C], so that neither side reorders them.
        let channelsLast = !a.isContiguous() && a.isContiguous(.channelsLast)
        let header = Header(step: step, position: position, stop: false, dtype: a.dtype, onDevice: onDevice, channelsLast: channelsLast,
                            shape: a.shape).tensor
        let wire = { (t: Tensor) in channelsLast ? t.to(place).contiguous(.channelsLast).permute([0, 2, 3, 1]) : t.to(place).contiguous() }
        let (a, b, labels) = (wire(a), wire(b), labels.to(place, .int64).contiguous())
        let works = try dataParallel.exchange {
            try [header, a, b, labels].map { try group.send($0, to: above, tag: Tag.activations.rawValue) }
        }
        bytesSent += a.byteCount + b.byteCount + labels.byteCount + header.byteCount
        inFlight.append(works)
        while inFlight.count > maxInFlight { try waitOldest() }
    }

    /// Tells the blocks above to stop before step `step`: they write their part of the
    /// checkpoint with this one.
    func sendStop(step: Int, position: DataPosition) throws {
        guard let above = placement.above else { return }
        let header = Header(step: step, position: position, stop: true, dtype: .float32, onDevice: false, channelsLast: false,
                            shape: [1, 1, 1, 1]).tensor
        let work = try dataParallel.exchange { try group.send(header, to: above, tag: Tag.activations.rawValue) }
        inFlight.append([work])
        try drain()
    }

    /// The next step's input from the block below; nil when it says to stop.
    func receive() throws -> Message? {
        guard let below = placement.below else { throw DistributedError("the first block reads its input from the data") }
        let start = Date()
        defer { receiveSeconds += Date().timeIntervalSince(start) }
        let received = Tensor.zeros([Header.count], dtype: .int64)
        try dataParallel.exchange { try group.receive(into: received, from: below, tag: Tag.activations.rawValue).wait() }
        let fields = received.toArray(Int64.self).map(Int.init)
        guard let header = Header(fields) else {
            throw DistributedError("block \(placement.block + 1) received a damaged header from rank \(below): \(fields)")
        }
        if header.stop { return nil }
        guard header.onDevice == sendsOnDevice else {
            throw DistributedError("rank \(below) sends block \(placement.block) outputs " + (header.onDevice ? "on its GPU" : "through host memory")
                                   + ", but block \(placement.block + 1) trains on \(device) over \(group.backend.rawValue), which receives them "
                                   + (sendsOnDevice ? "on its GPU" : "in host memory") + ": every rank needs the same run.device kind")
        }
        let place = self.place(onDevice: header.onDevice)
        let shape = header.shape, memoryShape = header.channelsLast ? [shape[0], shape[2], shape[3], shape[1]] : shape
        let a = Tensor.empty(memoryShape, dtype: header.dtype, device: place), b = Tensor.empty(memoryShape, dtype: header.dtype, device: place)
        let labels = Tensor.empty([shape[0]], dtype: .int64, device: place)
        try dataParallel.exchange {
            let works = try [a, b, labels].map { try group.receive(into: $0, from: below, tag: Tag.activations.rawValue) }
            for work in works { try work.wait() }
        }
        let view = { (t: Tensor) in header.channelsLast ? t.permute([0, 3, 1, 2]) : t }
        return Message(step: header.step, position: header.position, viewA: view(a), viewB: view(b), labels: labels)
    }

    /// What precedes each step's tensors: the step, the data position after it, whether it
    /// asks to stop, and the outputs' dtype, place (device or host), memory order and shape
    /// [N, C, H, W], as int64s.
    struct Header: Equatable {
        var step: Int
        var position: DataPosition
        var stop: Bool
        var dtype: DType
        var onDevice: Bool
        /// The outputs go as [N, H, W, C], their channels-last memory.
        var channelsLast: Bool
        var shape: [Int]

        static let count = 11
        /// The dtypes of block outputs, by their code in a header.
        static let dtypes: [DType] = [.float32, .float64, .float16, .bfloat16]

        var tensor: Tensor {
            let fields = [step, position.epoch, position.index, stop ? 1 : 0, Self.dtypes.firstIndex(of: dtype) ?? -1, onDevice ? 1 : 0,
                          channelsLast ? 1 : 0] + shape
            return Tensor(fields.map(Int64.init))
        }

        /// Reads a header from its fields; nil when they are not one.
        init?(_ fields: [Int]) {
            guard fields.count == Self.count, Self.dtypes.indices.contains(fields[4]), (0...1).contains(fields[3]),
                  (0...1).contains(fields[5]), (0...1).contains(fields[6]), fields[7...].allSatisfy({ $0 > 0 }) else { return nil }
            self.init(step: fields[0], position: DataPosition(epoch: fields[1], index: fields[2]), stop: fields[3] == 1,
                      dtype: Self.dtypes[fields[4]], onDevice: fields[5] == 1, channelsLast: fields[6] == 1, shape: Array(fields[7...]))
        }

        init(step: Int, position: DataPosition, stop: Bool, dtype: DType, onDevice: Bool, channelsLast: Bool, shape: [Int]) {
            (self.step, self.position, self.stop, self.dtype, self.onDevice, self.channelsLast, self.shape) =
                (step, position, stop, dtype, onDevice, channelsLast, shape)
        }
    }

    /// Waits until every send has been received.
    func drain() throws {
        while !inFlight.isEmpty { try waitOldest() }
    }

    private func waitOldest() throws {
        let works = inFlight.removeFirst()
        try dataParallel.exchange { for work in works { try work.wait() } }
    }

    func resetCounters() {
        receiveSeconds = 0
        bytesSent = 0
    }

    // MARK: Stopping

    /// Asks the run to stop (a signal reached this process): the first block reads it before
    /// its next step and passes the stop up the pipeline, so every block stops at one step.
    func requestStop() throws {
        guard !requestedStop else { return }
        requestedStop = true
        try dataParallel.exchange { try group.setStoreValue("1", forKey: Self.stopKey) }
    }

    /// Whether any process asked to stop.
    func stopRequested() throws -> Bool {
        try dataParallel.exchange { try group.storeValue(forKey: Self.stopKey) } != nil
    }

    // MARK: Parts of the run directory

    /// A block's part of the run's state: tensors by name, and numbers as metadata.
    typealias Part = (tensors: [String: Tensor], metadata: [String: String])

    /// Rank 0 gets every block's part of the state: each block's first replica sends what
    /// `part` gives it (its block's weights, optimizer state, probe, noise), as one safetensors
    /// message; rank 0 returns them by block, its own first. The others return an empty list.
    func gatherParts(_ part: () throws -> (tensors: [(String, Tensor)], metadata: [String: String])) throws -> [Part] {
        let own = try part()
        if placement.writesItsBlock, placement.block > 0 {
            let bytes = try SafeTensors.encode(own.tensors, metadata: own.metadata)
            let length = Tensor([Int64(bytes.count)])
            let data = Tensor(bytes: bytes, shape: [bytes.count], dtype: .uint8)
            try dataParallel.exchange {
                for tensor in [length, data] { try group.send(tensor, to: 0, tag: Tag.parts.rawValue).wait() }
            }
        }
        guard dataParallel.launch.isLeader else { return [] }
        var parts: [Part] = [(Dictionary(own.tensors, uniquingKeysWith: { a, _ in a }), own.metadata)]
        for block in 1..<placement.blocks {
            let source = placement.rank(block: block, replica: 0)
            let length = Tensor.zeros([1], dtype: .int64)
            try dataParallel.exchange { try group.receive(into: length, from: source, tag: Tag.parts.rawValue).wait() }
            let data = Tensor.empty([Int(length.toArray(Int64.self)[0])], dtype: .uint8)
            try dataParallel.exchange { try group.receive(into: data, from: source, tag: Tag.parts.rawValue).wait() }
            let file = try SafeTensors.read(bytes: data.toArray(UInt8.self), name: "block \(block + 1)'s part from rank \(source)")
            parts.append((file.tensors, file.metadata))
        }
        return parts
    }

    // MARK: Sums over blocks

    /// The sum over every process of `values`, each holding its block's share; `replicaMean`
    /// marks the entries each replica of a block holds whole (a loss), which are then
    /// averaged over the replicas rather than summed.
    func sum(_ values: [Double], replicaMean: [Bool]) throws -> [Double] {
        let total = try dataParallel.sum(values)
        let replicas = Double(placement.replicas)
        return zip(total, replicaMean).map { $1 ? $0 / replicas : $0 }
    }

    /// Every block's loss from the processes that train them (the mean over a block's
    /// replicas), given this process's list, which holds its own block's.
    func blockLosses(_ local: [Double?]) throws -> [Double?] {
        let k = placement.block
        let values = local.indices.map { $0 == k ? local[$0] ?? 0 : 0 }
        let present = local.indices.map { $0 == k && local[$0] != nil ? 1.0 : 0 }
        let total = try sum(values + present, replicaMean: (values + present).map { _ in true })
        return local.indices.map { total[local.count + $0] > 0 ? total[$0] : nil }
    }

    /// Starts the same sum without waiting; `finish` of the result waits and returns it.
    func startSum(_ values: [Double], replicaMean: [Bool]) throws -> PendingSum {
        let tensor = Tensor(values)
        let work = try dataParallel.exchange { try group.allReduce([tensor]) }
        return PendingSum(work: work, tensor: tensor, replicaMean: replicaMean, replicas: placement.replicas)
    }

    struct PendingSum {
        let work: Work
        let tensor: Tensor
        let replicaMean: [Bool]
        let replicas: Int

        var isDone: Bool { work.isCompleted }

        func finish(_ pipeline: BlockPipeline) throws -> [Double] {
            try pipeline.dataParallel.exchange { try work.wait() }
            return zip(tensor.toArray(Double.self), replicaMean).map { $1 ? $0 / Double(replicas) : $0 }
        }
    }
}

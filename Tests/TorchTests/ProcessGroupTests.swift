import Foundation
import Testing
import Torch

/// A port on 127.0.0.1 that was free a moment ago.
func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Runs `body` as each rank of a group of `worldSize` ranks, one thread each, over `backend`
/// (Gloo unless said) on loopback; returns the ranks' results in rank order.
func onRanks<R: Sendable>(_ worldSize: Int, backend: ProcessGroup.Backend = .gloo, timeout: Double = 30,
                          _ body: @Sendable @escaping (ProcessGroup) throws -> R) throws -> [R] {
    let port = freePort()
    let results = ResultBox<R>(count: worldSize)
    // A thread per rank: a pool of fewer threads than ranks would leave one waiting forever.
    let done = DispatchGroup()
    for rank in 0..<worldSize {
        done.enter()
        Thread {
            results.set(rank, Result {
                let group = try ProcessGroup(host: "127.0.0.1", port: port, rank: rank, worldSize: worldSize, backend: backend,
                                             timeout: timeout)
                return try body(group)
            })
            done.leave()
        }.start()
    }
    done.wait()
    return try results.values.map { try $0!.get() }
}

final class ResultBox<R>: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var values: [Result<R, Error>?]
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ value: Result<R, Error>) { lock.withLock { values[index] = value } }
}

@Suite(.serialized) struct ProcessGroupTests {
    @Test func glooIsAvailable() {
        #expect(ProcessGroup.Backend.gloo.isAvailable)
    }

    @Test func allReduceSumsAveragesAndTakesTheMaximumOverRanks() throws {
        let results = try onRanks(2) { group -> [[Float]] in
            let r = Float(group.rank + 1)
            let sum = Tensor([r, 10 * r]), average = Tensor([r, 10 * r]), maximum = Tensor([r, -r])
            try group.allReduce([sum]).wait()
            try group.allReduce([average], op: .average).wait()
            try group.allReduce([maximum], op: .max).wait()
            return [sum.toArray(Float.self), average.toArray(Float.self), maximum.toArray(Float.self)]
        }
        for result in results {
            #expect(result == [[3, 30], [1.5, 15], [2, -1]])
        }
    }

    @Test func broadcastCopiesTheRootsTensors() throws {
        let results = try onRanks(3) { group -> [Float] in
            let t = Tensor([Float(group.rank), 7])
            try group.broadcast([t], root: 2).wait()
            return t.toArray(Float.self)
        }
        #expect(results == [[2, 7], [2, 7], [2, 7]])
    }

    @Test func allGatherCollectsEveryRanksTensorInRankOrder() throws {
        let results = try onRanks(3) { group -> [Float] in
            let outputs = (0..<3).map { _ in Tensor.zeros([2]) }
            try group.allGather(Tensor([Float(group.rank), Float(group.rank * 10)]), into: outputs).wait()
            return Tensor.cat(outputs, dim: 0).toArray(Float.self)
        }
        for result in results { #expect(result == [0, 0, 1, 10, 2, 20]) }
    }

    @Test func sendAndReceivePairByTag() throws {
        let results = try onRanks(2) { group -> [Float] in
            if group.rank == 0 {
                let a = try group.send(Tensor([Float(1), 2]), to: 1, tag: 5)
                let b = try group.send(Tensor([Float(3)]), to: 1, tag: 6)
                try a.wait()
                try b.wait()
                try group.barrier().wait()
                return []
            }
            let second = Tensor.zeros([1]), first = Tensor.zeros([2])
            let b = try group.receive(into: second, from: 0, tag: 6)
            let a = try group.receive(into: first, from: 0, tag: 5)
            try a.wait()
            try b.wait()
            try group.barrier().wait()
            return first.toArray(Float.self) + second.toArray(Float.self)
        }
        #expect(results[1] == [1, 2, 3])
    }

    @Test func theDifferentiableSumPassesOnTheSumOfEveryRanksGradient() throws {
        // Rank r's loss is Σ w_r · Σ_ranks x: the gradient of x_r is Σ_ranks w.
        let results = try onRanks(2) { group -> ([Float], [Float]) in
            let x = Tensor([Float(group.rank + 1), 2]).requiresGrad_()
            let w = Tensor([Float(group.rank + 1) * 10, 1])
            let y = try group.sum(x)
            (y * w).sum().backward()
            return (y.toArray(Float.self), x.grad!.toArray(Float.self))
        }
        for (value, gradient) in results {
            #expect(value == [3, 4])
            #expect(gradient == [30, 2])
        }
    }

    @Test func theDifferentiableGatherPassesEachRankItsRowsOfTheSummedGradient() throws {
        let results = try onRanks(2) { group -> ([Float], [Float]) in
            let x = Tensor([Float(group.rank), Float(group.rank)], shape: [2, 1]).requiresGrad_()
            let weights = Tensor([Float(1), 2, 3, 4], shape: [4, 1]) * Double(group.rank + 1)
            let y = try group.gather(x)
            (y * weights).sum().backward()
            return (y.flatten().toArray(Float.self), x.grad!.flatten().toArray(Float.self))
        }
        #expect(results[0].0 == [0, 0, 1, 1] && results[1].0 == [0, 0, 1, 1])
        // Summed over ranks the weights are 3·[1, 2, 3, 4]: rank 0 gets rows 0–1, rank 1 rows 2–3.
        #expect(results[0].1 == [3, 6])
        #expect(results[1].1 == [9, 12])
    }

    @Test func aRankOutsideTheWorldIsAThrownError() {
        let error = #expect(throws: TorchError.self) {
            try ProcessGroup(host: "127.0.0.1", port: freePort(), rank: 2, worldSize: 2, timeout: 1)
        }
        #expect(error?.message.contains("rank 2") == true)
    }

    @Test func aMissingRendezvousTimesOut() {
        let start = Date()
        #expect(throws: TorchError.self) {
            try ProcessGroup(host: "127.0.0.1", port: freePort(), rank: 1, worldSize: 2, timeout: 1)
        }
        #expect(Date().timeIntervalSince(start) < 20)
    }

    @Test func aCollectiveFailsWhenAPeerLeaves() throws {
        let results = try onRanks(2, timeout: 30) { group -> Bool in
            // Both ranks first finish joining: a peer that leaves while the other is still
            // connecting (likelier on a loaded machine) fails the join, not the collective.
            try group.barrier().wait()
            guard group.rank == 0 else { return true }
            return (try? group.allReduce([Tensor([Float(1)])]).wait()) == nil
        }
        #expect(results == [true, true])
    }

    @Test func aCollectiveAPeerDoesNotJoinFailsWithinTheTimeout() throws {
        let rankZeroDone = DispatchSemaphore(value: 0)
        let results = try onRanks(2, timeout: 4) { group -> Double in
            guard group.rank == 0 else {
                // Present but silent until rank 0 has given up.
                _ = rankZeroDone.wait(timeout: .now() + 30)
                return 0
            }
            defer { rankZeroDone.signal() }
            let start = Date()
            #expect(throws: TorchError.self) { try group.allReduce([Tensor([Float(1)])]).wait() }
            return Date().timeIntervalSince(start)
        }
        #expect(results[0] >= 3 && results[0] < 15)
    }
}

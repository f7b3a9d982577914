import Foundation
import Testing
import Torch

/// NCCL groups: what a CUDA build without a GPU can check here, and the collectives on GPUs
/// where there are some (one rank per GPU, one thread per rank), CPU tensors among them.
@Suite(.serialized) struct NCCLProcessGroupTests {
    static var gpus: Int { ProcessGroup.Backend.nccl.isAvailable ? Runtime.cudaDeviceCount : 0 }

    @Test func aCUDABuildHasNCCLAndACPUBuildDoesNot() {
        #expect(ProcessGroup.Backend.nccl.isAvailable == (Runtime.cudaLibrary != nil))
    }

    @Test(.enabled(if: Runtime.cudaDeviceCount == 0))
    func anNCCLGroupWithoutACUDADeviceIsAThrownErrorBeforeTheRendezvous() {
        let expected = ProcessGroup.Backend.nccl.isAvailable ? "needs a CUDA device" : "no NCCL process group"
        let start = Date()
        // Rank 0 of two: had it reached the rendezvous it would wait the whole timeout for rank 1.
        let error = #expect(throws: TorchError.self) {
            try ProcessGroup(host: "127.0.0.1", port: freePort(), rank: 0, worldSize: 2, backend: .nccl, timeout: 20)
        }
        #expect(error?.message.contains(expected) == true, "\(error?.message ?? "no error")")
        #expect(Date().timeIntervalSince(start) < 10)
    }

    @Test(.enabled(if: gpus >= 1))
    func oneRankRunsEveryCollectiveOnItsGPU() throws {
        let device = Device.cuda(0)
        let results = try onRanks(1, backend: .nccl) { group -> [[Float]] in
            let sum = Tensor([Float(1), 2]).to(device), average = Tensor([Float(4), 6]).to(device)
            try group.allReduce([sum]).wait()
            try group.allReduce([average], op: .average).wait()
            let broadcast = Tensor([Float(5)]).to(device)
            try group.broadcast([broadcast], root: 0).wait()
            let gathered = [Tensor.zeros([2], device: device)]
            try group.allGather(Tensor([Float(7), 8]).to(device), into: gathered).wait()
            try group.barrier().wait()
            let sub = try group.subgroup(named: "only", rank: 0, size: 1)
            let inSubgroup = Tensor([Float(9)]).to(device)
            try sub.allReduce([inSubgroup]).wait()
            let differentiable = try group.sum(Tensor([Float(3)]).to(device))
            // CPU tensors take the group's Gloo companion; one operation takes one kind.
            let onHost = Tensor([Float(2)])
            try group.allReduce([onHost]).wait()
            #expect(throws: TorchError.self) { try group.allReduce([Tensor([Float(1)]), Tensor([Float(1)]).to(device)]) }
            return [sum, average, broadcast, gathered[0], inSubgroup, differentiable, onHost].map { $0.to(.cpu).toArray(Float.self) }
        }
        #expect(results[0] == [[1, 2], [4, 6], [5], [7, 8], [9], [3], [2]])
    }

    @Test(.enabled(if: gpus >= 2))
    func twoRanksOnTwoGPUsReduceGatherAndSendToEachOther() throws {
        let results = try onRanks(2, backend: .nccl) { group -> [[Float]] in
            let device = Device.cuda(group.rank)
            let r = Float(group.rank + 1)
            let sum = Tensor([r, 10 * r]).to(device)
            try group.allReduce([sum]).wait()
            let gathered = (0..<2).map { _ in Tensor.zeros([1], device: device) }
            try group.allGather(Tensor([r]).to(device), into: gathered).wait()
            let received = Tensor.zeros([1], device: device), header = Tensor.zeros([1], dtype: .int64)
            if group.rank == 0 {
                try group.send(Tensor([Int64(7)]), to: 1).wait()
                try group.send(Tensor([Float(42)]).to(device), to: 1).wait()
            } else {
                try group.receive(into: header, from: 0).wait()
                try group.receive(into: received, from: 0).wait()
            }
            #expect(header.toArray(Int64.self) == [group.rank == 0 ? 0 : 7])
            let sub = try group.subgroup(named: "pair", rank: group.rank, size: 2)
            let subSum = Tensor([r]).to(device)
            try sub.allReduce([subSum]).wait()
            return [sum, Tensor.cat(gathered, dim: 0), received, subSum].map { $0.to(.cpu).toArray(Float.self) }
        }
        #expect(results[0] == [[3, 30], [1, 2], [0], [3]])
        #expect(results[1] == [[3, 30], [1, 2], [42], [3]])
    }
}

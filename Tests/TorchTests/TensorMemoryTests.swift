import Testing
import Torch

/// CPU tensor memory is counted exactly: each measurement runs in its own process (an exit
/// test), so tensors of tests running in parallel cannot move the counts.
@Suite struct TensorMemoryTests {
    @Test func aCPUTensorIsCountedWhileItLivesAndThePeakRemembersIt() async {
        await #expect(processExitsWith: .success) {
            try TensorMemory.countCPU()
            let before = try TensorMemory.of(.cpu)
            let bytes = 64 << 20
            var tensor: Tensor? = Tensor.zeros([bytes / 4])
            let holding = try TensorMemory.of(.cpu)
            precondition(holding.allocatedBytes - before.allocatedBytes == bytes, "\(holding) after \(before)")
            tensor = nil
            _ = tensor
            let freed = try TensorMemory.of(.cpu)
            precondition(freed.allocatedBytes == before.allocatedBytes, "\(freed) after \(before)")
            precondition(freed.peakAllocatedBytes >= before.allocatedBytes + bytes)
            try TensorMemory.resetPeak(.cpu)
            let reset = try TensorMemory.of(.cpu)
            precondition(reset.peakAllocatedBytes == freed.allocatedBytes, "\(reset)")
        }
    }

    /// What autograd keeps for the backward pass is counted, and given back after it.
    @Test func aGraphsSavedTensorsAreCountedUntilTheBackwardPass() async {
        await #expect(processExitsWith: .success) {
            let generator = Generator(seed: 1)
            let weight = Tensor.randn([64, 64], generator: generator).requiresGrad_()
            let input = Tensor.randn([4096, 64], generator: generator)
            try TensorMemory.countCPU()
            let before = try TensorMemory.of(.cpu)
            // relu keeps its 1 MB output for the backward pass; the product is freed at once.
            let loss = input.matmul(weight).relu().sum()
            let kept = try TensorMemory.of(.cpu).allocatedBytes - before.allocatedBytes
            precondition(kept >= 4096 * 64 * 4 && kept < 2 * 4096 * 64 * 4 + 4096, "kept \(kept) bytes")
            loss.backward()
            let after = try TensorMemory.of(.cpu).allocatedBytes - before.allocatedBytes
            // The gradient of the weight stays; the graph is gone.
            precondition(after >= 64 * 64 * 4 && after < 4096 * 64 * 4, "\(after) bytes after backward")
            let peak = try TensorMemory.of(.cpu).peakAllocatedBytes - before.allocatedBytes
            precondition(peak >= 2 * 4096 * 64 * 4, "peak \(peak) bytes")
        }
    }

    /// Tensors made before counting began free as they always did, uncounted.
    @Test func tensorsFromBeforeCountingFreeWithoutBeingCounted() async {
        await #expect(processExitsWith: .success) {
            var old: Tensor? = Tensor.ones([1 << 20])
            try TensorMemory.countCPU()
            let before = try TensorMemory.of(.cpu)
            old = nil
            _ = old
            let afterFree = try TensorMemory.of(.cpu)
            precondition(afterFree == before, "\(afterFree) after \(before)")
            // Later counting calls change nothing.
            try TensorMemory.countCPU()
            let again = try TensorMemory.of(.cpu)
            precondition(again == before, "\(again) after \(before)")
        }
    }

    @Test func theCPUCountsBeforeCountingBeganAreAnErrorSayingSo() async {
        await #expect(processExitsWith: .success) {
            do {
                _ = try TensorMemory.of(.cpu)
                preconditionFailure("no error")
            } catch let error as TorchError {
                precondition(error.message.contains("not being counted"), error.message)
            }
        }
    }
}

import Testing
import Torch

@Suite struct CUDAMemoryTests {
    @Test func theCPUHasNoAllocatorStatistics() {
        #expect(throws: TorchError.self) { try CUDAMemory.of(.cpu) }
    }

    @Test(.enabled(if: Runtime.cudaDeviceCount == 0))
    func aMissingCUDADeviceIsAThrownErrorSayingWhy() {
        let error = #expect(throws: TorchError.self) { try CUDAMemory.of(.cuda(0)) }
        let expected = Runtime.cudaLibrary == nil ? "CPU build" : "does not exist"
        #expect(error?.message.contains(expected) == true, "\(error?.message ?? "no error")")
    }

    @Test(.enabled(if: Runtime.cudaDeviceCount > 0))
    func thePeakCountsATensorAfterItIsFreedUntilReset() throws {
        let device = Device.cuda(0)
        Runtime.synchronize(device)
        try CUDAMemory.resetPeak(device)
        let before = try CUDAMemory.of(device)
        let bytes = 64 << 20
        var tensor: Tensor? = Tensor.zeros([bytes / 4], device: device)
        Runtime.synchronize(device)
        let holding = try CUDAMemory.of(device)
        #expect(holding.allocatedBytes >= before.allocatedBytes + bytes)
        #expect(holding.reservedBytes >= holding.allocatedBytes)
        tensor = nil
        _ = tensor
        let freed = try CUDAMemory.of(device)
        #expect(freed.allocatedBytes == before.allocatedBytes)
        #expect(freed.peakAllocatedBytes >= before.allocatedBytes + bytes)
        try CUDAMemory.resetPeak(device)
        #expect(try CUDAMemory.of(device).peakAllocatedBytes < before.allocatedBytes + bytes)
    }
}

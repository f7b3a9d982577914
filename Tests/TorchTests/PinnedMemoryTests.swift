import Testing
import Torch

@Suite struct PinnedMemoryTests {
    @Test(.enabled(if: Runtime.cudaDeviceCount == 0))
    func pinningWithoutACUDADeviceIsAThrownError() {
        #expect(throws: TorchError.self) { try withTorchErrors { _ = Tensor.ones([4]).pinnedMemory() } }
    }

    /// A pinned batch goes to the GPU without blocking and arrives whole.
    @Test(.enabled(if: Runtime.cudaDeviceCount > 0))
    func aPinnedCopyHoldsTheSameValuesAndReachesTheDevice() throws {
        let bytes = Tensor.randint(0, 256, [2, 3, 8, 8], generator: Generator(seed: 1)).to(.uint8)
        let pinned = bytes.pinnedMemory()
        #expect(pinned.equal(bytes))
        let device = Device.cuda(0)
        let moved = pinned.to(device, nil, nonBlocking: true)
        Runtime.synchronize(device)
        #expect(moved.to(.cpu).equal(bytes))
    }
}

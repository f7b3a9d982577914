import Testing
import Torch

/// Outside `withTorchErrors` a libtorch failure is a programmer error: the process prints
/// libtorch's message and exits with status 1, without a crash report or a C++ backtrace.
@Suite struct TorchErrorExitTests {
    @Test func aShapeErrorOutsideAScopeExitsWithLibtorchsMessage() async throws {
        let result = try #require(await #expect(processExitsWith: .exitCode(1), observing: [\.standardErrorContent]) {
            _ = Tensor.ones([3, 4]).matmul(Tensor.ones([3, 4]))
        })
        let stderr = String(decoding: result.standardErrorContent, as: UTF8.self)
        #expect(stderr.contains("error: libtorch: mat1 and mat2 shapes cannot be multiplied (3x4 and 3x4)"))
        #expect(!stderr.contains("Fatal error"))
        #expect(!stderr.contains("Stack dump"))
        #expect(!stderr.contains("Exception raised from"))
        #expect(!stderr.contains("frame #"))
    }
}

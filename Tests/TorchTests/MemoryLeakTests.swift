import Testing
import Torch

/// Tensors, graphs, gradients and error messages are all given back: resident memory stays
/// flat over 10,000 iterations of small operations. Each measurement runs in its own process
/// (an exit test), so tests running in parallel cannot move the numbers.
@Suite(.serialized) struct MemoryLeakTests {
    static let iterations = 10_000
    static let allowedGrowth = 3 << 20

    /// One iteration of everyday work: creation, arithmetic, autograd, reading values, an error.
    static func smallOperations(_ generator: Generator) {
        let a = Tensor.randn([16, 16], generator: generator)
        let b = Tensor.ones([16, 16]) * 2 + a / 3
        let x = a.detach().requiresGrad_()
        let loss = (x * b).relu().mean()
        loss.backward()
        _ = x.grad?.toArray(Float.self)
        x.grad = nil
        _ = loss.item()
        _ = b.chunk(2)[1].shape
        _ = gradients(of: [(x * x).sum()], withRespectTo: [x])
        _ = try? withTorchErrors { _ = a.view([7]) }
    }

    /// Measures growth across `iterations` runs of `body` after a warm-up, and reports it.
    static func measure(_ body: () -> Void) {
        for _ in 0..<1_000 { body() }
        let before = residentBytes()
        for _ in 0..<iterations { body() }
        let after = residentBytes()
        writeStandardError("before=\(before)\nafter=\(after)\ngrowth=\(after - before)\n")
    }

    @Test func residentMemoryStaysFlatOverTenThousandIterations() async throws {
        let result = try #require(await #expect(processExitsWith: .success, observing: [\.standardErrorContent]) {
            let generator = Generator(seed: 3)
            MemoryLeakTests.measure { MemoryLeakTests.smallOperations(generator) }
        })
        let growth = try #require(reportedGrowth(result.standardErrorContent))
        #expect(growth < Self.allowedGrowth, "resident memory grew by \(growth) bytes")
    }

    @Test func theMeasurementSeesTensorsThatAreKeptAlive() async throws {
        // The probe must not be blind: keeping every tensor (1 KiB of data each) grows memory by > 10 MB.
        let result = try #require(await #expect(processExitsWith: .success, observing: [\.standardErrorContent]) {
            var kept: [Tensor] = []
            kept.reserveCapacity(12_000)
            MemoryLeakTests.measure { kept.append(Tensor.ones([16, 16]) * 2) }
            withExtendedLifetime(kept) {}
        })
        let growth = try #require(reportedGrowth(result.standardErrorContent))
        #expect(growth > 10 << 20, "keeping 10,000 tensors grew memory by only \(growth) bytes")
    }
}

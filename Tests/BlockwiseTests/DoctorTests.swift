import Testing
import Torch
@testable import Blockwise

@Suite struct DoctorTests {
    @Test func warnsWhenMatrixProductsRunAtReferenceBLASSpeed() {
        // Measured here: 4.8 GFLOP/s on 2 cores without OpenBLAS, 161 with it.
        let warning = DoctorReport.blasWarning(gflops: 4.8, threads: 2)
        #expect(warning?.contains("libopenblas0-pthread") == true)
        #expect(DoctorReport.blasWarning(gflops: 161, threads: 2) == nil)
    }

    @Test func measuresAPlausibleMatrixProductSpeed() {
        let gflops = DoctorReport.measureMatmulGFLOPS(size: 256, repeats: 2)
        #expect(gflops > 0.1 && gflops < 100_000)
    }

    @Test func theBinaryKeepsFreedMemoryUnlessTheEnvironmentAsksForTheSystemDefaults() throws {
        let binary = try blockwiseExecutable()
        let byDefault = try runToEnd(binary, ["doctor"], environment: [HostAllocator.environmentVariable: ""])
        let system = try runToEnd(binary, ["doctor"], environment: [HostAllocator.environmentVariable: "system"])
        let unknown = try runToEnd(binary, ["doctor"], environment: [HostAllocator.environmentVariable: "jemalloc"])
        #expect(byDefault.status == 0 && system.status == 0 && unknown.status == 0)
        #expect(byDefault.output.contains("malloc        retain"))
        #expect(system.output.contains("malloc        system"))
        #expect(unknown.output.contains("malloc        retain") && unknown.output.contains("BLOCKWISE_MALLOC=jemalloc is neither"))
    }
}

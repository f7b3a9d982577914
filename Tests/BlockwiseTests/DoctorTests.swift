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

    /// This machine's Xeon lists amx_bf16 and avx512_bf16; older CPUs list neither.
    @Test func namesTheCPUsBFloat16UnitsFromItsFlags() {
        #expect(DoctorReport.bfloat16Units(cpuFlags: ["avx2", "avx512f"]) == nil)
        #expect(DoctorReport.bfloat16Units(cpuFlags: ["avx512f", "avx512_bf16"]) == "AVX-512 BF16 (avx512_bf16)")
        #expect(DoctorReport.bfloat16Units(cpuFlags: ["amx_tile", "amx_bf16", "avx512_bf16"]) == "AMX (amx_bf16), AVX-512 BF16 (avx512_bf16)")
    }

    @Test func warnsWhenBFloat16IsSlowerThanFloat32() {
        let emulated = DoctorReport.bfloat16Warning(units: nil, gflops: (float32: 180, bfloat16: 40))
        #expect(emulated?.contains("0.22×") == true && emulated?.contains("no bf16 units") == true, "\(emulated ?? "none")")
        #expect(DoctorReport.bfloat16Warning(units: "AMX (amx_bf16)", gflops: (float32: 182, bfloat16: 569)) == nil)
    }

    @Test func measuresAConvolutionInBothPrecisions() {
        for dtype in [DType.float32, .bfloat16] {
            let gflops = DoctorReport.measureConvolutionGFLOPS(dtype, repeats: 1)
            #expect(gflops > 0.1 && gflops < 100_000, "\(dtype): \(gflops)")
        }
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

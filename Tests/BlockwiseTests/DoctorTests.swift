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
}

import ArgumentParser
import Blockwise
import Foundation
import Torch

struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Report libtorch, threads, BLAS speed, CUDA devices and installed datasets.")

    func run() throws {
        let r = DoctorReport.gather()
        print("libtorch      \(r.torchVersion) (\(r.libraryDirectory))")
        print("flavour       \(r.cudaLibrary == nil ? "CPU" : "CUDA (\(r.cudaLibrary!))")")
        print("threads       \(r.threads) intra-op (the bridge's kernels ran on \(r.bridgeThreads)), \(r.cores) cores")
        print("BLAS          \(r.blasLibrary ?? "linked into libtorch")\(r.blasBuildInfo.map { " [build: \($0)]" } ?? "")")
        if let pool = r.openBLASPool {
            print("BLAS threads  \(pool.threads), OpenBLAS's own (pthreads); idle workers spin 2^\(pool.spinExponent) cycles")
        }
        print(String(format: "matmul        %.1f GFLOP/s (1024x1024 float32)", r.matmulGFLOPS))
        print(String(format: "bf16          %@; a 3x3 convolution runs at %.0f GFLOP/s in bf16, %.0f in float32 (%.2f×)",
                     r.bfloat16Units.map { "units: \($0)" } ?? "no bf16 units (emulated)",
                     r.convolutionGFLOPS.bfloat16, r.convolutionGFLOPS.float32,
                     r.convolutionGFLOPS.bfloat16 / r.convolutionGFLOPS.float32))
        print("CUDA devices  \(r.cudaDevices)")
        switch r.hostAllocator {
        case .retain: print("malloc        retain: freed memory kept for the next step (\(HostAllocator.environmentVariable)=system for glibc's defaults)")
        case .system: print("malloc        system: glibc's defaults, large blocks mapped and unmapped every step")
        }
        let missing = ProcessGroup.Backend.allCases.filter { !r.distributedBackends.contains($0) }
        let idle = r.distributedBackends.contains(.nccl) && r.cudaDevices == 0 ? " (nccl needs a CUDA device: none here)" : ""
        print("distributed   \(r.distributedBackends.map(\.rawValue).joined(separator: ", "))"
              + (missing.isEmpty ? "" : " (not in this build: \(missing.map(\.rawValue).joined(separator: ", ")))") + idle)
        for d in r.datasets {
            print("dataset       \(d.name.padding(toLength: 14, withPad: " ", startingAt: 0))"
                  + (d.installed ? "\(d.path)" : "not found at \(d.path) (\(d.hint))"))
        }
        for w in r.warnings { print("warning: \(w)") }
    }
}

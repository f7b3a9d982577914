import Foundation
import Testing
import Torch

/// The bridge's own kernels (fused heads, noise, lean backward) split their work over libtorch's
/// intra-op threads. at::parallel_for, a header template, had run them on the calling thread
/// alone: its threads come from `#pragma omp parallel`, and the bridge is compiled without OpenMP.
@Suite struct BridgeParallelTests {
    /// Thread counts are the process's, so this runs in a process of its own.
    @Test func theBridgesLoopRunsOnAsManyThreadsAsLibtorchHas() async {
        await #expect(processExitsWith: .success) {
            for threads in [1, 2, 3] {
                Runtime.threads = threads
                let ran = Runtime.bridgeKernelThreads(tasks: 64)
                precondition(ran == threads, "\(threads) intra-op threads, the bridge's loop ran on \(ran)")
            }
            // No more threads than tasks.
            Runtime.threads = 3
            precondition(Runtime.bridgeKernelThreads(tasks: 2) == 2)
            precondition(Runtime.bridgeKernelThreads(tasks: 1) == 1)
        }
    }

    /// Where products run on OpenBLAS's own pool (Debian's libtorch), it has as many threads as
    /// libtorch, not one per core whatever the ranks sharing the machine, and its idle workers
    /// spin 2^20 cycles rather than 2^28 (OPENBLAS_THREAD_TIMEOUT unset); products still run,
    /// on the workers OpenBLAS starts again. With another BLAS there is no pool to set.
    @Test func openBLASsPoolFollowsLibtorchsThreadsAndSpinsBriefly() async {
        await #expect(processExitsWith: .success) {
            let pool = Runtime.openBLASPool
            // /proc files report size 0: read to the end.
            let maps = FileHandle(forReadingAtPath: "/proc/self/maps").map { String(decoding: $0.readDataToEndOfFile(), as: UTF8.self) } ?? ""
            guard maps.contains("openblas-pthread/") else {
                precondition(pool == nil, "a pool of OpenBLAS's own, but no pthreads OpenBLAS mapped")
                return
            }
            precondition(pool != nil, "OpenBLAS built with pthreads is mapped, but its pool was not found")
            precondition(pool!.spinExponent == 20, "OpenBLAS's workers spin 2^\(pool!.spinExponent) cycles")
            let a = Tensor.randn([256, 256], generator: Generator(seed: 1))
            let single = a.matmul(a)
            for threads in [1, 2, 3] {
                Runtime.threads = threads
                let now = Runtime.openBLASPool?.threads
                precondition(now == threads, "\(threads) intra-op threads, OpenBLAS has \(now.map(String.init) ?? "none")")
                // Not bit for bit: OpenBLAS splits a product differently on other thread counts.
                precondition(a.matmul(a).allClose(single, rtol: 1e-5, atol: 1e-4), "a product on \(threads) threads differs")
            }
        }
    }
}

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
}

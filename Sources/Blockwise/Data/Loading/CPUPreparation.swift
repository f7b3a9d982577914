import Foundation
import Torch

/// How the preparing stage of a loader shares a CPU with the decoding workers and the training
/// step when its views are made on the CPU.
enum CPUPreparation {
    /// Makes libtorch's CPU ops on the calling thread run on that thread alone, leaving every
    /// other thread's count as it was. libtorch's OpenMP threads spin while they wait for the
    /// next op: beside the decoding workers and the training step's own team, a second team
    /// spinning on the same cores took 70% of the machine in `blockwise bench --data`, and made
    /// the views 4× slower. OpenMP's thread count is a per-thread setting, which ATen reads at
    /// every op, so it can be lowered for this thread only.
    static func confineOpsToThisThread() {
        // ATen gives a thread the global count the first time the thread asks for it; ask
        // first, so that this does not undo the setting below.
        _ = Runtime.threads
        setOpenMPThreads?(1)
    }

    /// `omp_set_num_threads` of the OpenMP runtime libtorch loaded, when it uses one.
    private static let setOpenMPThreads: (@convention(c) (Int32) -> Void)? = {
        guard let symbol = dlsym(nil, "omp_set_num_threads") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32) -> Void).self)
    }()
}

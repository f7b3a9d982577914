import Foundation
import Synchronization
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

    /// `first` on the calling thread and `second` on a thread started for it, each with its
    /// libtorch ops confined to its thread; returns both. The two views of a batch are
    /// independent, and on the CPU their colour steps set the loader's pace (the decoding
    /// workers need far less): on 2 cores, one thread per view took the stage from 107 to
    /// 141–164 images/s. A thread of its own rather than a shared worker pool's, whose threads
    /// would stay confined.
    static func onTwoThreads<A, B: Sendable>(_ first: () -> A, _ second: @escaping @Sendable () -> B) -> (A, B) {
        let result = Mutex<B?>(nil)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            confineOpsToThisThread()
            let value = second()
            result.withLock { $0 = value }
            done.signal()
        }
        thread.start()
        let value = first()
        done.wait()
        return (value, result.withLock { $0! })
    }

    /// `omp_set_num_threads` of the OpenMP runtime libtorch loaded, when it uses one.
    private static let setOpenMPThreads: (@convention(c) (Int32) -> Void)? = {
        guard let symbol = dlsym(nil, "omp_set_num_threads") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32) -> Void).self)
    }()
}

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

    /// `first` on the calling thread and `second` on the helper thread, each with its libtorch
    /// ops confined to its thread; returns both. The two views of a batch are independent, and
    /// on the CPU their colour steps set the loader's pace (the decoding workers need far less):
    /// on 2 cores, one thread per view took the stage from 107 to 141–164 images/s. `second`
    /// must not call this itself: it would wait for the helper it runs on.
    static func onTwoThreads<A, B: Sendable>(_ first: () -> A, _ second: @escaping @Sendable () -> B) -> (A, B) {
        let result = Mutex<B?>(nil)
        let done = DispatchSemaphore(value: 0)
        helper.run {
            let value = second()
            result.withLock { $0 = value }
            done.signal()
        }
        let value = first()
        done.wait()
        return (value, result.withLock { $0! })
    }

    /// One thread, started once and kept, whose libtorch ops are confined to it. Not a shared
    /// worker pool's thread, which would stay confined; and not a thread per batch: ATen gives
    /// each new thread the global thread count, which makes libtorch re-create its pthreadpool,
    /// whose fresh worker spins for a while. A thread per batch spent 9% of the CPU of
    /// `blockwise bench --data` so.
    private static let helper = HelperThread()

    private final class HelperThread: Sendable {
        private let jobs = Mutex<[@Sendable () -> Void]>([])
        private let queued = DispatchSemaphore(value: 0)

        init() {
            let thread = Thread { [self] in
                confineOpsToThisThread()
                while true {
                    queued.wait()
                    jobs.withLock { $0.removeFirst() }()
                }
            }
            thread.name = "blockwise-views"
            thread.start()
        }

        /// Runs `job` after those queued before it.
        func run(_ job: @escaping @Sendable () -> Void) {
            jobs.withLock { $0.append(job) }
            queued.signal()
        }
    }

    /// `omp_set_num_threads` of the OpenMP runtime libtorch loaded, when it uses one.
    private static let setOpenMPThreads: (@convention(c) (Int32) -> Void)? = {
        guard let symbol = dlsym(nil, "omp_set_num_threads") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32) -> Void).self)
    }()
}

import Dispatch
import Foundation
import Synchronization
import Testing
import Torch
@testable import Blockwise

/// The CPU's preparing stage makes a batch's two views on two threads: the caller's and one
/// helper thread, started once, whose libtorch ops are confined to it.
@Suite struct CPUPreparationTests {
    @Test func theSecondJobRunsOnTheHelperThreadAndBothResultsComeBack() {
        let (first, second) = CPUPreparation.onTwoThreads({ (pthread_self(), 3) }, { (pthread_self(), 4) })
        #expect(first.1 == 3 && second.1 == 4)
        #expect(pthread_equal(first.0, pthread_self()) != 0)
        #expect(pthread_equal(second.0, pthread_self()) == 0)
        // The same helper every time, not a thread per call.
        let again = CPUPreparation.onTwoThreads({ () }, { pthread_self() }).1
        #expect(pthread_equal(again, second.0) != 0)
    }

    /// Two loaders preparing at once queue their jobs on the one helper; each gets its own result.
    @Test func callersAtOnceEachGetTheirOwnResults() {
        let results = Mutex([Int: Int]())
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            let (a, b) = CPUPreparation.onTwoThreads({ i }, { i * 10 })
            results.withLock { $0[a] = b }
        }
        #expect(results.withLock { $0 } == Dictionary(uniqueKeysWithValues: (0..<8).map { ($0, $0 * 10) }))
    }

    /// The reason for the helper: libtorch's ops on it run on it alone, while the process keeps
    /// its thread count elsewhere.
    @Test func theHelpersLibtorchOpsRunOnOneThread() {
        let everywhere = Runtime.threads
        let onHelper = CPUPreparation.onTwoThreads({ () }, { Runtime.threads }).1
        #expect(onHelper == 1)
        #expect(Runtime.threads == everywhere)
    }
}

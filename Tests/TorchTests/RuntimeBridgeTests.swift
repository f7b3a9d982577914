import CTorch
import Dispatch
import Foundation
import Testing
import Torch

/// The runtime functions of the bridge: strings that any thread may read, and failures that
/// reach Swift through the same guard as every tensor operation.
@Suite struct RuntimeBridgeTests {
    @Test func theVersionReadsTheSameFromManyThreadsAtOnce() {
        let reads = readConcurrently {
            let pointer = ct_version()
            return "\(String(cString: pointer!)) at \(pointer!)"
        }
        #expect(Set(reads).count == 1, "\(Set(reads))")
        #expect(reads.first?.hasPrefix(Runtime.version + " at ") == true)
        #expect(Runtime.version.split(separator: ".").count >= 2)
    }

    @Test func startUpFactsReadTheSameFromManyThreadsAtOnce() {
        let reads = readConcurrently {
            [Runtime.libraryDirectory, Runtime.buildConfiguration, Runtime.cudaLibrary ?? "no CUDA"]
        }
        #expect(Set(reads).count == 1)
        #expect(reads.first?.allSatisfy { !$0.isEmpty } == true)
    }

    @Test func anInvalidThreadCountIsAThrownErrorAndChangesNothing() throws {
        let before = Runtime.threads
        let error = try #require(throws: TorchError.self) { try withTorchErrors { Runtime.threads = 0 } }
        #expect(error.message.contains("Expected positive number of threads"))
        #expect(!error.message.contains("Exception raised from"))
        #expect(Runtime.threads == before)
    }

    @Test func timingNoAdditionsIsAThrownError() throws {
        let error = try #require(throws: TorchError.self) {
            try withTorchErrors { _ = Runtime.nativeAddSeconds(iterations: 0) }
        }
        #expect(error.message == "bench_native_add needs at least one iteration")
        #expect(try withTorchErrors { Runtime.nativeAddSeconds(iterations: 10) } > 0)
    }

    @Test func runtimeQueriesThatSucceedLeaveTheScopeWithoutError() throws {
        let (devices, threads) = try withTorchErrors { (Runtime.cudaDeviceCount, Runtime.threads) }
        #expect(devices >= 0)
        #expect(threads >= 1)
    }
}

/// Runs `read` on many threads at once, several times each, and returns every result.
private func readConcurrently<T: Sendable>(_ read: @Sendable () -> T) -> [T] {
    let results = Results<T>()
    DispatchQueue.concurrentPerform(iterations: 64) { _ in
        for _ in 0..<16 { results.append(read()) }
    }
    return results.items
}

/// Results gathered from many threads; the lock orders the appends.
private final class Results<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [T] = []

    func append(_ value: T) { lock.lock(); stored.append(value); lock.unlock() }
    var items: [T] { lock.lock(); defer { lock.unlock() }; return stored }
}

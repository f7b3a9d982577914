import CTorch
#if canImport(Glibc)
import Glibc
#endif

/// Process-wide libtorch settings and facts.
public enum Runtime {
    /// Loads CUDA kernels when present and sets the intra-op thread count to the number of
    /// cores (Debian's libtorch defaults to one thread). Runs once, before the first tensor.
    /// Start-up failures are warnings, kept in a scope of their own so that they never
    /// surface as the error of whichever `withTorchErrors` scope made the first tensor.
    static let started: Bool = {
        ct_trap_push()
        defer { _ = ct_trap_pop() }
        let loaded = ct_init() == 0
        if !loaded { warnLastError() }
        let requested = getenv("BLOCKWISE_THREADS").flatMap { Int(String(cString: $0)) }
        if ct_set_num_threads(Int32(requested ?? coreCount)) != 0 { warnLastError() }
        return loaded
    }()

    private static func warnLastError() {
        writeStandardError("warning: \(String(cString: ct_last_error()))\n")
    }

    /// A string the bridge keeps for the life of the process ("" after a failure inside
    /// `withTorchErrors`).
    private static func bridgeString(_ call: (UnsafeMutablePointer<UnsafePointer<CChar>?>) -> Int32) -> String {
        var text: UnsafePointer<CChar>?
        check(call(&text))
        return text.map { String(cString: $0) } ?? ""
    }

    @inline(__always) static func ensureStarted() { _ = started }

    /// Cores available to this process (its CPU affinity mask).
    public static var coreCount: Int { Int(ct_core_count()) }

    /// libtorch's version, e.g. "2.5.1" or "1.13.0".
    public static var version: String { ensureStarted(); return String(cString: ct_version()) }

    /// The folder libtorch_cpu was loaded from.
    public static var libraryDirectory: String { ensureStarted(); return bridgeString { ct_library_dir($0) } }

    /// The libtorch_cuda library loaded at start-up, if any.
    public static var cudaLibrary: String? {
        ensureStarted()
        let path = bridgeString { ct_cuda_library($0) }
        return path.isEmpty ? nil : path
    }

    /// libtorch's own description of its build (BLAS, OpenMP, CPU capabilities, CUDA).
    public static var buildConfiguration: String { ensureStarted(); return bridgeString { ct_build_config($0) } }

    /// CUDA devices libtorch can use: 0 without CUDA.
    public static var cudaDeviceCount: Int {
        ensureStarted()
        var count: Int64 = 0
        check(ct_cuda_device_count(&count))
        return Int(count)
    }

    /// Intra-op threads used by libtorch's CPU kernels.
    public static var threads: Int {
        get {
            ensureStarted()
            var count: Int32 = 0
            check(ct_get_num_threads(&count))
            return Int(count)
        }
        set { ensureStarted(); check(ct_set_num_threads(Int32(newValue))) }
    }

    /// OpenBLAS's own thread pool, where libtorch's matrix products run on OpenBLAS built with
    /// pthreads (Debian's libtorch): its threads, which follow `threads`, and the exponent of
    /// how long its idle workers spin (2^e cycles; the bridge sets 20 unless
    /// OPENBLAS_THREAD_TIMEOUT is set). Nil with another BLAS, which runs on libtorch's threads.
    public static var openBLASPool: (threads: Int, spinExponent: Int)? {
        ensureStarted()
        var threads: Int32 = 0, exponent: Int32 = 0
        check(ct_openblas_pool(&threads, &exponent))
        return threads > 0 ? (Int(threads), Int(exponent)) : nil
    }

    /// How many threads the bridge's own kernels (fused heads, noise, lean backward) run on:
    /// the threads that took a share of `tasks` tasks. libtorch's intra-op threads (up to
    /// `tasks`) where the bridge reaches libtorch's OpenMP runtime; 1 where it cannot.
    public static func bridgeKernelThreads(tasks: Int) -> Int {
        ensureStarted()
        var count: Int64 = 0
        check(ct_bridge_parallel_threads(Int64(tasks), &count))
        return Int(count)
    }

    /// Called with libtorch's message when an error stops the process (outside
    /// `withTorchErrors`); what it returns is printed after the message. A distributed
    /// trainer says here which rank it lost.
    nonisolated(unsafe) public static var failureContext: ((String) -> String?)?

    /// Seeds the default generators of every device.
    public static func manualSeed(_ seed: UInt64) {
        ensureStarted()
        check(ct_manual_seed(seed))
    }

    /// Seconds per call of libtorch's add on two 1-element CPU tensors, timed in a C++ loop:
    /// the baseline against which the Swift binding's own cost is measured.
    public static func nativeAddSeconds(iterations: Int) -> Double {
        ensureStarted()
        var seconds = 0.0
        check(ct_bench_native_add(Int64(iterations), &seconds))
        return seconds
    }

    /// Gives memory that freed tensors left with malloc back to the system, so that resident
    /// memory measures what is in use.
    public static func releaseFreeMemory() { ct_release_free_memory() }

    /// Waits for the work queued on a CUDA device.
    public static func synchronize(_ device: Device) {
        guard case .cuda(let index) = device else { return }
        check(ct_cuda_synchronize(Int32(index)))
    }
}

/// A seedable random number generator of one device, with a state that can be saved.
public final class Generator: @unchecked Sendable {
    let handle: ct_generator?

    public init(seed: UInt64, device: Device = .cpu) {
        Runtime.ensureStarted()
        var out: ct_generator?
        check(ct_generator_new(device.code.type, device.code.index, seed, &out))
        handle = out
    }

    deinit { if let handle { ct_generator_free(handle) } }

    /// The seed the generator started from.
    public var seed: UInt64 {
        var value: UInt64 = 0
        check(ct_generator_seed(handle, &value))
        return value
    }

    /// The full state as a uint8 tensor, to checkpoint and restore the random stream.
    public var state: Tensor {
        get { Tensor.make { ct_generator_get_state(handle, $0) } }
        set { check(ct_generator_set_state(handle, newValue.handle)) }
    }
}

import CTorch
#if canImport(Glibc)
import Glibc
#endif

/// Process-wide libtorch settings and facts.
public enum Runtime {
    /// Loads CUDA kernels when present and sets the intra-op thread count to the number of
    /// cores (Debian's libtorch defaults to one thread). Runs once, before the first tensor.
    static let started: Bool = {
        let status = ct_init()
        if status != 0 {
            writeStandardError("warning: \(String(cString: ct_last_error()))\n")
        }
        let requested = getenv("BLOCKWISE_THREADS").flatMap { Int(String(cString: $0)) }
        ct_set_num_threads(Int32(requested ?? coreCount))
        return status == 0
    }()

    @inline(__always) static func ensureStarted() { _ = started }

    /// Cores available to this process (its CPU affinity mask).
    public static var coreCount: Int { Int(ct_core_count()) }

    /// libtorch's version, e.g. "2.5.1" or "1.13.0".
    public static var version: String { ensureStarted(); return String(cString: ct_version()) }

    /// The folder libtorch_cpu was loaded from.
    public static var libraryDirectory: String { ensureStarted(); return String(cString: ct_library_dir()) }

    /// The libtorch_cuda library loaded at start-up, if any.
    public static var cudaLibrary: String? {
        ensureStarted()
        let path = String(cString: ct_cuda_library())
        return path.isEmpty ? nil : path
    }

    /// libtorch's own description of its build (BLAS, OpenMP, CPU capabilities, CUDA).
    public static var buildConfiguration: String { ensureStarted(); return String(cString: ct_build_config()) }

    public static var cudaDeviceCount: Int { ensureStarted(); return Int(ct_cuda_device_count()) }

    /// Intra-op threads used by libtorch's CPU kernels.
    public static var threads: Int {
        get { ensureStarted(); return Int(ct_get_num_threads()) }
        set { ensureStarted(); ct_set_num_threads(Int32(newValue)) }
    }

    /// Seeds the default generators of every device.
    public static func manualSeed(_ seed: UInt64) {
        ensureStarted()
        ct_manual_seed(seed)
    }

    /// Seconds per call of libtorch's add on two 1-element CPU tensors, timed in a C++ loop:
    /// the baseline against which the Swift binding's own cost is measured.
    public static func nativeAddSeconds(iterations: Int) -> Double {
        ensureStarted()
        return ct_bench_native_add(Int64(iterations))
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

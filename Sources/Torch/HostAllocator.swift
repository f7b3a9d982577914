import CTorch
#if canImport(Glibc)
import Glibc
#endif

/// What glibc's malloc, where libtorch's CPU tensors live, does with the memory of freed tensors.
public enum HostAllocator: String, Sendable, CaseIterable {
    /// glibc's defaults: a block above the mmap threshold (128 KiB, rising with use to 32 MiB)
    /// is mapped when allocated and unmapped when freed, and free memory at the heap's top
    /// beyond 128 KiB goes back to the system. A training step then faults its large tensors
    /// in afresh, page by page, each page zeroed by the kernel, every step.
    case system
    /// Freed memory stays with malloc for the next allocations (no mmap below 2 GiB, up to
    /// 2 GiB kept free at the heap's top, one arena for every thread, since glibc unmaps a
    /// thread arena's heaps once they are empty): a step, or a loader thread's batch, reuses
    /// the pages of the one before, and the process keeps the memory of its peak.
    case retain

    /// The variable that chooses the allocator of the `blockwise` binary.
    public static let environmentVariable = "BLOCKWISE_MALLOC"
}

extension Runtime {
    /// The allocator policy in effect in this process.
    nonisolated(unsafe) public private(set) static var hostAllocator = HostAllocator.system

    /// Makes malloc keep freed memory (`HostAllocator.retain`) unless `BLOCKWISE_MALLOC=system`
    /// (unset or empty: retain), and returns the policy in effect. Call it once at the start of
    /// a process, before the first tensor: settings changed later apply only to later
    /// allocations. An unknown value is a warning, not an error: the process keeps the default.
    @discardableResult
    public static func configureHostAllocator() -> HostAllocator {
        var chosen = HostAllocator.retain
        if let value = getenv(HostAllocator.environmentVariable).map({ String(cString: $0) }), !value.isEmpty {
            if let allocator = HostAllocator(rawValue: value) {
                chosen = allocator
            } else {
                writeStandardError("warning: \(HostAllocator.environmentVariable)=\(value) is neither "
                                   + HostAllocator.allCases.map(\.rawValue).joined(separator: " nor ") + "; using retain\n")
            }
        }
        if chosen == .retain {
            guard ct_malloc_retain_freed() == 1 else {
                writeStandardError("warning: malloc refused to keep freed memory; using the system allocator's defaults\n")
                return hostAllocator
            }
            hostAllocator = .retain
        }
        return hostAllocator
    }

    /// Memory that malloc holds free (in every arena), in MB: what `HostAllocator.retain`
    /// keeps beyond what tensors use.
    public static var freeHostMemoryHeldMB: Double { Double(ct_malloc_free_bytes()) / (1024 * 1024) }
}

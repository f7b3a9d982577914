import CTorch

/// Memory held by tensors on one device, as its allocator counts it: what a step needs, apart
/// from what the allocator keeps after frees or loses to fragmentation. On CUDA it is libtorch's
/// caching allocator's count (`torch.cuda.memory_allocated`, `max_memory_allocated`). On the
/// CPU libtorch keeps no such count, so `countCPU()` puts a counting allocator in front of its
/// default one (same allocation, its size kept in a side table); tensors that
/// existed before are never counted, so CPU figures are for differences and peaks after it.
public struct TensorMemory: Sendable, Equatable {
    /// Bytes held by tensors now (on the CPU: by those allocated since counting began).
    public var allocatedBytes: Int
    /// The most bytes held at once since counting began or the last `resetPeak`.
    public var peakAllocatedBytes: Int

    /// Starts counting CPU tensor memory in this process; later calls do nothing.
    public static func countCPU() throws {
        Runtime.ensureStarted()
        try check(ct_cpu_memory_count())
    }

    /// The counts of `device`. Throws on the CPU before `countCPU()`, and for a CUDA device
    /// this build or machine lacks.
    public static func of(_ device: Device) throws -> TensorMemory {
        if device.isCUDA {
            let cuda = try CUDAMemory.of(device)
            return TensorMemory(allocatedBytes: cuda.allocatedBytes, peakAllocatedBytes: cuda.peakAllocatedBytes)
        }
        var stats = ct_cpu_memory()
        try check(ct_cpu_memory_stats(&stats))
        return TensorMemory(allocatedBytes: Int(stats.allocated), peakAllocatedBytes: Int(stats.peak_allocated))
    }

    /// Starts the peak of `device` again from what is held now.
    public static func resetPeak(_ device: Device) throws {
        if device.isCUDA { return try CUDAMemory.resetPeak(device) }
        ct_cpu_reset_peak_memory()
    }

    private static func check(_ status: Int32) throws {
        if status != 0 { throw TorchError(message: String(cString: ct_last_error())) }
    }
}

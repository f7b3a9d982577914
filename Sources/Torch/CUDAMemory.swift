import CTorch

/// Device memory of one CUDA device as libtorch's caching allocator counts it
/// (`torch.cuda.memory_allocated`, `max_memory_allocated`, `memory_reserved`, …). Process
/// figures such as resident memory never see GPU memory, so a GPU run's peak comes from here.
public struct CUDAMemory: Sendable, Equatable {
    /// Bytes held by tensors now.
    public var allocatedBytes: Int
    /// The most bytes held by tensors at once since start-up or the last `resetPeak`.
    public var peakAllocatedBytes: Int
    /// Bytes the allocator has taken from the driver (tensors plus its cache).
    public var reservedBytes: Int
    /// The most bytes reserved at once since start-up or the last `resetPeak`.
    public var peakReservedBytes: Int

    /// The statistics of `device`; throws for the CPU, a device that does not exist, or a CPU build.
    public static func of(_ device: Device) throws -> CUDAMemory {
        let index = try cudaIndex(device)
        var stats = ct_cuda_memory()
        try cudaCall(ct_cuda_memory_stats(index, &stats))
        return CUDAMemory(allocatedBytes: Int(stats.allocated), peakAllocatedBytes: Int(stats.peak_allocated),
                          reservedBytes: Int(stats.reserved), peakReservedBytes: Int(stats.peak_reserved))
    }

    /// Starts the peaks of `device` again from what is in use now (`torch.cuda.reset_peak_memory_stats`).
    public static func resetPeak(_ device: Device) throws {
        try cudaCall(ct_cuda_reset_peak_memory(try cudaIndex(device)))
    }

    private static func cudaIndex(_ device: Device) throws -> Int32 {
        Runtime.ensureStarted()
        guard case .cuda(let index) = device else { throw TorchError(message: "\(device) has no CUDA allocator statistics") }
        return Int32(index)
    }

    private static func cudaCall(_ status: Int32) throws {
        if status != 0 { throw TorchError(message: String(cString: ct_last_error())) }
    }
}

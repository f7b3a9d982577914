import CTorch

// Raw memory of CPU tensors, for data loaders that decode files straight into a tensor
// instead of going through a Swift array (a 2.7 GB dataset would otherwise be held twice).

extension Tensor {
    /// An uninitialised tensor (`torch.empty`).
    public static func empty(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) -> Tensor {
        Runtime.ensureStarted()
        return make { out in withInt64s(shape) { ct_empty($0, $1, device.options(dtype), out) } }
    }

    /// Runs `body` with the bytes of a contiguous CPU tensor, which it may write.
    /// Fails (as a libtorch error) for a tensor on another device or with gaps in memory.
    public func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        var pointer: UnsafeMutableRawPointer?
        check(ct_data_ptr(handle, &pointer))
        let bytes = count * dtype.byteSize
        return try withExtendedLifetime(self) {
            try body(UnsafeMutableRawBufferPointer(start: bytes == 0 ? nil : pointer, count: pointer == nil ? 0 : bytes))
        }
    }

    /// Copies `source`'s slices into self at `index` along `dim`, in place (`index_copy_`).
    @discardableResult
    public func indexCopy_(dim: Int, index: Tensor, source: Tensor) -> Tensor {
        check(ct_index_copy_(handle, Int64(dim), index.handle, source.handle))
        return self
    }
}

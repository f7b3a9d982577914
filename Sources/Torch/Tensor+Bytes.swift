import CTorch

extension Tensor {
    /// A CPU tensor of `dtype` whose elements are `bytes`, read in row-major order and in the
    /// machine's byte order (little-endian on every platform libtorch supports).
    ///
    /// This is how raw file contents become tensors of any dtype, bfloat16 included, which
    /// has no Swift type. `bytes.count` must be the number of elements of `shape` times
    /// `dtype.byteSize`; a mismatch is a libtorch error (see `withTorchErrors`).
    public convenience init(bytes: UnsafeRawBufferPointer, shape: [Int], dtype: DType) {
        self.init(owning: Tensor.handle(bytes: bytes, shape: shape, dtype: dtype))
    }

    /// A CPU tensor of `dtype` whose elements are `bytes` (see `init(bytes:shape:dtype:)`).
    public convenience init(bytes: [UInt8], shape: [Int], dtype: DType) {
        self.init(owning: bytes.withUnsafeBytes { Tensor.handle(bytes: $0, shape: shape, dtype: dtype) })
    }

    private static func handle(bytes: UnsafeRawBufferPointer, shape: [Int], dtype: DType) -> ct_tensor? {
        Runtime.ensureStarted()
        var out: ct_tensor?
        check(withInt64s(shape) { ct_from_data(bytes.baseAddress, Int64(bytes.count), $0, $1, dtype.code, &out) })
        return out
    }

    /// The number of bytes the elements take, `count * dtype.byteSize`.
    public var byteCount: Int { count * dtype.byteSize }

    /// Copies the elements, in row-major order and the machine's byte order, into `buffer`,
    /// which must hold exactly `byteCount` bytes. Works for any device and layout: the
    /// bridge makes a contiguous CPU copy first when needed.
    public func copyBytes(into buffer: UnsafeMutableRawBufferPointer) {
        check(ct_copy_to_buffer(handle, buffer.baseAddress, Int64(buffer.count)))
    }

    /// The elements as raw bytes, in row-major order and the machine's byte order.
    public func bytes() -> [UInt8] {
        let n = byteCount
        return [UInt8](unsafeUninitializedCapacity: n) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            // Zeros first, so a failure trapped by `withTorchErrors` leaves no garbage behind.
            if n > 0 { raw.initializeMemory(as: UInt8.self, repeating: 0) }
            copyBytes(into: raw)
            initialized = n
        }
    }
}

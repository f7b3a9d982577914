import CTorch

/// An n-dimensional array held by libtorch. Each `Tensor` owns one libtorch reference:
/// several `Tensor`s may view the same storage (as views do in PyTorch).
///
/// Tensors may be passed between threads; like PyTorch tensors, concurrent writes to
/// the same storage are the caller's to order.
public final class Tensor: @unchecked Sendable {
    /// nil only for the result of an operation that failed inside `withTorchErrors`.
    let handle: ct_tensor?

    init(owning handle: ct_tensor?) { self.handle = handle }

    deinit { if let handle { ct_free(handle) } }

    /// Runs a bridge call that produces one tensor.
    @inline(__always)
    static func make(_ body: (UnsafeMutablePointer<ct_tensor?>) -> Int32) -> Tensor {
        var out: ct_tensor?
        check(body(&out))
        return Tensor(owning: out)
    }

    /// Runs a bridge call that produces two tensors (values and indices).
    @inline(__always)
    static func make2(_ body: (UnsafeMutablePointer<ct_tensor?>, UnsafeMutablePointer<ct_tensor?>) -> Int32) -> (Tensor, Tensor) {
        var a: ct_tensor?
        var b: ct_tensor?
        check(body(&a, &b))
        return (Tensor(owning: a), Tensor(owning: b))
    }

    public var rank: Int {
        var n: Int64 = 0
        check(ct_ndim(handle, &n))
        return Int(n)
    }

    public var shape: [Int] {
        let n = rank
        return [Int](unsafeUninitializedCapacity: n) { buffer, count in
            buffer.withMemoryRebound(to: Int64.self) { check(ct_sizes(handle, $0.baseAddress, Int64(n))) }
            count = n
        }
    }

    public var strides: [Int] {
        let n = rank
        return [Int](unsafeUninitializedCapacity: n) { buffer, count in
            buffer.withMemoryRebound(to: Int64.self) { check(ct_strides(handle, $0.baseAddress, Int64(n))) }
            count = n
        }
    }

    /// The size of one dimension; negative indices count from the end.
    public func size(_ dim: Int) -> Int {
        let s = shape
        return s[dim < 0 ? dim + s.count : dim]
    }

    public var count: Int { shape.reduce(1, *) }

    public var dtype: DType {
        // What a failed call inside `withTorchErrors` reads as.
        var code = DType.float32.code
        check(ct_dtype(handle, &code))
        guard let dtype = DType(code: code) else { fatalError("the bridge reported an unknown dtype code \(code)") }
        return dtype
    }

    public var device: Device {
        var type: Int32 = 0
        var index: Int32 = 0
        check(ct_device(handle, &type, &index))
        return type == Int32(CT_DEVICE_CUDA) ? .cuda(Int(index)) : .cpu
    }

    /// The value of a one-element tensor.
    public func item() -> Double {
        var value = 0.0
        check(ct_item(handle, &value))
        return value
    }

    /// The value of a one-element integer tensor.
    public func itemInt() -> Int {
        var value: Int64 = 0
        check(ct_item_int(handle, &value))
        return Int(value)
    }

    /// The elements in row-major order, converted to `T`.
    public func toArray<T: TensorElement>(_ type: T.Type = T.self) -> [T] {
        let source = dtype == T.dtype ? self : to(T.dtype)
        let n = source.count
        return withExtendedLifetime(source) { [T](unsafeUninitializedCapacity: n) { buffer, initialized in
            let status = ct_copy_to_buffer(source.handle, buffer.baseAddress, Int64(n * MemoryLayout<T>.stride))
            check(status)
            // After a trapped failure the buffer holds nothing meaningful: give back zeros.
            if status != 0, n > 0 {
                UnsafeMutableRawBufferPointer(buffer).initializeMemory(as: UInt8.self, repeating: 0)
            }
            initialized = n
        } }
    }

    public func isContiguous(_ format: MemoryFormat = .contiguous) -> Bool {
        var out: Int32 = 0
        check(ct_is_contiguous(handle, format == .channelsLast ? 1 : 0, &out))
        return out != 0
    }

    /// A copy of this CPU tensor in page-locked memory (`pin_memory()`), so that a
    /// `to(cuda, nonBlocking: true)` of it returns at once and the copy overlaps the device's
    /// work, as a `DataLoader(pin_memory=True)` batch does. Needs a CUDA device.
    public func pinnedMemory() -> Tensor { Tensor.make { ct_pin_memory(handle, $0) } }

    /// A copy converted to `dtype` on `device` (self when nothing changes, as in PyTorch).
    public func to(_ device: Device? = nil, _ dtype: DType? = nil, nonBlocking: Bool = false) -> Tensor {
        let target = (device ?? self.device).options(dtype ?? self.dtype)
        return Tensor.make { ct_to(handle, target, nonBlocking ? 1 : 0, $0) }
    }

    public func to(_ dtype: DType) -> Tensor { to(nil, dtype) }

    public func contiguous(_ format: MemoryFormat = .contiguous) -> Tensor {
        Tensor.make { ct_contiguous(handle, format == .channelsLast ? 1 : 0, $0) }
    }

    public func clone() -> Tensor { Tensor.make { ct_clone(handle, $0) } }

    /// True when both have the same shape and the same elements.
    public func equal(_ other: Tensor) -> Bool {
        var out: Int32 = 0
        check(ct_equal(handle, other.handle, &out))
        return out != 0
    }

    /// `|self - other| <= atol + rtol * |other|` element by element, as `torch.allclose`.
    public func allClose(_ other: Tensor, rtol: Double = 1e-5, atol: Double = 1e-8) -> Bool {
        var out: Int32 = 0
        check(ct_allclose(handle, other.handle, rtol, atol, &out))
        return out != 0
    }
}

/// How a 4-d tensor is laid out in memory.
public enum MemoryFormat: Sendable {
    case contiguous
    /// NHWC, the fast layout for convolutions on recent GPUs.
    case channelsLast
}

extension Tensor: CustomStringConvertible {
    /// libtorch's printout of the values.
    public var description: String {
        var needed: Int64 = 0
        guard ct_to_string(handle, nil, 0, &needed) == 0 else { return "Tensor(undefined)" }
        var buffer = [CChar](repeating: 0, count: Int(needed))
        _ = ct_to_string(handle, &buffer, needed, &needed)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Passes Swift `[Int]` to the bridge as `int64_t*` without copying (Int is 64-bit here).
@inline(__always)
func withInt64s<R>(_ values: [Int], _ body: (UnsafePointer<Int64>?, Int64) -> R) -> R {
    values.withUnsafeBufferPointer { buffer in
        buffer.withMemoryRebound(to: Int64.self) { body($0.baseAddress, Int64(values.count)) }
    }
}

/// Passes handles of several tensors to the bridge, keeping the tensors alive meanwhile.
@inline(__always)
func withHandles<R>(_ tensors: [Tensor], _ body: (UnsafePointer<ct_tensor?>?, Int64) -> R) -> R {
    let handles = tensors.map(\.handle)
    return withExtendedLifetime(tensors) {
        handles.withUnsafeBufferPointer { body($0.baseAddress, Int64(handles.count)) }
    }
}

import CTorch

extension Tensor {
    /// A tensor holding a copy of `values`, shaped `shape` (one dimension by default).
    public convenience init<T: TensorElement>(_ values: [T], shape: [Int]? = nil, device: Device = .cpu) {
        Runtime.ensureStarted()
        self.init(owning: Tensor.handle(copying: values, shape: shape ?? [values.count], device: device))
    }

    private static func handle<T: TensorElement>(copying values: [T], shape: [Int], device: Device) -> ct_tensor? {
        var out: ct_tensor?
        check(values.withUnsafeBytes { bytes in
            withInt64s(shape) { ct_from_data(bytes.baseAddress, Int64(bytes.count), $0, $1, T.dtype.code, &out) }
        })
        guard device != .cpu, let cpu = out else { return out }
        defer { ct_free(cpu) }
        var moved: ct_tensor?
        check(ct_to(cpu, device.options(T.dtype), 0, &moved))
        return moved
    }

    /// A 0-dimensional tensor holding one value.
    public convenience init(_ value: Double, dtype: DType = .float32, device: Device = .cpu) {
        Runtime.ensureStarted()
        var out: ct_tensor?
        check(ct_full(nil, 0, Scalar.double(value).c, device.options(dtype), &out))
        self.init(owning: out)
    }

    public static func zeros(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) -> Tensor {
        Runtime.ensureStarted()
        return make { out in withInt64s(shape) { ct_zeros($0, $1, device.options(dtype), out) } }
    }

    public static func ones(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) -> Tensor {
        Runtime.ensureStarted()
        return make { out in withInt64s(shape) { ct_ones($0, $1, device.options(dtype), out) } }
    }

    public static func full(_ shape: [Int], _ value: Scalar, dtype: DType = .float32, device: Device = .cpu) -> Tensor {
        Runtime.ensureStarted()
        return make { out in withInt64s(shape) { ct_full($0, $1, value.c, device.options(dtype), out) } }
    }

    public static func zeros(like t: Tensor) -> Tensor { zeros(t.shape, dtype: t.dtype, device: t.device) }
    public static func ones(like t: Tensor) -> Tensor { ones(t.shape, dtype: t.dtype, device: t.device) }

    /// Values from `start` up to, not including, `end`. Without a dtype, as `torch.arange`:
    /// int64 when every bound is an integer, float32 when any is fractional.
    public static func arange(_ start: Scalar = 0, _ end: Scalar, step: Scalar = 1, dtype: DType? = nil,
                              device: Device = .cpu) -> Tensor {
        Runtime.ensureStarted()
        let inferred = [start, end, step].contains { if case .double = $0 { true } else { false } } ? DType.float32 : .int64
        return make { ct_arange(start.c, end.c, step.c, device.options(dtype ?? inferred), $0) }
    }

    /// Integers from `start` up to, not including, `end`.
    public static func arange(_ start: Int = 0, _ end: Int, step: Int = 1, dtype: DType = .int64,
                              device: Device = .cpu) -> Tensor {
        arange(Scalar.int(start), Scalar.int(end), step: .int(step), dtype: dtype, device: device)
    }

    /// `steps` values evenly spaced from `start` to `end`, both included.
    public static func linspace(_ start: Double, _ end: Double, steps: Int, dtype: DType = .float32,
                                device: Device = .cpu) -> Tensor {
        Runtime.ensureStarted()
        return make { ct_linspace(start, end, Int64(steps), device.options(dtype), $0) }
    }

    public static func eye(_ n: Int, dtype: DType = .float32, device: Device = .cpu) -> Tensor {
        Runtime.ensureStarted()
        return make { ct_eye(Int64(n), device.options(dtype), $0) }
    }

    /// Standard normal samples.
    public static func randn(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu,
                             generator: Generator? = nil) -> Tensor {
        Runtime.ensureStarted()
        return withExtendedLifetime(generator) {
            make { out in withInt64s(shape) { ct_randn($0, $1, device.options(dtype), generator?.handle, out) } }
        }
    }

    /// Normal samples with mean 0 and standard deviation `std`, for noise: on the CPU one draw
    /// of `generator` seeds a stream that all threads fill, where `randn` draws every value
    /// from `generator` on one thread. In float32 and bf16 the stream is counter-based (the
    /// Box–Muller transform of SplitMix64's outputs, 4–5× faster than the chunks), in other types a
    /// libtorch stream per chunk of 2^16 values. The values differ from `randn`'s, but depend
    /// only on the generator's state and the shape, never on the thread count; `generator`
    /// advances by one draw. On other devices: `randn` · std.
    public static func normalNoise(_ shape: [Int], std: Double = 1, dtype: DType = .float32, device: Device = .cpu,
                                   generator: Generator? = nil) -> Tensor {
        Runtime.ensureStarted()
        return withExtendedLifetime(generator) {
            make { out in withInt64s(shape) { ct_normal_noise($0, $1, device.options(dtype), generator?.handle, std, out) } }
        }
    }

    /// Uniform samples in [0, 1).
    public static func rand(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu,
                            generator: Generator? = nil) -> Tensor {
        Runtime.ensureStarted()
        return withExtendedLifetime(generator) {
            make { out in withInt64s(shape) { ct_rand($0, $1, device.options(dtype), generator?.handle, out) } }
        }
    }

    /// Integers drawn uniformly from `low..<high`.
    public static func randint(_ low: Int, _ high: Int, _ shape: [Int], dtype: DType = .int64, device: Device = .cpu,
                               generator: Generator? = nil) -> Tensor {
        Runtime.ensureStarted()
        return withExtendedLifetime(generator) {
            make { out in
                withInt64s(shape) { ct_randint(Int64(low), Int64(high), $0, $1, device.options(dtype), generator?.handle, out) }
            }
        }
    }

    /// A random permutation of 0..<n.
    public static func randperm(_ n: Int, dtype: DType = .int64, device: Device = .cpu,
                                generator: Generator? = nil) -> Tensor {
        Runtime.ensureStarted()
        return withExtendedLifetime(generator) {
            make { ct_randperm(Int64(n), device.options(dtype), generator?.handle, $0) }
        }
    }

    /// 0/1 samples with probabilities `self`.
    public func bernoulli(generator: Generator? = nil) -> Tensor {
        withExtendedLifetime(generator) { Tensor.make { ct_bernoulli(handle, generator?.handle, $0) } }
    }

    /// Fills with uniform samples in [from, to), in place.
    @discardableResult
    public func uniform_(_ from: Double, _ to: Double, generator: Generator? = nil) -> Tensor {
        withExtendedLifetime(generator) { check(ct_uniform_(handle, from, to, generator?.handle)) }
        return self
    }

    /// Fills with normal samples, in place.
    @discardableResult
    public func normal_(mean: Double = 0, std: Double = 1, generator: Generator? = nil) -> Tensor {
        withExtendedLifetime(generator) { check(ct_normal_(handle, mean, std, generator?.handle)) }
        return self
    }
}

import CTorch

// libtorch's imperative autograd: gradients are recorded as operations run.

extension Tensor {
    /// Whether operations on this tensor are recorded for differentiation.
    public var requiresGrad: Bool {
        get {
            var out: Int32 = 0
            check(ct_requires_grad(handle, &out))
            return out != 0
        }
        set { check(ct_set_requires_grad(handle, newValue ? 1 : 0)) }
    }

    /// Sets `requiresGrad` and returns self, for chaining.
    @discardableResult
    public func requiresGrad_(_ flag: Bool = true) -> Tensor {
        check(ct_set_requires_grad(handle, flag ? 1 : 0))
        return self
    }

    /// True for tensors created by the user rather than by a recorded operation.
    public var isLeaf: Bool {
        var out: Int32 = 0
        check(ct_is_leaf(handle, &out))
        return out != 0
    }

    /// Accumulates d(self)/d(leaf) into the `grad` of every leaf that requires it.
    /// `gradient` is d(loss)/d(self); it may be left out when self is a scalar.
    public func backward(_ gradient: Tensor? = nil, retainGraph: Bool = false, createGraph: Bool = false) {
        withExtendedLifetime(gradient) {
            check(ct_backward(handle, gradient?.handle, retainGraph ? 1 : 0, createGraph ? 1 : 0))
        }
    }

    /// The accumulated gradient, nil when none has been computed. Setting nil frees it.
    public var grad: Tensor? {
        get {
            var out: ct_tensor?
            check(ct_grad(handle, &out))
            return out.map { Tensor(owning: $0) }
        }
        set { withExtendedLifetime(newValue) { check(ct_set_grad(handle, newValue?.handle)) } }
    }

    /// The same values cut from the graph: the stop-gradient.
    public func detach() -> Tensor { Tensor.make { ct_detach(handle, $0) } }
}

/// Whether operations are being recorded on this thread.
public var isGradEnabled: Bool { ct_grad_enabled() != 0 }

/// Runs `body` without recording operations (`torch.no_grad()`).
public func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
    try withGradMode(false, body)
}

/// Runs `body` with recording switched on or off, restoring the previous mode after.
public func withGradMode<R>(_ enabled: Bool, _ body: () throws -> R) rethrows -> R {
    let previous = ct_grad_enabled()
    ct_set_grad_enabled(enabled ? 1 : 0)
    defer { ct_set_grad_enabled(previous) }
    return try body()
}

/// Runs `body` under autocast on `device`'s kind of device (`torch.autocast`): with `dtype`
/// (bfloat16 or float16), the dispatcher runs convolutions and matrix products in it and the
/// other ops as PyTorch's autocast policy says; nil runs `body` with autocast off, e.g. for a
/// loss that must stay in float32 inside an autocast region. The previous state is restored.
public func withAutocast<R>(_ dtype: DType?, device: Device, _ body: () throws -> R) rethrows -> R {
    let cuda: Int32 = device.isCUDA ? 1 : 0
    var wasEnabled: Int32 = 0, wasDType: Int32 = 0
    check(ct_autocast_enter(cuda, dtype == nil ? 0 : 1, (dtype ?? .float32).code, &wasEnabled, &wasDType))
    defer { check(ct_autocast_exit(cuda, wasEnabled, wasDType)) }
    return try body()
}

/// The gradients of `outputs` with respect to `inputs` without touching any `.grad`
/// (`torch.autograd.grad`). An entry is nil for an input the outputs do not depend on
/// (when `allowUnused`).
public func gradients(of outputs: [Tensor], withRespectTo inputs: [Tensor], gradOutputs: [Tensor?]? = nil,
                      retainGraph: Bool = false, createGraph: Bool = false, allowUnused: Bool = false) -> [Tensor?] {
    var outs = [ct_tensor?](repeating: nil, count: inputs.count)
    let seeds = gradOutputs.map { $0.map { $0?.handle } }
    withExtendedLifetime(gradOutputs) {
        withHandles(outputs) { ys, ny in
            withHandles(inputs) { xs, nx in
                if let seeds {
                    check(seeds.withUnsafeBufferPointer {
                        ct_autograd_grad(ys, ny, xs, nx, $0.baseAddress, retainGraph ? 1 : 0, createGraph ? 1 : 0,
                                         allowUnused ? 1 : 0, &outs)
                    })
                } else {
                    check(ct_autograd_grad(ys, ny, xs, nx, nil, retainGraph ? 1 : 0, createGraph ? 1 : 0,
                                           allowUnused ? 1 : 0, &outs))
                }
            }
        }
    }
    return outs.map { $0.map { Tensor(owning: $0) } }
}

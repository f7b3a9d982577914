/// A value a `@Parameter` or `@Buffer` may hold: a `Tensor`, or a `Tensor?` for one that
/// may be absent (PyTorch's `bias=False`), which then has no entry in the state dict.
public protocol ModuleTensor: Sendable {
    /// The tensor held, nil when absent.
    var moduleTensor: Tensor? { get }
}

extension Tensor: ModuleTensor {
    public var moduleTensor: Tensor? { self }
}

extension Optional: ModuleTensor where Wrapped == Tensor {
    public var moduleTensor: Tensor? { self }
}

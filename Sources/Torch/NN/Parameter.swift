/// Marks a stored property of a `Module` as a learnable parameter (`nn.Parameter`).
///
/// The module finds it by reflection and names it after the property, or after `key`
/// where PyTorch's name is not a Swift name. A parameter requires gradients from the
/// start, as in PyTorch; give it a leaf tensor (one not produced by recorded operations).
///
/// A property with a `key` is declared `@Parameter(key: "in_proj") var inProj: Tensor?`
/// and assigned after `super.init()`, or, when not optional, initialised in `init` as
/// `_inProj = Parameter(wrappedValue: tensor, key: "in_proj")`.
///
/// Optimizers hold the `Tensor` objects themselves: loading a state dict or moving the
/// module keeps them, but assigning a new tensor to the property does not.
@propertyWrapper
public struct Parameter<Value: ModuleTensor>: Sendable {
    public var wrappedValue: Value {
        didSet { Self.markLearnable(wrappedValue) }
    }
    /// The name in the state dict, when it differs from the property name.
    public let key: String?

    public init(wrappedValue: Value, key: String? = nil) {
        Self.markLearnable(wrappedValue)
        self.wrappedValue = wrappedValue
        self.key = key
    }

    private static func markLearnable(_ value: Value) {
        if let tensor = value.moduleTensor, tensor.dtype.isFloatingPoint { tensor.requiresGrad = true }
    }
}

extension Parameter where Value == Tensor? {
    /// An optional parameter with its state-dict name, absent until assigned.
    public init(key: String) { self.init(wrappedValue: nil, key: key) }
}

/// Marks a stored property of a `Module` as a buffer: state that is saved and moved with
/// the module but not learned (`register_buffer`), e.g. BatchNorm's running statistics.
@propertyWrapper
public struct Buffer<Value: ModuleTensor>: Sendable {
    public var wrappedValue: Value
    /// The name in the state dict, when it differs from the property name.
    public let key: String?
    /// False for a buffer left out of the state dict (PyTorch's `persistent=False`).
    public let persistent: Bool

    public init(wrappedValue: Value, key: String? = nil, persistent: Bool = true) {
        self.wrappedValue = wrappedValue
        self.key = key
        self.persistent = persistent
    }
}

extension Buffer where Value == Tensor? {
    /// An optional buffer with its state-dict name, absent until assigned.
    public init(key: String, persistent: Bool = true) { self.init(wrappedValue: nil, key: key, persistent: persistent) }
}

/// What reflection needs from either wrapper, whatever its value type.
protocol ReflectedTensor {
    var key: String? { get }
    var tensor: Tensor? { get }
}

/// A `@Parameter` seen through reflection.
protocol ReflectedParameter: ReflectedTensor {}

/// A `@Buffer` seen through reflection.
protocol ReflectedBuffer: ReflectedTensor {
    var persistent: Bool { get }
}

extension Parameter: ReflectedParameter {
    var tensor: Tensor? { wrappedValue.moduleTensor }
}

extension Buffer: ReflectedBuffer {
    var tensor: Tensor? { wrappedValue.moduleTensor }
}

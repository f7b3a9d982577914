/// What an optimizer remembers about one parameter.
public struct ParameterState: Sendable {
    public var tensors: [String: Tensor] = [:]
    public var scalars: [String: Double] = [:]

    public init() {}

    public var isEmpty: Bool { tensors.isEmpty && scalars.isEmpty }
}

/// Per-parameter optimizer state, keyed by the parameter tensor's identity (as PyTorch
/// keys `optimizer.state` by parameter).
public struct ParameterStates: Sendable {
    private var entries: [ObjectIdentifier: ParameterState] = [:]

    public init() {}

    /// The state of `parameter`, empty before its first step.
    public subscript(parameter: Tensor) -> ParameterState {
        get { entries[ObjectIdentifier(parameter)] ?? ParameterState() }
        set { entries[ObjectIdentifier(parameter)] = newValue }
    }
}

/// max(x, 0) elementwise (`nn.ReLU`).
public final class ReLU: Module, UnaryLayer {
    public override init() { super.init() }

    public func callAsFunction(_ x: Tensor) -> Tensor { x.relu() }
}

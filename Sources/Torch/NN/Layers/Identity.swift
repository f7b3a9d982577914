/// Returns its input (`nn.Identity`): it stands where a layer is removed, such as a
/// classifier replaced for feature extraction.
public final class Identity: Module, UnaryLayer {
    public override init() { super.init() }

    public func callAsFunction(_ x: Tensor) -> Tensor { x }
}

/// max(x, 0) elementwise (`nn.ReLU`). `inplace` overwrites its input, as `nn.ReLU(inplace=True)`:
/// one activation less to keep, safe after layers whose backward does not need their output
/// (convolutions, batch norm, additions), which is where torchvision's ResNet uses it.
public final class ReLU: Module, UnaryLayer {
    public let inplace: Bool

    public init(inplace: Bool = false) {
        self.inplace = inplace
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { inplace ? x.relu_() : x.relu() }
}

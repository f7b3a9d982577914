/// Flattens dimensions `startDim...endDim` into one (`nn.Flatten`, the batch dimension kept
/// by default).
public final class Flatten: Module, UnaryLayer {
    public let startDim: Int
    public let endDim: Int

    public init(startDim: Int = 1, endDim: Int = -1) {
        self.startDim = startDim
        self.endDim = endDim
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { x.flatten(start: startDim, end: endDim) }
}

/// Layers applied one after the other (`nn.Sequential`); their names are their
/// positions, "0", "1", …, as in PyTorch.
open class Sequential: Module, UnaryLayer {
    public let layers: [any UnaryLayer]

    public init(_ layers: [any UnaryLayer]) {
        self.layers = layers
        super.init()
    }

    public convenience init(_ layers: any UnaryLayer...) { self.init(layers) }

    open override func namedChildren() -> [(name: String, module: Module)] {
        layers.enumerated().map { (String($0.offset), $0.element) }
    }

    open func callAsFunction(_ x: Tensor) -> Tensor {
        layers.reduce(x) { input, layer in layer(input) }
    }
}

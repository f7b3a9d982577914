/// y = x·Wᵀ + b (`nn.Linear`), with weight [out, in] and bias [out].
///
/// Initialised as PyTorch: the weight by He uniform with a = √5, which is U(±1/√in),
/// and the bias by U(±1/√in).
open class Linear: Module, UnaryLayer {
    @Parameter public var weight: Tensor
    @Parameter public var bias: Tensor?

    public let inFeatures: Int
    public let outFeatures: Int

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, dtype: DType = .float32,
                device: Device = .cpu, generator: Generator? = nil) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        let weight = Tensor.zeros([outFeatures, inFeatures], dtype: dtype, device: device)
        Init.kaimingUniform_(weight, a: 5.0.squareRoot(), generator: generator)
        self.weight = weight
        self.bias = bias ? fanInBias([outFeatures], fanIn: inFeatures, dtype: dtype, device: device, generator: generator) : nil
        super.init()
    }

    open func callAsFunction(_ x: Tensor) -> Tensor {
        linear(x, weight: weight, bias: bias)
    }
}

/// The default bias of PyTorch's linear and convolution layers: U(±1/√fan_in), zeros
/// when fan_in is 0.
func fanInBias(_ shape: [Int], fanIn: Int, dtype: DType, device: Device, generator: Generator?) -> Tensor {
    let bias = Tensor.zeros(shape, dtype: dtype, device: device)
    if fanIn > 0 {
        let bound = 1 / Double(fanIn).squareRoot()
        Init.uniform_(bias, -bound, bound, generator: generator)
    }
    return bias
}

/// 2-d convolution (`nn.Conv2d`) of [N, in, H, W] by a weight [out, in/groups, kH, kW],
/// with an optional bias [out]. Zero padding only.
///
/// Initialised as PyTorch: the weight by He uniform with a = √5 and the bias by
/// U(±1/√fan_in), fan_in = in/groups · kH · kW. torchvision's ResNet re-initialises the
/// weight with `Init.kaimingNormal_(…, mode: .fanOut, nonlinearity: .relu)`.
open class Conv2d: Module, UnaryLayer {
    @Parameter public var weight: Tensor
    @Parameter public var bias: Tensor?

    public let inChannels: Int
    public let outChannels: Int
    public let kernelSize: Size2
    public let stride: Size2
    public let padding: Size2
    public let dilation: Size2
    public let groups: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Size2, stride: Size2 = 1, padding: Size2 = 0,
                dilation: Size2 = 1, groups: Int = 1, bias: Bool = true, dtype: DType = .float32,
                device: Device = .cpu, generator: Generator? = nil) {
        precondition(groups > 0 && inChannels % groups == 0 && outChannels % groups == 0,
                     "Conv2d: in (\(inChannels)) and out (\(outChannels)) channels must be divisible by groups (\(groups))")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        let shape = [outChannels, inChannels / groups, kernelSize.height, kernelSize.width]
        let weight = Tensor.zeros(shape, dtype: dtype, device: device)
        Init.kaimingUniform_(weight, a: 5.0.squareRoot(), generator: generator)
        self.weight = weight
        self.bias = bias
            ? fanInBias([outChannels], fanIn: Init.fans(shape).fanIn, dtype: dtype, device: device, generator: generator)
            : nil
        super.init()
    }

    open func callAsFunction(_ x: Tensor) -> Tensor {
        conv2d(x, weight: weight, bias: bias, stride: stride.array, padding: padding.array,
               dilation: dilation.array, groups: groups)
    }
}

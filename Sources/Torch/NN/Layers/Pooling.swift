/// Maximum over windows of [N, C, H, W] (`nn.MaxPool2d`); the stride defaults to the
/// kernel size, as in PyTorch.
public final class MaxPool2d: Module, UnaryLayer {
    public let kernelSize: Size2
    public let stride: Size2
    public let padding: Size2
    public let dilation: Size2
    public let ceilMode: Bool

    public init(kernelSize: Size2, stride: Size2? = nil, padding: Size2 = 0, dilation: Size2 = 1,
                ceilMode: Bool = false) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
        self.dilation = dilation
        self.ceilMode = ceilMode
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        maxPool2d(x, kernel: kernelSize.array, stride: stride.array, padding: padding.array,
                  dilation: dilation.array, ceilMode: ceilMode)
    }
}

/// Average pooling of [N, C, H, W] to a fixed [H', W'] whatever the input size
/// (`nn.AdaptiveAvgPool2d`); 1 gives global average pooling.
public final class AdaptiveAvgPool2d: Module, UnaryLayer {
    public let outputSize: Size2

    public init(outputSize: Size2) {
        self.outputSize = outputSize
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { adaptiveAvgPool2d(x, outputSize: outputSize.array) }
}

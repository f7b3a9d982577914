/// Weight initialisation as `torch.nn.init`: the same fans, gains, bounds and standard
/// deviations. Each function fills its tensor in place without recording gradients and
/// draws from `generator` (the default generator when nil).
public enum Init {
    /// Which fan scales the variance: `fanIn` preserves it in the forward pass, `fanOut`
    /// in the backward pass.
    public enum FanMode: Sendable { case fanIn, fanOut }

    /// The nonlinearity that follows the layer, which sets the recommended gain.
    public enum Nonlinearity: Sendable {
        /// Also for convolutions, as PyTorch's "conv2d" etc.
        case linear, sigmoid, tanh, relu, leakyReLU, selu
    }

    /// `(fan_in, fan_out)` of a weight shaped [out, in, k…] (`_calculate_fan_in_and_fan_out`).
    public static func fans(_ shape: [Int]) -> (fanIn: Int, fanOut: Int) {
        precondition(shape.count >= 2, "fan in and fan out need at least 2 dimensions, got shape \(shape)")
        let receptiveField = shape.dropFirst(2).reduce(1, *)
        return (shape[1] * receptiveField, shape[0] * receptiveField)
    }

    /// The recommended gain (`calculate_gain`); `negativeSlope` is leaky ReLU's.
    public static func gain(_ nonlinearity: Nonlinearity, negativeSlope: Double = 0.01) -> Double {
        switch nonlinearity {
        case .linear, .sigmoid: return 1
        case .tanh: return 5.0 / 3
        case .relu: return 2.0.squareRoot()
        case .leakyReLU: return (2 / (1 + negativeSlope * negativeSlope)).squareRoot()
        case .selu: return 3.0 / 4
        }
    }

    /// The standard deviation of He initialisation: gain / √fan.
    public static func kaimingStd(shape: [Int], a: Double = 0, mode: FanMode = .fanIn,
                                  nonlinearity: Nonlinearity = .leakyReLU) -> Double {
        let (fanIn, fanOut) = fans(shape)
        let fan = mode == .fanIn ? fanIn : fanOut
        return gain(nonlinearity, negativeSlope: a) / Double(fan).squareRoot()
    }

    /// The bound b of He's uniform initialisation U(−b, b): √3 · std.
    public static func kaimingUniformBound(shape: [Int], a: Double = 0, mode: FanMode = .fanIn,
                                           nonlinearity: Nonlinearity = .leakyReLU) -> Double {
        3.0.squareRoot() * kaimingStd(shape: shape, a: a, mode: mode, nonlinearity: nonlinearity)
    }

    /// He uniform initialisation (`kaiming_uniform_`). `a` is the negative slope of the
    /// leaky ReLU; `a = √5` is what `nn.Linear` and `nn.Conv2d` use by default.
    @discardableResult
    public static func kaimingUniform_(_ tensor: Tensor, a: Double = 0, mode: FanMode = .fanIn,
                                       nonlinearity: Nonlinearity = .leakyReLU, generator: Generator? = nil) -> Tensor {
        let bound = kaimingUniformBound(shape: tensor.shape, a: a, mode: mode, nonlinearity: nonlinearity)
        return uniform_(tensor, -bound, bound, generator: generator)
    }

    /// He normal initialisation (`kaiming_normal_`); torchvision's ResNet uses
    /// `mode: .fanOut, nonlinearity: .relu` for its convolutions.
    @discardableResult
    public static func kaimingNormal_(_ tensor: Tensor, a: Double = 0, mode: FanMode = .fanIn,
                                      nonlinearity: Nonlinearity = .leakyReLU, generator: Generator? = nil) -> Tensor {
        let std = kaimingStd(shape: tensor.shape, a: a, mode: mode, nonlinearity: nonlinearity)
        return normal_(tensor, mean: 0, std: std, generator: generator)
    }

    /// Uniform samples in [low, high).
    @discardableResult
    public static func uniform_(_ tensor: Tensor, _ low: Double, _ high: Double, generator: Generator? = nil) -> Tensor {
        withNoGrad { tensor.uniform_(low, high, generator: generator) }
    }

    @discardableResult
    public static func normal_(_ tensor: Tensor, mean: Double = 0, std: Double = 1, generator: Generator? = nil) -> Tensor {
        withNoGrad { tensor.normal_(mean: mean, std: std, generator: generator) }
    }

    /// Fills with one value (`constant_`, and `zeros_`/`ones_` with 0 and 1).
    @discardableResult
    public static func constant_(_ tensor: Tensor, _ value: Double) -> Tensor {
        withNoGrad { tensor.fill_(.double(value)) }
    }
}

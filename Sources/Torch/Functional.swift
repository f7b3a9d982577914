import CTorch

// Neural-network functions with PyTorch's semantics (torch.nn.functional).

/// 2-d convolution of [N, C, H, W] by weights [O, C/groups, kH, kW].
public func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: [Int] = [1, 1],
                   padding: [Int] = [0, 0], dilation: [Int] = [1, 1], groups: Int = 1) -> Tensor {
    withExtendedLifetime(bias) {
        Tensor.make { out in
            withInt64s(stride) { s, _ in withInt64s(padding) { p, _ in withInt64s(dilation) { d, _ in
                ct_conv2d(x.handle, weight.handle, bias?.handle, s, p, d, Int64(groups), out)
            } } }
        }
    }
}

/// Batch normalisation as PyTorch defines it. In training the batch statistics normalise
/// (biased variance) and the running statistics, when given, are updated in place:
/// `running = (1 − momentum)·running + momentum·batch`, with the unbiased variance.
/// In evaluation the running statistics normalise.
public func batchNorm(_ x: Tensor, weight: Tensor? = nil, bias: Tensor? = nil, runningMean: Tensor? = nil,
                      runningVar: Tensor? = nil, training: Bool, momentum: Double = 0.1, eps: Double = 1e-5) -> Tensor {
    withExtendedLifetime((weight, bias, runningMean, runningVar)) {
        Tensor.make {
            ct_batch_norm(x.handle, weight?.handle, bias?.handle, runningMean?.handle, runningVar?.handle,
                          training ? 1 : 0, momentum, eps, $0)
        }
    }
}

/// x · wᵀ + b
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
    withExtendedLifetime(bias) { Tensor.make { ct_linear(x.handle, weight.handle, bias?.handle, $0) } }
}

public func maxPool2d(_ x: Tensor, kernel: [Int], stride: [Int]? = nil, padding: [Int] = [0, 0],
                      dilation: [Int] = [1, 1], ceilMode: Bool = false) -> Tensor {
    Tensor.make { out in
        withInt64s(kernel) { k, _ in withInt64s(stride ?? kernel) { s, _ in withInt64s(padding) { p, _ in
            withInt64s(dilation) { d, _ in ct_max_pool2d(x.handle, k, s, p, d, ceilMode ? 1 : 0, out) }
        } } }
    }
}

public func avgPool2d(_ x: Tensor, kernel: [Int], stride: [Int]? = nil, padding: [Int] = [0, 0],
                      ceilMode: Bool = false, countIncludePad: Bool = true) -> Tensor {
    Tensor.make { out in
        withInt64s(kernel) { k, _ in withInt64s(stride ?? kernel) { s, _ in withInt64s(padding) { p, _ in
            ct_avg_pool2d(x.handle, k, s, p, ceilMode ? 1 : 0, countIncludePad ? 1 : 0, out)
        } } }
    }
}

/// Average pooling to a fixed output size [H, W].
public func adaptiveAvgPool2d(_ x: Tensor, outputSize: [Int]) -> Tensor {
    Tensor.make { out in withInt64s(outputSize) { s, _ in ct_adaptive_avg_pool2d(x.handle, s, out) } }
}

/// How `interpolate` and `gridSample` weigh the pixels around a sampled point.
public enum InterpolationMode: CaseIterable, Sendable {
    case nearest, bilinear, bicubic

    /// The bridge's constant for this mode.
    var code: Int32 {
        switch self {
        case .nearest: return Int32(CT_INTERP_NEAREST)
        case .bilinear: return Int32(CT_INTERP_BILINEAR)
        case .bicubic: return Int32(CT_INTERP_BICUBIC)
        }
    }
}

/// Resizes [N, C, H, W] to `size` = [H', W'] (`F.interpolate`); `antialias` as torchvision's resize.
public func interpolate(_ x: Tensor, size: [Int], mode: InterpolationMode = .bilinear,
                        alignCorners: Bool = false, antialias: Bool = false) -> Tensor {
    Tensor.make { out in
        withInt64s(size) { s, _ in ct_interpolate(x.handle, mode.code, s, alignCorners ? 1 : 0, antialias ? 1 : 0, out) }
    }
}

/// Sampling grid [N, H, W, 2] for affine matrices θ [N, 2, 3] (`F.affine_grid`), size = [N, C, H, W].
public func affineGrid(_ theta: Tensor, size: [Int], alignCorners: Bool = false) -> Tensor {
    Tensor.make { out in withInt64s(size) { ct_affine_grid(theta.handle, $0, $1, alignCorners ? 1 : 0, out) } }
}

/// What `gridSample` reads outside the input.
public enum GridPadding: CaseIterable, Sendable {
    case zeros, border, reflection

    /// The bridge's constant for this padding.
    var code: Int32 {
        switch self {
        case .zeros: return Int32(CT_GRID_PADDING_ZEROS)
        case .border: return Int32(CT_GRID_PADDING_BORDER)
        case .reflection: return Int32(CT_GRID_PADDING_REFLECTION)
        }
    }
}

/// Samples `x` at the normalised grid positions (`F.grid_sample`).
public func gridSample(_ x: Tensor, grid: Tensor, mode: InterpolationMode = .bilinear, padding: GridPadding = .zeros,
                       alignCorners: Bool = false) -> Tensor {
    Tensor.make { ct_grid_sample(x.handle, grid.handle, mode.code, padding.code, alignCorners ? 1 : 0, $0) }
}

/// Zeroes elements with probability p and scales the rest by 1/(1−p), in training only.
public func dropout(_ x: Tensor, p: Double, training: Bool) -> Tensor {
    Tensor.make { ct_dropout(x.handle, p, training ? 1 : 0, $0) }
}

/// How a loss reduces over the batch.
public enum Reduction: CaseIterable, Sendable {
    case none, mean, sum

    /// The bridge's constant for this reduction.
    var code: Int32 {
        switch self {
        case .none: return Int32(CT_REDUCTION_NONE)
        case .mean: return Int32(CT_REDUCTION_MEAN)
        case .sum: return Int32(CT_REDUCTION_SUM)
        }
    }
}

/// Cross-entropy of logits [N, C] against class indices [N] (`F.cross_entropy`).
public func crossEntropy(_ logits: Tensor, _ target: Tensor, weight: Tensor? = nil, reduction: Reduction = .mean,
                         ignoreIndex: Int = -100, labelSmoothing: Double = 0) -> Tensor {
    withExtendedLifetime(weight) {
        Tensor.make {
            ct_cross_entropy(logits.handle, target.handle, weight?.handle, reduction.code, Int64(ignoreIndex),
                             labelSmoothing, $0)
        }
    }
}

/// The Barlow Twins loss of a cross-correlation matrix c [D, D]:
/// `scale · [Σ_i (c_ii − invarianceTarget)² + lambda · Σ_{i≠j} c_ij²]`, a 0-d tensor. One node,
/// whose backward forms dL/dc as a single D × D tensor where the composed ops' backward holds
/// four (1 GiB at D = 8192). No second derivative.
public func barlowTwinsLoss(_ c: Tensor, lambda: Double, invarianceTarget: Double = 1, scale: Double = 1) -> Tensor {
    Tensor.make { ct_barlow_twins_loss(c.handle, lambda, invarianceTarget, scale, $0) }
}

/// One-hot encoding of int64 class indices.
public func oneHot(_ indices: Tensor, numClasses: Int) -> Tensor {
    Tensor.make { ct_one_hot(indices.handle, Int64(numClasses), $0) }
}

/// How `pad` fills the border: with a constant, a mirror image, or the edge repeated.
public enum PaddingMode: CaseIterable, Sendable {
    case constant, reflect, replicate

    /// The bridge's constant for this mode.
    var code: Int32 {
        switch self {
        case .constant: return Int32(CT_PAD_CONSTANT)
        case .reflect: return Int32(CT_PAD_REFLECT)
        case .replicate: return Int32(CT_PAD_REPLICATE)
        }
    }
}

/// Pads the last dimensions: `pad` = [left, right, top, bottom] (`F.pad`).
public func pad(_ x: Tensor, _ pad: [Int], mode: PaddingMode = .constant, value: Double = 0) -> Tensor {
    Tensor.make { out in withInt64s(pad) { ct_pad(x.handle, $0, $1, mode.code, value, out) } }
}

/// Scales vectors along `dim` to unit p-norm (`F.normalize`).
public func normalize(_ x: Tensor, p: Double = 2, dim: Int = 1, eps: Double = 1e-12) -> Tensor {
    x / x.norm(p: p, dims: [dim], keepDims: true).clamp(min: eps)
}

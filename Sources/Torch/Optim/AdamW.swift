import Foundation

/// Adam with decoupled weight decay, step for step as `torch.optim.AdamW`
/// (no AMSGrad):
///
///     p ← p·(1 − lr·wd)
///     m ← β₁·m + (1 − β₁)·g,  v ← β₂·v + (1 − β₂)·g²
///     p ← p − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
public final class AdamW: Optimizer {
    public var parameterGroups: [ParameterGroup]
    public var state = ParameterStates()
    public let beta1: Double
    public let beta2: Double
    public let eps: Double

    public var stateNames: Set<String> { ["exp_avg", "exp_avg_sq", "step"] }

    public init(groups: [ParameterGroup], beta1: Double = 0.9, beta2: Double = 0.999, eps: Double = 1e-8) {
        self.parameterGroups = groups
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
    }

    /// One group of parameters; PyTorch's default weight decay is 0.01.
    public convenience init(_ params: [Tensor], lr: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999,
                            eps: Double = 1e-8, weightDecay: Double = 0.01) {
        self.init(groups: [ParameterGroup(params: params, lr: lr, weightDecay: weightDecay)],
                  beta1: beta1, beta2: beta2, eps: eps)
    }

    public func step() {
        withNoGrad {
            for group in parameterGroups {
                for parameter in group.params {
                    guard let grad = parameter.grad else { continue }
                    var entry = state[parameter]
                    let expAvg = entry.tensors["exp_avg"] ?? Tensor.zeros(like: parameter)
                    let expAvgSq = entry.tensors["exp_avg_sq"] ?? Tensor.zeros(like: parameter)
                    let step = (entry.scalars["step"] ?? 0) + 1
                    entry.tensors["exp_avg"] = expAvg
                    entry.tensors["exp_avg_sq"] = expAvgSq
                    entry.scalars["step"] = step
                    state[parameter] = entry

                    parameter.mul_(1 - group.lr * group.weightDecay)
                    expAvg.lerp_(grad, weight: 1 - beta1)
                    expAvgSq.mul_(beta2).addcmul_(grad, grad, value: 1 - beta2)
                    let biasCorrection1 = 1 - Foundation.pow(beta1, step)
                    let biasCorrection2 = 1 - Foundation.pow(beta2, step)
                    let denominator = (expAvgSq.sqrt() / biasCorrection2.squareRoot()).add_(eps)
                    parameter.addcdiv_(expAvg, denominator, value: -group.lr / biasCorrection1)
                }
            }
        }
    }
}

/// LARS (layer-wise adaptive rate scaling) exactly as the Barlow Twins reference
/// (facebookresearch/barlowtwins, main.py), which the paper trains with:
///
///     d ← g + wd·p
///     d ← d · η‖p‖/‖d‖   (1 when ‖p‖ or ‖d‖ is 0: the trust ratio)
///     μ ← momentum·μ + d
///     p ← p − lr·μ
///
/// With `excludeBiasAndNorm` (the reference's setting), parameters of one dimension —
/// biases and BatchNorm's weight and bias — get neither weight decay nor the trust
/// ratio: for them d = g.
public final class LARS: Optimizer {
    public var parameterGroups: [ParameterGroup]
    public var state = ParameterStates()
    public let momentum: Double
    /// The trust coefficient η.
    public let eta: Double
    public let excludeBiasAndNorm: Bool

    public var stateNames: Set<String> { ["mu"] }

    public init(groups: [ParameterGroup], momentum: Double = 0.9, eta: Double = 0.001,
                excludeBiasAndNorm: Bool = true) {
        self.parameterGroups = groups
        self.momentum = momentum
        self.eta = eta
        self.excludeBiasAndNorm = excludeBiasAndNorm
    }

    public func step() {
        withNoGrad {
            for group in parameterGroups {
                for parameter in group.params {
                    guard let grad = parameter.grad else { continue }
                    var direction = grad
                    if !(excludeBiasAndNorm && parameter.rank == 1) {
                        direction = grad.clone().add_(parameter, alpha: group.weightDecay)
                        let parameterNorm = parameter.norm()
                        let updateNorm = direction.norm()
                        let one = Tensor.ones(like: parameterNorm)
                        // Computed on the device: no synchronisation to read the norms.
                        let trustRatio = `where`(parameterNorm .> 0,
                                                 `where`(updateNorm .> 0, eta * parameterNorm / updateNorm, one), one)
                        direction = direction * trustRatio
                    }
                    let mu: Tensor
                    if let existing = state[parameter].tensors["mu"] {
                        mu = existing
                    } else {
                        mu = Tensor.zeros(like: parameter)
                        state[parameter].tensors["mu"] = mu
                    }
                    mu.mul_(momentum).add_(direction)
                    parameter.add_(mu, alpha: -group.lr)
                }
            }
        }
    }
}

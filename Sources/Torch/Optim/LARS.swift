import CTorch

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
///
/// The update runs in the bridge (lars.cpp), one call per parameter: on the CPU in two passes
/// over memory instead of the composed ops' seventeen or so.
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

    /// False takes the composed ATen ops on the CPU too, which the tests compare against.
    var fusesOnCPU = true

    public func step() {
        withNoGrad {
            for group in parameterGroups {
                for parameter in group.params {
                    guard let grad = parameter.grad else { continue }
                    let mu: Tensor
                    if let existing = state[parameter].tensors["mu"] {
                        mu = existing
                    } else {
                        mu = Tensor.zeros(like: parameter)
                        state[parameter].tensors["mu"] = mu
                    }
                    let scaled = !(excludeBiasAndNorm && parameter.rank == 1)
                    check(ct_lars_update_(parameter.handle, grad.handle, mu.handle, group.lr, group.weightDecay, momentum,
                                          eta, scaled ? 1 : 0, fusesOnCPU ? 1 : 0))
                }
            }
        }
    }
}

/// Stochastic gradient descent with momentum, dampening, Nesterov momentum and (L2)
/// weight decay, step for step as `torch.optim.SGD`:
///
///     d ← g + wd·p
///     b ← d (first step), else b ← μ·b + (1 − dampening)·d
///     d ← d + μ·b (Nesterov), else d ← b
///     p ← p − lr·d
public final class SGD: Optimizer {
    public var parameterGroups: [ParameterGroup]
    public var state = ParameterStates()
    public let momentum: Double
    public let dampening: Double
    public let nesterov: Bool

    public var stateNames: Set<String> { ["momentum_buffer"] }

    public init(groups: [ParameterGroup], momentum: Double = 0, dampening: Double = 0, nesterov: Bool = false) {
        precondition(!nesterov || (momentum > 0 && dampening == 0), "SGD: Nesterov momentum needs momentum > 0 and no dampening")
        self.parameterGroups = groups
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
    }

    /// One group of parameters.
    public convenience init(_ params: [Tensor], lr: Double, momentum: Double = 0, dampening: Double = 0,
                            weightDecay: Double = 0, nesterov: Bool = false) {
        self.init(groups: [ParameterGroup(params: params, lr: lr, weightDecay: weightDecay)],
                  momentum: momentum, dampening: dampening, nesterov: nesterov)
    }

    public func step() {
        withNoGrad {
            for group in parameterGroups {
                for parameter in group.params {
                    guard let grad = parameter.grad else { continue }
                    var direction = grad
                    if group.weightDecay != 0 { direction = grad.clone().add_(parameter, alpha: group.weightDecay) }
                    if momentum != 0 {
                        let buffer: Tensor
                        if let existing = state[parameter].tensors["momentum_buffer"] {
                            buffer = existing.mul_(momentum).add_(direction, alpha: 1 - dampening)
                        } else {
                            buffer = direction.clone()
                            state[parameter].tensors["momentum_buffer"] = buffer
                        }
                        direction = nesterov ? direction.clone().add_(buffer, alpha: momentum) : buffer
                    }
                    parameter.add_(direction, alpha: -group.lr)
                }
            }
        }
    }
}

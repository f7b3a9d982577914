/// An optimizer over groups of parameters with explicit, saveable state.
///
/// `step()` reads each parameter's `grad` and skips parameters without one, as PyTorch;
/// it updates the parameters in place, so the modules that own them see the change.
public protocol Optimizer: AnyObject {
    var parameterGroups: [ParameterGroup] { get set }
    /// What the optimizer remembers per parameter (momentum buffers, moments, counts).
    var state: ParameterStates { get set }
    /// The names of the per-parameter state, e.g. ["momentum_buffer"] or
    /// ["exp_avg", "exp_avg_sq", "step"]: what a checkpoint may bring back.
    var stateNames: Set<String> { get }
    /// Updates every parameter that has a gradient.
    func step()
}

extension Optimizer {
    /// Every parameter, group by group: the numbering of the exported state.
    public var parameters: [Tensor] { parameterGroups.flatMap(\.params) }

    /// Forgets the gradients (sets them to nil, PyTorch's `set_to_none=True`).
    public func zeroGrad() {
        for parameter in parameters { parameter.grad = nil }
    }

    /// Sets each group's rate to its initial rate times `schedule(step)`.
    public func applySchedule(_ schedule: some LearningRateSchedule, step: Int) {
        let factor = schedule(step)
        for index in parameterGroups.indices {
            parameterGroups[index].lr = parameterGroups[index].initialLR * factor
        }
    }

    /// The state to checkpoint, named as PyTorch's `optimizer.state_dict()` where it can be:
    /// `state.<i>.<name>` for parameter i (numbered over all groups in order), and
    /// `param_groups.<g>.lr`, `.initial_lr`, `.weight_decay`, `.params` (their count).
    public func stateDict() -> OptimizerState {
        var result = OptimizerState()
        for (index, parameter) in parameters.enumerated() {
            let entry = state[parameter]
            for (name, tensor) in entry.tensors { result.tensors["state.\(index).\(name)"] = tensor }
            for (name, value) in entry.scalars { result.scalars["state.\(index).\(name)"] = value }
        }
        for (index, group) in parameterGroups.enumerated() {
            result.scalars["param_groups.\(index).lr"] = group.lr
            result.scalars["param_groups.\(index).initial_lr"] = group.initialLR
            result.scalars["param_groups.\(index).weight_decay"] = group.weightDecay
            result.scalars["param_groups.\(index).params"] = Double(group.params.count)
        }
        return result
    }

    /// Restores a state written by `stateDict()` of an optimizer of the same kind over the
    /// same parameters. State tensors are copied to each parameter's device and dtype.
    /// Nothing changes when the state does not fit; the error names the offending key.
    public func load(stateDict saved: OptimizerState) throws {
        let parameters = self.parameters
        var states = [ParameterState](repeating: ParameterState(), count: parameters.count)
        for (key, tensor) in saved.tensors {
            let (index, name) = try parameterKey(key, count: parameters.count)
            try checkStateName(name, key: key)
            let parameter = parameters[index]
            guard tensor.shape == parameter.shape else {
                throw OptimizerStateError(key: key, problem: "has shape \(tensor.shape), the parameter \(parameter.shape)")
            }
            states[index].tensors[name] = withNoGrad { tensor.detach().to(parameter.device, parameter.dtype).clone() }
        }
        for (key, value) in saved.scalars where key.hasPrefix("state.") {
            let (index, name) = try parameterKey(key, count: parameters.count)
            try checkStateName(name, key: key)
            states[index].scalars[name] = value
        }
        var groups = parameterGroups
        for (index, group) in groups.enumerated() {
            func value(_ name: String) throws -> Double {
                let key = "param_groups.\(index).\(name)"
                guard let value = saved.scalars[key] else { throw OptimizerStateError(key: key, problem: "is missing") }
                return value
            }
            guard try Int(value("params")) == group.params.count else {
                throw OptimizerStateError(key: "param_groups.\(index).params",
                                          problem: "is \(try value("params")), the optimizer's group has \(group.params.count)")
            }
            groups[index].lr = try value("lr")
            groups[index].initialLR = try value("initial_lr")
            groups[index].weightDecay = try value("weight_decay")
        }
        let groupKeys = saved.scalars.keys.filter { $0.hasPrefix("param_groups.") }
        if let extra = groupKeys.first(where: { key in
            !(0..<groups.count).contains(where: { key.hasPrefix("param_groups.\($0).") })
        }) {
            throw OptimizerStateError(key: extra, problem: "names a group the optimizer lacks (it has \(groups.count))")
        }
        if let extra = saved.scalars.keys.first(where: { !$0.hasPrefix("state.") && !$0.hasPrefix("param_groups.") }) {
            throw OptimizerStateError(key: extra, problem: "is not optimizer state")
        }
        parameterGroups = groups
        var restored = ParameterStates()
        for (parameter, entry) in zip(parameters, states) where !entry.isEmpty { restored[parameter] = entry }
        state = restored
    }
}

extension Optimizer {
    private func checkStateName(_ name: String, key: String) throws {
        guard stateNames.contains(name) else {
            throw OptimizerStateError(key: key, problem: "is not state of this optimizer (it keeps \(stateNames.sorted()))")
        }
    }
}

/// Parses `state.<i>.<name>`.
private func parameterKey(_ key: String, count: Int) throws -> (index: Int, name: String) {
    let parts = key.split(separator: ".", maxSplits: 2)
    guard parts.count == 3, parts[0] == "state", let index = Int(parts[1]) else {
        throw OptimizerStateError(key: key, problem: "is not of the form state.<parameter index>.<name>")
    }
    guard (0..<count).contains(index) else {
        throw OptimizerStateError(key: key, problem: "names parameter \(index), the optimizer has \(count)")
    }
    return (index, String(parts[2]))
}

/// An optimizer's state as plain data: tensors and numbers by name, for checkpoints.
public struct OptimizerState: Sendable {
    public var tensors: [String: Tensor]
    public var scalars: [String: Double]

    public init(tensors: [String: Tensor] = [:], scalars: [String: Double] = [:]) {
        self.tensors = tensors
        self.scalars = scalars
    }
}

/// A saved optimizer state that does not fit the optimizer.
public struct OptimizerStateError: Error, CustomStringConvertible, Sendable {
    public var key: String
    public var problem: String
    public var description: String { "optimizer state: \(key) \(problem)" }
}

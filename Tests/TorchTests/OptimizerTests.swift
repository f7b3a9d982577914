import Foundation
import Testing
@testable import Torch

/// Optimizer steps against PyTorch (fixture optim.json from make_fixtures.py) and by hand.
@Suite("Optimizers")
struct OptimizerTests {
    let fixture: [String: Any]

    init() throws { fixture = try NNFixture.load("optim") }

    /// Fresh copies of the fixture's parameters (a [3, 4] weight, a [4] bias, a zero [2, 2]).
    private func initialParameters() throws -> [Tensor] {
        let initial = try #require(fixture["initial"] as? [Any])
        return try initial.map { try NNFixture.tensor($0).requiresGrad_() }
    }

    /// Runs the fixture's three steps of gradients and compares every parameter after each.
    private func expectTrajectory(_ name: String, _ makeOptimizer: ([Tensor]) -> any Optimizer) throws {
        let parameters = try initialParameters()
        let optimizer = makeOptimizer(parameters)
        let grads = try #require(fixture["grads"] as? [[Any]])
        let trajectory = try #require(fixture[name] as? [[Any]])
        for (step, (stepGrads, expected)) in zip(grads, trajectory).enumerated() {
            for (parameter, grad) in zip(parameters, stepGrads) { parameter.grad = try NNFixture.tensor(grad) }
            optimizer.step()
            for (index, (parameter, value)) in zip(parameters, expected).enumerated() {
                #expect(close(parameter, try NNFixture.tensor(value), atol: 1e-6, rtol: 1e-5),
                        "\(name): parameter \(index) after step \(step + 1)")
            }
        }
    }

    @Test("plain SGD follows torch.optim.SGD over three steps")
    func sgdPlain() throws {
        try expectTrajectory("sgd_plain") { SGD($0, lr: 0.1) }
    }

    @Test("SGD with momentum, dampening and weight decay follows torch.optim.SGD over three steps")
    func sgdMomentum() throws {
        try expectTrajectory("sgd_momentum_dampening_wd") { SGD($0, lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01) }
    }

    @Test("SGD with Nesterov momentum follows torch.optim.SGD over three steps")
    func sgdNesterov() throws {
        try expectTrajectory("sgd_nesterov_wd") { SGD($0, lr: 0.05, momentum: 0.8, weightDecay: 0.02, nesterov: true) }
    }

    @Test("AdamW follows torch.optim.AdamW over three steps")
    func adamW() throws {
        try expectTrajectory("adamw") { AdamW($0, lr: 0.01, beta1: 0.9, beta2: 0.99, eps: 1e-6, weightDecay: 0.1) }
    }

    @Test("LARS follows the Barlow Twins update rule over three steps, with a zero parameter and a zero update")
    func larsMatchesReference() throws {
        try expectTrajectory("lars") {
            LARS(groups: ParameterGroup.weightsAndBiases($0, weightLR: 0.2, biasLR: 0.0048, weightDecay: 0.01))
        }
    }

    @Test("SGD with momentum and weight decay computes the hand-derived update")
    func sgdByHand() {
        let p = Tensor([Float(1), 2]).requiresGrad_()
        let sgd = SGD([p], lr: 0.1, momentum: 0.9, weightDecay: 0.1)
        var value = [1.0, 2.0]
        var buffer: [Double] = []
        for g in [[0.5, -1.0], [1.0, 1.0], [-2.0, 0.25]] {
            p.grad = Tensor(g.map(Float.init))
            sgd.step()
            let d = zip(g, value).map { $0 + 0.1 * $1 }
            buffer = buffer.isEmpty ? d : zip(buffer, d).map { 0.9 * $0 + $1 }
            value = zip(value, buffer).map { $0 - 0.1 * $1 }
            #expect(zip(p.toArray(Float.self), value).allSatisfy { Swift.abs(Double($0) - $1) < 1e-6 })
        }
    }

    @Test("AdamW's first step decays the weight and moves it by lr·g/(|g| + ε)")
    func adamWFirstStepByHand() {
        let p = Tensor([Float(1), -2, 0.5]).requiresGrad_()
        let g = [0.3, -0.01, 2.0]
        p.grad = Tensor(g.map(Float.init))
        AdamW([p], lr: 0.1, eps: 1e-8, weightDecay: 0.5).step()
        let expected = zip([1.0, -2, 0.5], g).map { p, g in p * (1 - 0.1 * 0.5) - 0.1 * g / (Swift.abs(g) + 1e-8) }
        #expect(zip(p.toArray(Float.self), expected).allSatisfy { Swift.abs(Double($0) - $1) < 1e-6 })
    }

    @Test("LARS scales a weight's update by η‖p‖/‖g + wd·p‖ and leaves biases unscaled and undecayed")
    func larsByHand() {
        let weight = Tensor([Float(3), 4], shape: [1, 2]).requiresGrad_()
        let bias = Tensor([Float(1)]).requiresGrad_()
        let zero = Tensor.zeros([2, 2]).requiresGrad_()
        let still = Tensor.ones([2, 2]).requiresGrad_()
        let lars = LARS(groups: [ParameterGroup(params: [weight, zero], lr: 0.5, weightDecay: 0.2),
                                 ParameterGroup(params: [bias], lr: 0.1, weightDecay: 0.2),
                                 ParameterGroup(params: [still], lr: 1, weightDecay: 0)])
        weight.grad = Tensor([Float(0), 1], shape: [1, 2])
        bias.grad = Tensor([Float(2)])
        zero.grad = Tensor.full([2, 2], 0.5)
        still.grad = Tensor.zeros([2, 2])
        lars.step()
        // d = g + 0.2·p = [0.6, 1.8]; trust ratio 0.001·5/‖d‖; μ = d·ratio; p ← p − 0.5·μ.
        let d = [0.6, 1.8]
        let ratio = 0.001 * 5 / (d[0] * d[0] + d[1] * d[1]).squareRoot()
        let expectedWeight = zip([3.0, 4.0], d).map { $0 - 0.5 * ratio * $1 }
        #expect(zip(weight.toArray(Float.self), expectedWeight).allSatisfy { Swift.abs(Double($0) - $1) < 1e-6 })
        #expect(Swift.abs(bias.toArray(Float.self)[0] - (1 - 0.1 * 2)) < 1e-6)
        // ‖p‖ = 0: the ratio falls back to 1 and the plain gradient is applied.
        #expect(zero.toArray(Float.self) == [Float](repeating: -0.25, count: 4))
        // ‖g + wd·p‖ = 0: the ratio is 1 too, not 0/0.
        #expect(still.toArray(Float.self) == [Float](repeating: 1, count: 4))
        // Second step: μ ← 0.9·μ + d.
        bias.grad = Tensor([Float(-1)])
        weight.grad = nil
        zero.grad = nil
        still.grad = nil
        lars.step()
        #expect(Swift.abs(bias.toArray(Float.self)[0] - (0.8 - 0.1 * (0.9 * 2 - 1))) < 1e-6)
    }

    @Test("LARS's two-pass CPU update equals the composed ATen ops, over many chunks, in float32 and float64",
          arguments: [DType.float32, .float64])
    func larsFusedEqualsComposed(dtype: DType) {
        // Sizes past several of the norms' 32,768-element chunks and not a multiple of their 8
        // lanes, a bias (unscaled, undecayed), a zero weight (ratio 1) and a transposed weight,
        // which is not contiguous and so takes the composed ops on both sides.
        let generator = Generator(seed: 7)
        let shapes = [[3, 32768 + 5], [300, 7], [11], [4, 4]]
        func parameters() -> [Tensor] {
            let made = shapes.map { Tensor.randn($0, dtype: dtype, generator: Generator(seed: UInt64($0.reduce(1, *)))) }
            made[3].mul_(0)
            return made + [Tensor.randn([6, 5], dtype: dtype, generator: Generator(seed: 3)).t]
        }
        let initial = parameters()
        let fused = parameters().map { $0.requiresGrad_() }
        let composed = parameters().map { $0.requiresGrad_() }
        func make(_ params: [Tensor]) -> LARS {
            LARS(groups: ParameterGroup.weightsAndBiases(params, weightLR: 0.3, biasLR: 0.01, weightDecay: 1e-3))
        }
        let fusedLARS = make(fused), composedLARS = make(composed)
        composedLARS.fusesOnCPU = false
        let tolerance = dtype == .float64 ? 1e-12 : 1e-5
        for step in 1...3 {
            for (a, b) in zip(fused, composed) {
                let grad = Tensor.randn(a.shape, dtype: dtype, generator: generator)
                a.grad = grad
                b.grad = grad.clone()
            }
            fusedLARS.step()
            composedLARS.step()
            for (index, (a, b)) in zip(fused, composed).enumerated() {
                #expect(close(a, b, atol: tolerance, rtol: tolerance), "\(dtype) parameter \(index) after step \(step)")
                #expect(!a.equal(initial[index]), "\(dtype) parameter \(index) moved")
            }
        }
    }

    @Test("parameters without a gradient are skipped and get no state")
    func skipsParametersWithoutGradient() {
        let a = Tensor([Float(1)]).requiresGrad_()
        let b = Tensor([Float(1)]).requiresGrad_()
        let sgd = SGD([a, b], lr: 1, momentum: 0.9)
        a.grad = Tensor([Float(1)])
        sgd.step()
        #expect(a.toArray(Float.self) == [0] && b.toArray(Float.self) == [1])
        #expect(sgd.stateDict().tensors.keys.sorted() == ["state.0.momentum_buffer"])
    }

    @Test("zeroGrad forgets every gradient")
    func zeroGrad() {
        let model = Linear(3, 2)
        model(Tensor.ones([1, 3])).sum().backward()
        let sgd = SGD(model.parameters(), lr: 0.1)
        #expect(model.parameters().allSatisfy { $0.grad != nil })
        sgd.zeroGrad()
        #expect(model.parameters().allSatisfy { $0.grad == nil })
    }

    @Test("weightsAndBiases puts parameters of one dimension in the second group, as the Barlow Twins reference")
    func weightsAndBiasesGroups() {
        let model = Sequential(Conv2d(3, 4, kernelSize: 3), BatchNorm2d(4), Flatten(), Linear(4, 2))
        let groups = ParameterGroup.weightsAndBiases(model.parameters(), weightLR: 0.2, biasLR: 0.0048, weightDecay: 1e-6)
        #expect(groups.map { $0.params.map(\.shape) } == [[[4, 3, 3, 3], [2, 4]], [[4], [4], [4], [2]]])
        #expect(groups.map(\.lr) == [0.2, 0.0048] && groups.allSatisfy { $0.weightDecay == 1e-6 })
    }

    @Test("a schedule sets each group's rate to its initial rate times the schedule's value")
    func applySchedule() {
        let lars = LARS(groups: ParameterGroup.weightsAndBiases(Linear(2, 2).parameters(), weightLR: 0.2, biasLR: 0.0048,
                                                                weightDecay: 0))
        let schedule = WarmupCosine(base: 2048.0 / 256, warmupSteps: 10, totalSteps: 100)
        lars.applySchedule(schedule, step: 5)
        #expect(lars.parameterGroups.map(\.lr) == [0.2 * schedule(5), 0.0048 * schedule(5)])
        #expect(lars.parameterGroups.map(\.initialLR) == [0.2, 0.0048])
    }

    /// Two optimizers over equal parameters; the first has taken steps.
    private func resumedPair(_ make: ([Tensor]) -> any Optimizer) -> (any Optimizer, any Optimizer, [Tensor], [Tensor]) {
        let source = [Tensor.randn([3, 2], generator: Generator(seed: 3)).requiresGrad_(), Tensor([Float(0.5), -1]).requiresGrad_()]
        let first = make(source)
        for seed in 0..<2 {
            for p in source { p.grad = Tensor.randn(p.shape, generator: Generator(seed: UInt64(10 + seed))) }
            first.step()
        }
        let copies = source.map { $0.detach().clone().requiresGrad_() }
        return (first, make(copies), source, copies)
    }

    @Test("exported state restored into a new optimizer continues exactly as the original")
    func stateRoundTrip() throws {
        for make in [{ AdamW($0, lr: 0.01) } as ([Tensor]) -> any Optimizer,
                     { SGD($0, lr: 0.1, momentum: 0.9) }, { LARS(groups: [ParameterGroup(params: $0, lr: 0.3)]) }] {
            let (original, restored, a, b) = resumedPair(make)
            original.parameterGroups[0].lr *= 0.5
            try restored.load(stateDict: original.stateDict())
            #expect(restored.parameterGroups[0].lr == original.parameterGroups[0].lr)
            for (p, q) in zip(a, b) {
                let g = Tensor.randn(p.shape, generator: Generator(seed: 99))
                p.grad = g
                q.grad = g.clone()
            }
            original.step()
            restored.step()
            for (p, q) in zip(a, b) { #expect(p.equal(q), "\(type(of: original))") }
        }
    }

    @Test("AdamW's exported state holds the moments and the step count under PyTorch's names")
    func adamWStateNames() {
        let (adam, _, _, _) = resumedPair { AdamW($0) }
        let state = adam.stateDict()
        #expect(state.tensors.keys.sorted() == ["state.0.exp_avg", "state.0.exp_avg_sq", "state.1.exp_avg", "state.1.exp_avg_sq"])
        #expect(state.scalars["state.0.step"] == 2 && state.scalars["param_groups.0.weight_decay"] == 0.01)
    }

    @Test("loading a state that does not fit names the offending key and changes nothing")
    func loadRejectsMismatchedState() {
        let (sgd, other, _, _) = resumedPair { SGD($0, lr: 0.1, momentum: 0.9) }
        var state = sgd.stateDict()
        state.tensors["state.0.momentum_buffer"] = Tensor.zeros([2, 3])
        #expect { try other.load(stateDict: state) } throws: { error in
            (error as? OptimizerStateError)?.key == "state.0.momentum_buffer"
        }
        #expect(other.stateDict().tensors.isEmpty)

        state = sgd.stateDict()
        state.tensors["state.5.momentum_buffer"] = Tensor.zeros([2])
        #expect { try other.load(stateDict: state) } throws: { ($0 as? OptimizerStateError)?.key == "state.5.momentum_buffer" }

        state = sgd.stateDict()
        state.tensors["state.0.exp_avg"] = state.tensors["state.0.momentum_buffer"]
        #expect { try other.load(stateDict: state) } throws: { ($0 as? OptimizerStateError)?.key == "state.0.exp_avg" }

        state = sgd.stateDict()
        state.scalars["param_groups.1.lr"] = 0.1
        #expect { try other.load(stateDict: state) } throws: { ($0 as? OptimizerStateError)?.key == "param_groups.1.lr" }
    }
}

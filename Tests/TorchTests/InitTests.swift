import Foundation
import Testing
import Torch

/// Initialisation against `torch.nn.init` (fixture init.json from make_fixtures.py).
@Suite("Init")
struct InitTests {
    let fixture: [String: Any]

    init() throws { fixture = try NNFixture.load("init") }

    /// The configurations of the fixture, by its labels.
    static let configs: [String: (a: Double, mode: Init.FanMode, nonlinearity: Init.Nonlinearity)] = [
        "a=sqrt5,fan_in,leaky_relu": (5.0.squareRoot(), .fanIn, .leakyReLU),
        "a=0,fan_out,relu": (0, .fanOut, .relu),
        "a=0,fan_in,tanh": (0, .fanIn, .tanh),
        "a=0.2,fan_out,leaky_relu": (0.2, .fanOut, .leakyReLU),
        "a=0,fan_in,linear": (0, .fanIn, .linear),
    ]

    @Test("fans, gains, standard deviations and bounds equal torch.nn.init's")
    func boundsMatchPyTorch() throws {
        let rows = try #require(fixture["bounds"] as? [[String: Any]])
        #expect(rows.count == 20)
        for row in rows {
            let shape = try #require(row["shape"] as? [Int])
            let label = try #require(row["config"] as? String)
            let config = try #require(Self.configs[label])
            let fans = Init.fans(shape)
            #expect(fans.fanIn == row["fan_in"] as? Int && fans.fanOut == row["fan_out"] as? Int, "\(shape)")
            let gain = Init.gain(config.nonlinearity, negativeSlope: config.a)
            let std = Init.kaimingStd(shape: shape, a: config.a, mode: config.mode, nonlinearity: config.nonlinearity)
            let bound = Init.kaimingUniformBound(shape: shape, a: config.a, mode: config.mode,
                                                 nonlinearity: config.nonlinearity)
            #expect(Swift.abs(gain - (row["gain"] as? Double ?? .nan)) < 1e-12, "\(label)")
            #expect(Swift.abs(std - (row["std"] as? Double ?? .nan)) < 1e-12, "\(label) \(shape)")
            #expect(Swift.abs(bound - (row["bound"] as? Double ?? .nan)) < 1e-12, "\(label) \(shape)")
        }
    }

    @Test("Linear draws the same initial weights and bias as torch.nn.Linear from the same seed")
    func linearInitialisationIsPyTorchs() throws {
        let expected = try NNFixture.state(fixture["linear_seed11"])
        let layer = Linear(5, 3, generator: Generator(seed: 11))
        #expect(layer.weight.allClose(expected["weight"]!, rtol: 0, atol: 1e-7))
        #expect(layer.bias!.allClose(expected["bias"]!, rtol: 0, atol: 1e-7))
    }

    @Test("Conv2d with groups draws the same initial weights and bias as torch.nn.Conv2d from the same seed")
    func convInitialisationIsPyTorchs() throws {
        let expected = try NNFixture.state(fixture["conv_groups2_seed12"])
        let layer = Conv2d(4, 6, kernelSize: 3, groups: 2, generator: Generator(seed: 12))
        #expect(layer.weight.allClose(expected["weight"]!, rtol: 0, atol: 1e-7))
        #expect(layer.bias!.allClose(expected["bias"]!, rtol: 0, atol: 1e-7))
    }

    @Test("kaimingNormal_(fan out, ReLU) draws what torch.nn.init.kaiming_normal_ draws from the same seed")
    func kaimingNormalIsPyTorchs() throws {
        let expected = try NNFixture.tensor(fixture["kaiming_normal_fan_out_relu_seed13"])
        let weight = Tensor.zeros([8, 4, 3, 3])
        Init.kaimingNormal_(weight, mode: .fanOut, nonlinearity: .relu, generator: Generator(seed: 13))
        #expect(weight.allClose(expected, rtol: 0, atol: 1e-6))
    }

    @Test("kaiming uniform samples stay within the bound and fill it: max |w| ≤ b and std ≈ b/√3")
    func kaimingUniformStatistics() {
        let weight = Tensor.zeros([256, 64, 3, 3])
        Init.kaimingUniform_(weight, a: 5.0.squareRoot(), generator: Generator(seed: 1))
        let bound = 1 / (64.0 * 9).squareRoot()
        let largest = weight.abs().max().item()
        #expect(largest <= bound && largest > 0.99 * bound)
        #expect(Swift.abs(weight.std().item() / (bound / 3.0.squareRoot()) - 1) < 0.01)
    }

    @Test("kaiming normal samples have mean 0 and std √2/√fan_out for ReLU")
    func kaimingNormalStatistics() {
        let weight = Tensor.zeros([128, 64, 3, 3])
        Init.kaimingNormal_(weight, mode: .fanOut, nonlinearity: .relu, generator: Generator(seed: 2))
        let std = 2.0.squareRoot() / (128.0 * 9).squareRoot()
        #expect(Swift.abs(weight.mean().item()) < 0.01 * std)
        #expect(Swift.abs(weight.std().item() / std - 1) < 0.01)
    }

    @Test("initialisation does not record gradients and keeps parameters learnable")
    func initialisationOfParameters() {
        let layer = Linear(4, 4)
        Init.kaimingNormal_(layer.weight, mode: .fanOut, nonlinearity: .relu)
        Init.constant_(layer.bias!, 0)
        #expect(layer.weight.requiresGrad && layer.weight.isLeaf && layer.weight.grad == nil)
        #expect(layer.bias!.toArray(Float.self) == [0, 0, 0, 0])
    }
}

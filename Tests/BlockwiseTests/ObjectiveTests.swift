import Foundation
import Testing
import Torch
@testable import Blockwise

/// Reference values computed with PyTorch by the reference implementations
/// (Tests/Fixtures/objectives/make_objectives.py).
struct ObjectiveFixture: Decodable {
    struct Case: Decodable {
        var n: Int
        var d: Int
        var zA: [Double]
        var zB: [Double]
        var values: [String: Double]

        enum Keys: String, CodingKey { case n, d, zA, zB }
        struct AnyKey: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: Keys.self)
            n = try c.decode(Int.self, forKey: .n)
            d = try c.decode(Int.self, forKey: .d)
            zA = try c.decode([Double].self, forKey: .zA)
            zB = try c.decode([Double].self, forKey: .zB)
            let all = try decoder.container(keyedBy: AnyKey.self)
            values = [:]
            for key in all.allKeys where Keys(rawValue: key.stringValue) == nil {
                values[key.stringValue] = try all.decode(Double.self, forKey: key)
            }
        }

        var a: Tensor { Tensor(zA, shape: [n, d]) }
        var b: Tensor { Tensor(zB, shape: [n, d]) }
    }
    var cases: [Case]

    static func load() throws -> ObjectiveFixture {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Fixtures/objectives/objectives.json")
        return try JSONDecoder().decode(ObjectiveFixture.self, from: Data(contentsOf: url))
    }
}

@Suite struct BarlowTwinsTests {
    @Test func matchesTheReferenceImplementation() throws {
        for c in try ObjectiveFixture.load().cases {
            let loss = BarlowTwins().loss(c.a, c.b).item()
            #expect(abs(loss - c.values["barlow_twins"]!) < 1e-9 * max(1, abs(loss)))
        }
    }

    @Test func perBlockLambdaInvarianceTargetAndScaleMatchTheReference() throws {
        for c in try ObjectiveFixture.load().cases {
            let loss = BarlowTwins(lambda: 0.1, invarianceTarget: 0.6, scale: 0.024).loss(c.a, c.b).item()
            #expect(abs(loss - c.values["barlow_twins_target_0.6_lambda_0.1_scale_0.024"]!) < 1e-10)
        }
    }

    @Test func perfectlyCorrelatedDecorrelatedEmbeddingsHaveZeroLoss() {
        // Two orthogonal, centred, unit-variance features: C is the identity (up to BN's ε).
        let z = Tensor([1.0, 1, -1, 1, 1, -1, -1, -1], shape: [4, 2])
        let c = BarlowTwins.crossCorrelation(z, z)
        #expect(c.allClose(Tensor.eye(2, dtype: .float64), atol: 1e-4))
        #expect(BarlowTwins().loss(z, z).item() < 1e-8)
    }

    @Test func collapsedEmbeddingsCostOnePerFeature() {
        // Identical rows normalise to zero: C = 0, so every invariance term is (1 − 0)².
        let z = Tensor([0.3, -1.2, 2.0], shape: [1, 3]).expand([5, 3]).contiguous()
        #expect(abs(BarlowTwins().loss(z, z).item() - 3) < 1e-9)
    }

    /// The loss node against the composed ops of eq. 2 in float64: value and gradient.
    @Test(arguments: [(0.0051, 1.0, 1.0), (0.1, 0.6, 0.024)])
    func theLossNodeGivesTheComposedOpsValueAndGradient(lambda: Double, target: Double, scale: Double) {
        let c = Tensor.randn([7, 7], dtype: .float64, generator: Generator(seed: 9)).requiresGrad_()
        let upstream = 1.7
        let ours = BarlowTwins(lambda: lambda, invarianceTarget: target, scale: scale).loss(crossCorrelation: c)
        (ours * upstream).backward()
        let ourGradient = c.grad!.clone()
        c.grad = nil
        let composed = ((c.diagonal() - target).square().sum() + offDiagonalSquareSum(c) * lambda) * scale
        (composed * upstream).backward()
        #expect(abs(ours.item() - composed.item()) < 1e-12 * max(1, abs(composed.item())))
        #expect(ourGradient.allClose(c.grad!, rtol: 1e-12, atol: 1e-14))
    }

    @Test func redundantFeaturesArePenalisedByLambda() {
        // Two identical features: C is all ones, so the off-diagonal sum is 2 and L = 2λ.
        let column = Tensor([1.0, -1, 1, -1], shape: [4, 1])
        let z = Tensor.cat([column, column], dim: 1)
        let loss = BarlowTwins(lambda: 0.5).loss(z, z).item()
        #expect(abs(loss - 2 * 0.5) < 1e-4)
    }
}

@Suite struct VICRegTests {
    @Test func matchesTheOfficialImplementation() throws {
        for c in try ObjectiveFixture.load().cases {
            let loss = VICReg().loss(c.a, c.b).item()
            #expect(abs(loss - c.values["vicreg"]!) < 1e-9 * max(1, abs(loss)))
        }
    }

    @Test func collapsedEmbeddingsPayTheFullVarianceTerm() {
        // Constant embeddings: zero invariance and covariance; std = √ε in every dimension,
        // so the variance term is 2 · (1 − √1e-4) / 2 = 0.99 and the loss 25 · 0.99.
        let z = Tensor.ones([6, 3], dtype: .float64)
        #expect(abs(VICReg().loss(z, z).item() - 25 * 0.99) < 1e-9)
    }
}

@Suite struct SimCLRTests {
    @Test func matchesAnExplicitNTXentLoop() throws {
        for c in try ObjectiveFixture.load().cases {
            #expect(abs(SimCLR(temperature: 0.1).loss(c.a, c.b).item() - c.values["simclr_t0.1"]!) < 1e-9)
            #expect(abs(SimCLR(temperature: 0.5).loss(c.a, c.b).item() - c.values["simclr_t0.5"]!) < 1e-9)
        }
    }

    @Test func identicalViewsOfOrthogonalEmbeddingsApproachZeroLoss() {
        // Each positive has similarity 1, every negative 0: ℓ = −log(e^{1/τ} / (e^{1/τ} + 2N − 2)).
        let z = Tensor.eye(4, dtype: .float64)
        let tau = 0.05
        let expected = -Foundation.log(Foundation.exp(1 / tau) / (Foundation.exp(1 / tau) + 6))
        #expect(abs(SimCLR(temperature: tau).loss(z, z).item() - expected) < 1e-12)
    }
}

@Suite struct SupervisedCrossEntropyTests {
    @Test func averagesTheCrossEntropyOfBothViews() {
        let a = Tensor([2.0, 0, 0, 0, 3, 0], shape: [2, 3])
        let b = Tensor([0.0, 0, 0, 0, 0, 0], shape: [2, 3])
        let labels = Tensor([0, 1] as [Int])
        let la = -Foundation.log(Foundation.exp(2.0) / (Foundation.exp(2.0) + 2)) / 2
            - Foundation.log(Foundation.exp(3.0) / (Foundation.exp(3.0) + 2)) / 2
        let lb = Foundation.log(3.0)
        let loss = SupervisedCrossEntropy().loss(a, b, labels: labels).item()
        #expect(abs(loss - (la + lb) / 2) < 1e-12)
    }
}

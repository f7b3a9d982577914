import Testing
import Torch

/// Autograd's gradients of the elementwise operations agree with finite differences in float64.
@Suite struct ElementwiseGradientTests {
    static let positive: ClosedRange<Double> = 0.5...2

    static let cases: [GradientCase] = [
        GradientCase("tensor + tensor, broadcast", [[2, 3], [3]]) { $0[0] + $0[1] },
        GradientCase("tensor - tensor, both broadcast", [[2, 1], [1, 3]]) { $0[0] - $0[1] },
        GradientCase("tensor * tensor, broadcast", [[2, 3], [2, 1]]) { $0[0] * $0[1] },
        GradientCase("tensor / tensor, broadcast", [[2, 3], [3]], in: positive) { $0[0] / $0[1] },
        GradientCase("tensor + Double", [[2, 3]]) { $0[0] + 2.5 },
        GradientCase("tensor - Double", [[2, 3]]) { $0[0] - 2.5 },
        GradientCase("tensor * Double", [[2, 3]]) { $0[0] * 2.5 },
        GradientCase("tensor / Double", [[2, 3]]) { $0[0] / 2.5 },
        GradientCase("tensor * Int", [[2, 3]]) { $0[0] * 3 },
        GradientCase("tensor / Int", [[2, 3]]) { $0[0] / 3 },
        GradientCase("Double + tensor", [[2, 3]]) { 2.5 + $0[0] },
        GradientCase("Double - tensor", [[2, 3]]) { 2.5 - $0[0] },
        GradientCase("Double * tensor", [[2, 3]]) { 2.5 * $0[0] },
        GradientCase("Double / tensor", [[2, 3]], in: positive) { 2.5 / $0[0] },
        GradientCase("Int - tensor", [[2, 3]]) { 3 - $0[0] },
        GradientCase("Int / tensor", [[2, 3]], in: positive) { 3 / $0[0] },
        GradientCase("negation", [[2, 3]]) { -$0[0] },
        GradientCase("pow with a tensor exponent", [[2, 3], [2, 3]], in: positive) { $0[0].pow($0[1]) },
        GradientCase("pow with a Double exponent", [[2, 3]], in: positive) { $0[0].pow(2.5) },
        GradientCase("exp", [[2, 3]]) { $0[0].exp() },
        GradientCase("log", [[2, 3]], in: positive) { $0[0].log() },
        GradientCase("log2", [[2, 3]], in: positive) { $0[0].log2() },
        GradientCase("log1p", [[2, 3]], in: positive) { $0[0].log1p() },
        GradientCase("expm1", [[2, 3]]) { $0[0].expm1() },
        GradientCase("sqrt", [[2, 3]], in: positive) { $0[0].sqrt() },
        GradientCase("rsqrt", [[2, 3]], in: positive) { $0[0].rsqrt() },
        GradientCase("reciprocal", [[2, 3]], in: positive) { $0[0].reciprocal() },
        GradientCase("square", [[2, 3]]) { $0[0].square() },
        GradientCase("abs", [[2, 3]]) { $0[0].abs() },
        GradientCase("relu", [[2, 3]]) { $0[0].relu() },
        GradientCase("gelu", [[2, 3]]) { $0[0].gelu() },
        GradientCase("sigmoid", [[2, 3]]) { $0[0].sigmoid() },
        GradientCase("tanh", [[2, 3]]) { $0[0].tanh() },
        GradientCase("erf", [[2, 3]]) { $0[0].erf() },
        GradientCase("sin", [[2, 3]]) { $0[0].sin() },
        GradientCase("cos", [[2, 3]]) { $0[0].cos() },
        GradientCase("atan2", [[2, 3], [2, 3]]) { $0[0].atan2($0[1]) },
        GradientCase("remainder, in the dividend", [[2, 3]]) { $0[0].remainder(Tensor(0.7, dtype: .float64)) },
        GradientCase("softmax over the last dimension", [[2, 4]]) { $0[0].softmax(dim: 1) },
        GradientCase("softmax over the first dimension", [[3, 2]]) { $0[0].softmax(dim: 0) },
        GradientCase("logSoftmax", [[2, 4]]) { $0[0].logSoftmax(dim: -1) },
        GradientCase("clamp to both bounds", [[3, 4]]) { $0[0].clamp(min: -0.5, max: 0.5) },
        GradientCase("clamp from below", [[3, 4]]) { $0[0].clamp(min: 0.1) },
        GradientCase("clamp from above", [[3, 4]]) { $0[0].clamp(max: 0.1) },
        GradientCase("maximum, broadcast", [[2, 3], [3]]) { $0[0].maximum($0[1]) },
        GradientCase("minimum, broadcast", [[2, 3], [3]]) { $0[0].minimum($0[1]) },
        GradientCase("where", [[2, 3], [2, 3]]) { x in
            `where`(Tensor([true, false, true, false, false, true], shape: [2, 3]), x[0], x[1])
        },
        GradientCase("maskedFill", [[2, 3]]) { x in
            x[0].maskedFill(Tensor([false, true, true, false, true, false], shape: [2, 3]), 0.5)
        },
    ]

    @Test("gradient matches finite differences", arguments: cases)
    func gradientMatchesFiniteDifferences(_ c: GradientCase) {
        c.expectGradientsMatch()
    }
}

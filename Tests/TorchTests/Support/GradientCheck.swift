import Torch

/// The outcome of comparing autograd's gradients with finite differences.
struct GradientCheck: CustomStringConvertible {
    /// One line per element whose analytic and numerical gradients disagree.
    var mismatches: [String] = []

    var passed: Bool { mismatches.isEmpty }

    var description: String {
        passed ? "gradients agree" : "gradients disagree:\n" + mismatches.prefix(10).joined(separator: "\n")
    }
}

/// Compares autograd's gradients of `f` with central differences, as `torch.autograd.gradcheck` does.
///
/// The inputs are float64 tensors; `f` maps them to one tensor `y`. The scalar checked is
/// `Σ w ⊙ y` for fixed random weights `w`, so every element of `y` contributes with a
/// different weight and a gradient that is right only for the plain sum is still caught.
/// Analytic: `gradients(of:withRespectTo:)` of that scalar. Numerical: for each input element,
/// `(s(x + ε) − s(x − ε)) / 2ε`, evaluated without recording. They agree when
/// `|analytic − numerical| ≤ atol + rtol·|numerical|` (gradcheck's defaults).
func checkGradients(_ inputs: [Tensor], eps: Double = 1e-6, atol: Double = 1e-5, rtol: Double = 1e-3,
                    seed: UInt64 = 1234, _ f: ([Tensor]) -> Tensor) -> GradientCheck {
    precondition(inputs.allSatisfy { $0.dtype == .float64 }, "finite differences need float64 inputs")
    let leaves = inputs.map { $0.detach().clone().requiresGrad_() }
    let output = f(leaves)
    let weights = Tensor.randn(output.shape, dtype: .float64, generator: Generator(seed: seed))
    let analytic = gradients(of: [(output * weights).sum()], withRespectTo: leaves, allowUnused: true)

    let values = inputs.map { $0.toArray(Double.self) }
    func weightedSum(_ perturbed: [[Double]]) -> Double {
        withNoGrad {
            let xs = zip(perturbed, inputs).map { Tensor($0, shape: $1.shape) }
            return (f(xs) * weights).sum().item()
        }
    }

    var result = GradientCheck()
    for (i, input) in inputs.enumerated() {
        let grad = analytic[i]?.toArray(Double.self) ?? [Double](repeating: 0, count: input.count)
        for j in values[i].indices {
            var plus = values
            var minus = values
            plus[i][j] += eps
            minus[i][j] -= eps
            let numerical = (weightedSum(plus) - weightedSum(minus)) / (2 * eps)
            if Swift.abs(grad[j] - numerical) > atol + rtol * Swift.abs(numerical) {
                result.mismatches.append("input \(i) element \(j): autograd \(grad[j]), finite differences \(numerical)")
            }
        }
    }
    return result
}

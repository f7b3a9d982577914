import Testing
import Torch

/// One differentiable function of small float64 tensors, checked against finite differences.
struct GradientCase: Sendable, CustomTestStringConvertible {
    let name: String
    let shapes: [[Int]]
    /// Where inputs are drawn from: standard normal when nil, else uniform in the range
    /// (for functions defined on part of the line: log, sqrt, division).
    let range: ClosedRange<Double>?
    let f: @Sendable ([Tensor]) -> Tensor

    init(_ name: String, _ shapes: [[Int]], in range: ClosedRange<Double>? = nil,
         _ f: @escaping @Sendable ([Tensor]) -> Tensor) {
        self.name = name
        self.shapes = shapes
        self.range = range
        self.f = f
    }

    var testDescription: String { name }

    /// Inputs from fixed seeds, one seed per input.
    var inputs: [Tensor] {
        shapes.enumerated().map { i, shape in
            let seed = UInt64(i + 1)
            guard let range else { return randomDoubles(shape, seed: seed) }
            return uniformDoubles(shape, range.lowerBound, range.upperBound, seed: seed)
        }
    }

    /// Records an issue unless autograd agrees with finite differences.
    func expectGradientsMatch(sourceLocation: SourceLocation = #_sourceLocation) {
        let result = checkGradients(inputs, f)
        #expect(result.passed, "\(name): \(result)", sourceLocation: sourceLocation)
    }
}

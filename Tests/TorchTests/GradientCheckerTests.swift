import Testing
import Torch

/// The finite-difference checker itself: it must accept right gradients and reject wrong ones,
/// or every gradient test built on it proves nothing.
@Suite struct GradientCheckerTests {
    @Test func acceptsTheGradientOfAProduct() {
        let result = checkGradients([randomDoubles([2, 3], seed: 1), randomDoubles([2, 3], seed: 2)]) { $0[0] * $0[1] }
        #expect(result.passed, "\(result)")
    }

    @Test func rejectsAGradientThatIgnoresADetachedFactor() {
        // d(x·x)/dx = 2x, but autograd sees only one factor through detach(): it reports x.
        let result = checkGradients([randomDoubles([2, 3], seed: 1)]) { $0[0].detach() * $0[0] }
        #expect(!result.passed)
        #expect(result.mismatches.count == 6)
    }

    @Test func rejectsAGradientThatIsRightOnlyForThePlainSum() {
        // The value is x reversed, but autograd sees the identity. Against a seed of ones the
        // two gradients agree (reversing does not change a sum); the random weights tell them apart.
        let result = checkGradients([randomDoubles([4], seed: 3)]) { x in
            x[0].flip([0]).detach() - x[0].detach() + x[0]
        }
        #expect(!result.passed)
    }

    @Test func treatsAnUnusedInputAsHavingZeroGradient() {
        let result = checkGradients([randomDoubles([3], seed: 1), randomDoubles([3], seed: 2)]) { $0[0].exp() }
        #expect(result.passed, "\(result)")
    }
}

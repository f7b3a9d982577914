import Testing
import Torch
@testable import Blockwise

@Suite struct NoiseInjectionTests {
    let x = Tensor.zeros([64, 8, 6, 6])

    @Test func leavesActivationsUnchangedInEvaluation() {
        for kind in NoiseInjection.Kind.allCases {
            #expect(NoiseInjection(kind: kind)(x, training: false).equal(x))
        }
    }

    @Test func independentNoiseHasTheRequestedStandardDeviation() {
        let noisy = NoiseInjection(kind: .independent, sigma: 0.25)(x, training: true, generator: Generator(seed: 1))
        #expect(abs(noisy.std().item() - 0.25) < 0.01)
        #expect(abs(noisy.mean().item()) < 0.01)
    }

    /// A channels-last block output stays channels-last, so that the next block's convolutions
    /// run in that order, and its noise is as independent and as large.
    @Test func independentNoiseKeepsAChannelsLastOrder() {
        let input = Tensor.randn([64, 8, 6, 6], generator: Generator(seed: 4)).contiguous(.channelsLast)
        let noisy = NoiseInjection(kind: .independent, sigma: 0.25)(input, training: true, generator: Generator(seed: 5))
        #expect(noisy.isContiguous(.channelsLast) && !noisy.isContiguous())
        let noise = noisy - input
        #expect(abs(noise.std().item() - 0.25) < 0.01)
        #expect(abs(noise.mean().item()) < 0.01)
    }

    @Test func sharedNoiseIsTheSameForEveryChannelAtALocation() {
        let noisy = NoiseInjection(kind: .sharedAcrossChannels, sigma: 0.5)(x, training: true, generator: Generator(seed: 2))
        let first = noisy.narrow(dim: 1, start: 0, length: 1)
        #expect(noisy.equal(first.expand(noisy.shape)))
        #expect(abs(first.std().item() - 0.5) < 0.03)
    }

    @Test func scaledNoiseFollowsTheActivationStandardDeviation() {
        let generator = Generator(seed: 3)
        let activations = Tensor.randn([64, 8, 6, 6], generator: generator) * 4.0
        let noisy = NoiseInjection(kind: .scaledByActivationStd, sigma: 0.25)(activations, training: true, generator: generator)
        // The added noise has std σ · std(x) = 0.25 · 4.
        #expect(abs((noisy - activations).std().item() - 1.0) < 0.03)
    }
}

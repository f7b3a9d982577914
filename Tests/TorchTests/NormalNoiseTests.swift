import Testing
import Torch

/// `Tensor.normalNoise`: normal samples drawn in parallel chunks from one draw of a generator.
@Suite struct NormalNoiseTests {
    /// More than one chunk (2^16 values), and a partial last one.
    static let shape = [3, 5, 97, 101]

    /// The values depend on the generator's state and the shape alone: not on the threads that
    /// fill the chunks. Thread counts are the process's, so this runs in a process of its own.
    @Test func theThreadCountDoesNotChangeTheValues() async {
        await #expect(processExitsWith: .success) {
            func draw(threads: Int) -> Tensor {
                Runtime.threads = threads
                return Tensor.normalNoise(NormalNoiseTests.shape, std: 0.5, generator: Generator(seed: 7))
            }
            let one = draw(threads: 1), two = draw(threads: 2), three = draw(threads: 3)
            precondition(one.equal(two) && one.equal(three), "the values changed with the thread count")
        }
    }

    /// A restored generator state draws the same noise again (checkpoints, recomputation); the
    /// generator advances, so the next call draws other noise; chunks are not copies of each other.
    @Test func theGeneratorsStateReplaysItAndEachCallAdvancesIt() {
        let generator = Generator(seed: 11)
        let saved = generator.state
        let first = Tensor.normalNoise(Self.shape, generator: generator)
        let second = Tensor.normalNoise(Self.shape, generator: generator)
        generator.state = saved
        #expect(Tensor.normalNoise(Self.shape, generator: generator).equal(first))
        #expect(!first.equal(second))
        let flat = first.reshape([-1])
        let chunk = 1 << 16
        #expect(!flat.narrow(dim: 0, start: 0, length: 1000).equal(flat.narrow(dim: 0, start: chunk, length: 1000)))
    }

    /// Normal with the requested standard deviation: moments, and the share of values beyond
    /// 1, 2 and 3 standard deviations (31.73%, 4.55%, 0.27%), on 1.47 M values, within about
    /// five standard errors of each.
    @Test(arguments: [DType.float32, .float64])
    func theValuesAreNormalWithTheRequestedStandardDeviation(dtype: DType) {
        let std = 0.25
        let z = Tensor.normalNoise([10, 15, 97, 101], std: std, dtype: dtype, generator: Generator(seed: 3)).to(.float64) / std
        #expect(z.dtype == .float64)
        #expect(abs(z.mean().item()) < 0.005)
        #expect(abs(z.std().item() - 1) < 0.005)
        for (k, share) in [(1.0, 0.3173), (2.0, 0.0455), (3.0, 0.0027)] {
            let beyond = (z.abs() .> .double(k)).to(.float64).mean().item()
            #expect(abs(beyond - share) < 5 * (share * (1 - share) / Double(z.count)).squareRoot() + 1e-4, "beyond \(k): \(beyond)")
        }
        // Correlation between neighbours, within chunks and across a chunk's end, is nil.
        let flat = z.reshape([-1])
        let n = flat.count - 1
        let lag = (flat.narrow(dim: 0, start: 0, length: n) * flat.narrow(dim: 0, start: 1, length: n)).mean().item()
        #expect(abs(lag) < 0.005)
    }
}

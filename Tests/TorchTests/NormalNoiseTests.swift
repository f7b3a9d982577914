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
    /// five standard errors of each, and the count beyond 4 (0.0063%: 93) as a tail check. In
    /// float32 and bf16 the values come in blocks of 32, the cosines of 16 Box–Muller pairs and
    /// then their sines: the two members of a pair (16 apart) are independent, so neither they
    /// nor their squares correlate.
    @Test(arguments: [DType.float32, .float64, .bfloat16])
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
        let expected = 6.334e-5 * Double(z.count)
        let tail = (z.abs() .> .double(4)).to(.float64).sum().item()
        #expect(abs(tail - expected) < 5 * expected.squareRoot(), "beyond 4: \(tail) values")
        // Correlation between neighbours (within chunks and across a chunk's end) and between
        // values 16 apart (a pair's members, in float32 and bf16) is nil, and so is that of
        // their squares (a wrong radius would make a pair's squares correlate).
        let flat = z.reshape([-1])
        for lag in [1, 16] {
            let n = flat.count - lag
            let (a, b) = (flat.narrow(dim: 0, start: 0, length: n), flat.narrow(dim: 0, start: lag, length: n))
            #expect(abs((a * b).mean().item()) < 0.005, "lag \(lag)")
            #expect(abs(((a * a - 1) * (b * b - 1)).mean().item()) < 0.012, "squares, lag \(lag)")
        }
    }
}

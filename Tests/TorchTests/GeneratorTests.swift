import Testing
import Torch

/// Seeded generators make random tensors reproducible, and their saved state replays a stream.
@Suite struct GeneratorTests {
    /// Every random creation function, drawing from `g`.
    static let draws: [(String, @Sendable (Generator) -> Tensor)] = [
        ("randn", { Tensor.randn([3, 4], dtype: .float64, generator: $0) }),
        ("rand", { Tensor.rand([3, 4], generator: $0) }),
        ("randint", { Tensor.randint(-5, 5, [12], generator: $0) }),
        ("randperm", { Tensor.randperm(12, generator: $0) }),
        ("bernoulli", { Tensor.full([12], 0.5, dtype: .float64).bernoulli(generator: $0) }),
        ("uniform_", { Tensor.zeros([12]).uniform_(-2, 3, generator: $0) }),
        ("normal_", { Tensor.zeros([12]).normal_(mean: 1, std: 2, generator: $0) }),
    ]

    @Test(arguments: 0..<draws.count)
    func sameSeedGivesTheSameValues(_ index: Int) {
        let (name, draw) = Self.draws[index]
        let first = draw(Generator(seed: 42))
        let second = draw(Generator(seed: 42))
        #expect(first.equal(second), "\(name)")
        #expect(!draw(Generator(seed: 43)).equal(first), "\(name): another seed, other values")
    }

    @Test(arguments: 0..<draws.count)
    func restoringASavedStateReplaysTheStream(_ index: Int) {
        let (name, draw) = Self.draws[index]
        let g = Generator(seed: 7)
        _ = draw(g)
        let saved = g.state
        let next = draw(g)
        #expect(!draw(g).equal(next), "\(name): the stream moves on")
        g.state = saved
        #expect(draw(g).equal(next), "\(name)")
        let other = Generator(seed: 1000)
        other.state = saved
        #expect(draw(other).equal(next), "\(name): the state carries to another generator")
    }

    @Test func generatorsDrawIndependentStreams() {
        let alone = Generator(seed: 9)
        let expected = Tensor.randn([5], generator: alone)
        let g = Generator(seed: 9)
        let interloper = Generator(seed: 9)
        _ = Tensor.randn([50], generator: interloper)
        #expect(Tensor.randn([5], generator: g).equal(expected))
    }

    @Test func generatorReportsItsSeed() {
        #expect(Generator(seed: 123_456_789).seed == 123_456_789)
        #expect(Generator(seed: 123_456_789).state.dtype == .uint8)
    }

    @Test func samplesStayInTheirRanges() {
        let g = Generator(seed: 5)
        let u = Tensor.rand([1000], dtype: .float64, generator: g).toArray(Double.self)
        #expect(u.allSatisfy { $0 >= 0 && $0 < 1 })
        let i = Tensor.randint(-3, 4, [1000], generator: g).toArray(Int.self)
        #expect(Set(i) == Set(-3..<4))
        #expect(Tensor.randperm(20, generator: g).toArray(Int.self).sorted() == Array(0..<20))
        let b = Tensor([0.0, 1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]).bernoulli(generator: g).toArray(Double.self)
        #expect(b[0] == 0 && b[1] == 1 && b.allSatisfy { $0 == 0 || $0 == 1 })
        let n = Tensor.randn([20_000], dtype: .float64, generator: g)
        #expect(Swift.abs(n.mean().item()) < 0.03 && Swift.abs(n.std().item() - 1) < 0.03)
    }

    struct Fixture: Decodable {
        let seed: UInt64
        let randn_float64_5, randn_float32_20, rand_float64_5: [Double]
        let randint_0_10_6, randperm_6: [Int]
    }

    @Test func seededGeneratorDrawsPyTorchsNumbers() throws {
        // Tests/Fixtures/random/make_random.py: torch.Generator().manual_seed(0), torch 1.13 and 2.13.
        let f = try loadFixture(Fixture.self, "random/random.json")
        #expect(Tensor.randn([5], dtype: .float64, generator: Generator(seed: f.seed)).toArray(Double.self)
                == f.randn_float64_5)
        // 20 float32 samples take the vectorised path.
        #expect(Tensor.randn([20], generator: Generator(seed: f.seed)).toArray(Float.self)
                == f.randn_float32_20.map(Float.init))
        #expect(Tensor.rand([5], dtype: .float64, generator: Generator(seed: f.seed)).toArray(Double.self)
                == f.rand_float64_5)
        #expect(Tensor.randint(0, 10, [6], generator: Generator(seed: f.seed)).toArray(Int.self) == f.randint_0_10_6)
        #expect(Tensor.randperm(6, generator: Generator(seed: f.seed)).toArray(Int.self) == f.randperm_6)
    }
}

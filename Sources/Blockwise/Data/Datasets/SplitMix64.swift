/// A small, fast, seedable random number generator (Steele, Lea & Flood's SplitMix64).
/// Used where a random choice must be identical on every machine and libtorch version:
/// epoch shuffles and synthetic images.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A generator for one stream of a seeded process, e.g. (seed, epoch): different
    /// streams give unrelated sequences.
    public init(seed: UInt64, stream: UInt64...) {
        var mixer = SplitMix64(seed: seed)
        for value in stream { mixer = SplitMix64(seed: mixer.next() ^ value &* 0x9E37_79B9_7F4A_7C15) }
        state = mixer.next()
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in [low, high).
    public mutating func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * uniform() }
}

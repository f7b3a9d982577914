import Testing
import Torch

/// float16 and bfloat16 hold what they can represent exactly and round the rest to nearest even.
@Suite struct ReducedPrecisionTests {
    /// float32 → bfloat16 as c10 rounds it: keep the top 16 bits, rounding to nearest, ties to even.
    static func bfloat16Rounded(_ x: Float) -> Float {
        let bits = x.bitPattern
        let rounded = (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) & 0xFFFF_0000
        return Float(bitPattern: rounded)
    }

    static let samples: [Float] = [0, 1, -2.25, 1024, 0.1, 1 + 0x1p-9, 1 + 3 * 0x1p-9, 3.3e38, -1e-3, 65504, 65520]

    @Test func float16RoundTripMatchesSwiftsFloat16() {
        let stored = Tensor(Self.samples).to(.float16)
        #expect(stored.dtype == .float16)
        #expect(stored.toArray(Float.self) == Self.samples.map { Float(Float16($0)) })
    }

    @Test func float16ElementsRoundTripUnchanged() {
        let values: [Float16] = [0, 1.5, -2.25, 65504, 0.000061035156, -0.099975586]
        let t = Tensor(values)
        #expect(t.dtype == .float16)
        #expect(t.toArray(Float16.self) == values)
    }

    @Test func bfloat16RoundTripRoundsToNearestEven() {
        let stored = Tensor(Self.samples).to(.bfloat16)
        #expect(stored.dtype == .bfloat16)
        #expect(stored.toArray(Float.self) == Self.samples.map(Self.bfloat16Rounded))
        // Known values (torch 2.13): 1 + 2⁻⁹ ties down to 1, 0.1 becomes 0.10009765625.
        #expect(Array(stored.toArray(Float.self)[4...6]) == [0.10009765625, 1, 1.0078125])
    }

    @Test func bfloat16KeepsFloat32sRange() {
        let big = Tensor([3e38] as [Float]).to(.bfloat16).toArray(Float.self)[0]
        #expect(big.isFinite && big > 2.9e38)
        let overflow = Tensor([1e5] as [Float]).to(.float16).toArray(Float.self)[0]
        #expect(overflow == .infinity)
    }
}

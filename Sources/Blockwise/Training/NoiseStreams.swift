import Torch

/// The random streams of the noise injected into block outputs: one per block, so a block
/// draws the same noise whether the blocks below run in the same process or in others
/// (block-parallel training). Each data-parallel replica draws its own, for its own shard.
/// Checkpoints keep every stream (`rng.noise.K`), so a resumed run draws what it would have.
public final class NoiseStreams {
    public let generators: [Generator]

    public init(seed: UInt64, blocks: Int, replica: Int = 0, device: Device = .cpu) {
        // Odd multipliers of 64-bit golden-ratio constants keep the streams' seeds apart.
        generators = (0..<blocks).map { k in
            Generator(seed: seed &+ 2 &+ UInt64(replica) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(k) &* 0xC2B2_AE3D_27D4_EB4F,
                      device: device)
        }
    }

    public subscript(block: Int) -> Generator { generators[block] }

    /// Checkpoint names of the streams' states: the first replica's `rng.noise.K`, another's
    /// `rng.noise.K.replica.R`.
    static func key(block: Int, replica: Int = 0) -> String {
        replica == 0 ? "rng.noise.\(block)" : "rng.noise.\(block).replica.\(replica)"
    }
}

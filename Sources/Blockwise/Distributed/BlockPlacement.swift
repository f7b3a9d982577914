/// Where each block of a block-parallel run (`distributed.strategy: blocks`) trains: the world
/// of processes is blocks × replicas, rank = replica × blocks + block. One replica's pipeline
/// holds consecutive ranks, which launchers put on one machine, so the activations that cross
/// between blocks every step stay inside it; rank 0 is block 1's first replica, the process
/// that reads the data and writes the run directory.
public struct BlockPlacement: Equatable, Sendable, CustomStringConvertible {
    public let blocks: Int
    public let replicas: Int
    /// This process's block (from 0) and replica (from 0).
    public let block: Int
    public let replica: Int

    public init(blocks: Int, rank: Int, worldSize: Int) throws {
        guard worldSize % blocks == 0 else {
            throw DistributedError("distributed.strategy blocks needs a world of processes that is a multiple of the \(blocks) blocks of model.partition (blocks × replicas), got \(worldSize)")
        }
        self.blocks = blocks
        replicas = worldSize / blocks
        block = rank % blocks
        replica = rank / blocks
    }

    public func rank(block: Int, replica: Int) -> Int { replica * blocks + block }

    /// The process that sends this one its input, nil for the first block.
    public var below: Int? { block > 0 ? rank(block: block - 1, replica: replica) : nil }
    /// The process this one sends its output to, nil for the last block.
    public var above: Int? { block + 1 < blocks ? rank(block: block + 1, replica: replica) : nil }

    /// The first replica of a block writes that block's part of checkpoints.
    public var writesItsBlock: Bool { replica == 0 }

    public var description: String {
        "block \(block + 1) of \(blocks)" + (replicas > 1 ? ", replica \(replica + 1) of \(replicas)" : "")
    }

    /// How a rank of this layout is named in errors.
    public static func describe(rank: Int, blocks: Int) -> String {
        "rank \(rank) (block \(rank % blocks + 1))"
    }
}

import Torch

/// How the four ResNet stages are grouped into training blocks (§3.1): each block is a
/// contiguous run of stages (which modules a stage holds is `ResNet`'s to say). The default is one block per
/// stage; `[[1, 2], [3], [4]]` merges B1 and B2 (paper Fig. 7); `[[1, 2, 3, 4]]` is the
/// whole network, as end-to-end training sees it.
public struct BlockPartition: Equatable, Sendable, CustomStringConvertible {
    /// Stage numbers (1…4) of each block.
    public let blocks: [[Int]]

    public static let perStage = BlockPartition(validated: [[1], [2], [3], [4]])
    public static let whole = BlockPartition(validated: [[1, 2, 3, 4]])

    private init(validated blocks: [[Int]]) { self.blocks = blocks }

    /// Checks that the groups cover stages 1…4 in order, each once.
    public init(_ blocks: [[Int]]) throws {
        guard blocks.flatMap({ $0 }) == [1, 2, 3, 4], blocks.allSatisfy({ !$0.isEmpty }) else {
            throw PartitionError("a partition groups stages 1, 2, 3, 4 in order into contiguous blocks, got \(blocks)")
        }
        self.blocks = blocks
    }

    /// Parses "1,2,3,4" or "1+2,3,4" (a "+" joins stages into one block).
    public init(parsing text: String) throws {
        let groups = text.split(separator: ",").map { group in
            group.split(separator: "+").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        }
        guard groups.allSatisfy({ $0.allSatisfy { $0 != nil } }) else {
            throw PartitionError("cannot read the partition \"\(text)\": write stage numbers joined by + and separated by commas, e.g. 1+2,3,4")
        }
        try self.init(groups.map { $0.map { $0! } })
    }

    public var count: Int { blocks.count }

    /// The block holding a stage (both 1-based).
    public func block(ofStage stage: Int) -> Int { blocks.firstIndex { $0.contains(stage) }! + 1 }

    public var description: String { blocks.map { $0.map(String.init).joined(separator: "+") }.joined(separator: ",") }
}

public struct PartitionError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

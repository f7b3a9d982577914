import Torch

/// How the four ResNet stages are grouped into training blocks (§3.1): each block is a
/// contiguous run of stages, the stem inside the first block. The default is one block per
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

extension ResNet {
    /// Output channels of each block of a partition.
    public func channels(of partition: BlockPartition) -> [Int] {
        partition.blocks.map { stageChannels[$0.last! - 1] }
    }

    /// One block: its stages in order, the stem first when the block holds stage 1.
    public func applyBlock(_ stagesOfBlock: [Int], _ x: Tensor) -> Tensor {
        stagesOfBlock.reduce(x) { h, stage in stages[stage - 1](stage == 1 ? applyStem(h) : h) }
    }

    /// Every block's output for a batch, in order.
    ///
    /// - Parameters:
    ///   - stopGradient: detach each block's input from the block below (blockwise training),
    ///     so that a block's loss reaches only that block.
    ///   - noise: applied to each block's output in training; the noisy output feeds both the
    ///     head and the next block, as in the paper's reference code.
    public func blockOutputs(_ x: Tensor, partition: BlockPartition, stopGradient: Bool,
                             noise: NoiseInjection? = nil, generator: Generator? = nil) -> [Tensor] {
        var outputs: [Tensor] = []
        var h = x
        for group in partition.blocks {
            if stopGradient, !outputs.isEmpty { h = h.detach() }
            h = applyBlock(group, h)
            if let noise { h = noise(h, training: training, generator: generator) }
            outputs.append(h)
        }
        return outputs
    }
}

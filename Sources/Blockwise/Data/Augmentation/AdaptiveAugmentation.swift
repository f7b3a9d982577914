import Torch

/// Augmentations chosen per block (paper, App. A, "adaptive augmentations"): easier views for
/// early blocks, the full Barlow Twins views for later ones. The paper's attempt, which it
/// reports to hurt accuracy, is `paperAppendixA`; the default gives every block the same views.
public struct BlockAugmentations: Sendable, Equatable {
    /// One pair of view recipes per block.
    public var perBlock: [TwoViewAugmentation]

    public init(perBlock: [TwoViewAugmentation]) { self.perBlock = perBlock }

    /// The same views for all `blocks`.
    public static func uniform(_ augmentation: TwoViewAugmentation, blocks: Int) -> BlockAugmentations {
        BlockAugmentations(perBlock: Array(repeating: augmentation, count: blocks))
    }

    /// App. A: colour jitter only for block 1, colour jitter and small crops for block 2,
    /// the full Barlow Twins views for blocks 3 and 4.
    public static func paperAppendixA(side: Int, normalization: ChannelStatistics) -> BlockAugmentations {
        func pair(_ view: ViewAugmentation) -> TwoViewAugmentation {
            TwoViewAugmentation(viewA: view, viewB: view, side: side, normalization: normalization)
        }
        return BlockAugmentations(perBlock: [pair(.colorJitterOnly), pair(.colorJitterAndSmallCrops),
                                             TwoViewAugmentation(side: side, normalization: normalization),
                                             TwoViewAugmentation(side: side, normalization: normalization)])
    }

    /// The views for every block; blocks with the same recipe share one pair of views
    /// (each distinct recipe is computed once, in block order, from `generator`).
    public func views(of images: Tensor, generator: Generator, device: Device = .cpu) -> [(Tensor, Tensor)] {
        var made: [TwoViewAugmentation: (Tensor, Tensor)] = [:]
        return perBlock.map { recipe in
            if let views = made[recipe] { return views }
            let views = recipe(images, generator: generator, device: device)
            made[recipe] = views
            return views
        }
    }
}

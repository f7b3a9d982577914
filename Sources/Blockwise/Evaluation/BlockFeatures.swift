import Torch

/// The globally average-pooled output of each block (GSP, no head, no projector): the features
/// the paper's analyses read (Fig. 8, App. C), from a backbone in evaluation mode (BN running
/// statistics), computed without recording gradients.
public struct BlockFeatures {
    public let backbone: ResNet
    public let partition: BlockPartition

    /// Puts `backbone` in evaluation mode.
    public init(backbone: ResNet, partition: BlockPartition) {
        backbone.eval()
        self.backbone = backbone
        self.partition = partition
    }

    /// [B, C_k] for each block k of the partition, from normalised images [B, 3, H, W] on the
    /// backbone's device.
    public func callAsFunction(_ x: Tensor) -> [Tensor] {
        withNoGrad {
            backbone.blockOutputs(x, partition: partition, stopGradient: false).map { $0.mean(dims: [2, 3]) }
        }
    }
}

/// Runs `body` on consecutive batches of the first `limit` images of `dataset` (all by
/// default), in order.
func forEachBatch(of dataset: any ImageDataset, batchSize: Int, limit: Int? = nil,
                  _ body: (_ index: Int, _ batch: LabelledBatch) throws -> Void) throws {
    let count = min(dataset.count, limit ?? dataset.count)
    var start = 0, index = 0
    while start < count {
        let end = min(count, start + batchSize)
        try body(index, try dataset.batch(Array(start..<end)))
        start = end
        index += 1
    }
}

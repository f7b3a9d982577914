import Torch

/// Frozen features of a backbone for evaluation (probes, exported embeddings, and the
/// analyses of Fig. 8 and App. C): block N's output (the output of ResNet stage N, layerN)
/// averaged over space (GSP), computed in evaluation mode (BN running statistics) without
/// gradients, in batches, after the deterministic `EvaluationTransform`.
///
/// Blocks are the backbone's four stages, the paper's four blocks under the default
/// partition, whatever partition the run trained with: a merged 1+2 run and an end-to-end
/// run are evaluated at the same depths (paper Fig. 4, right, and Fig. 8). The features are
/// GSP of the block output, not the CbE head's output that the reference code probes: a run
/// exports only its backbone (RUN/backbone.safetensors), and GSP is what torchvision's
/// ResNet feeds its classifier.
public struct FeatureExtractor {
    /// The blocks a ResNet backbone has.
    public static let blockRange = ResNet.stageNumbers

    public let backbone: ResNet
    public var transform: EvaluationTransform
    public var device: Device
    /// Images per forward pass.
    public var batchSize: Int

    /// Moves `backbone` to `device` and sets it to evaluation mode.
    public init(backbone: ResNet, transform: EvaluationTransform, device: Device = .cpu, batchSize: Int = 256) {
        precondition(batchSize > 0, "FeatureExtractor: batchSize must be positive")
        self.backbone = backbone
        self.transform = transform
        self.device = device
        self.batchSize = batchSize
        backbone.to(device: device)
        backbone.eval()
    }

    /// Checks a list of block numbers: each in 1…4, none twice, at least one.
    public static func validate(blocks: [Int]) throws {
        guard !blocks.isEmpty else { throw RunError("no block to evaluate: give blocks from 1 to 4, e.g. 1,2,3,4") }
        if let bad = blocks.first(where: { !blockRange.contains($0) }) {
            throw RunError("block \(bad) is out of range: a ResNet backbone has blocks 1, 2, 3, 4 (its four stages)")
        }
        if Set(blocks).count != blocks.count {
            throw RunError("block list \(blocks.map(String.init).joined(separator: ",")) names a block twice")
        }
    }

    /// The pooled features at `blocks` of a batch of images already transformed (normalised,
    /// on `device`): block number → float32 [B, C_block], on `device`. The analyses call this
    /// with views or corrupted images in place of `transform`'s output.
    public func callAsFunction(_ images: Tensor, blocks: [Int]) -> [Int: Tensor] {
        withNoGrad {
            let outputs = backbone.stageOutputs(images, through: blocks.max()!)
            return Dictionary(uniqueKeysWithValues: blocks.map { ($0, outputs[$0 - 1].mean(dims: [2, 3])) })
        }
    }

    /// Every image's features at each of `blocks`, in dataset order, on the CPU:
    /// float32 [N, C_block] per block, and the labels int64 [N] (−1 for unlabelled images).
    /// One pass over the data serves every block.
    public func extract(_ dataset: any ImageDataset, blocks: [Int]) throws -> (features: [Int: Tensor], labels: Tensor) {
        try FeatureExtractor.validate(blocks: blocks)
        guard dataset.count > 0 else { throw DataError(dataset.name, "has no images to extract features from") }
        var chunks: [Int: [Tensor]] = [:]
        var labels: [Tensor] = []
        try forEachBatch(of: dataset, batchSize: batchSize) { _, batch in
            for (block, features) in self(transform(batch.images, device: device), blocks: blocks) {
                chunks[block, default: []].append(features.to(.cpu))
            }
            labels.append(batch.labels.to(.int64))
        }
        return (chunks.mapValues { Tensor.cat($0, dim: 0) }, Tensor.cat(labels, dim: 0))
    }
}

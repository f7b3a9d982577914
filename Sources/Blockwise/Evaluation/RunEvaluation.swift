import Torch

/// A finished (or checkpointed) run opened for evaluation: its configuration, its frozen
/// backbone on the evaluation device, and its feature cache (RUN/features/). Every
/// evaluation starts here: probes, `blockwise features`, and the analyses (`blockwise
/// analyze correlation|corruptions`).
public struct RunEvaluation {
    public let run: RunDirectory
    public let config: Config
    public let backbone: ResNet
    public let device: Device
    /// Images per forward pass.
    public var batchSize: Int
    /// Fingerprint of backbone.safetensors, part of every cache key.
    let backboneFingerprint: String

    /// Opens `run`; fails with a message naming what is missing (the folder, config.yaml,
    /// backbone.safetensors) or wrong (weights that do not fit the configured architecture).
    /// `device` defaults to the run's `run.device`.
    public init(run: RunDirectory, device: Device? = nil, batchSize: Int = 256) throws {
        guard batchSize > 0 else { throw RunError("the batch size must be positive, got \(batchSize)") }
        self.run = run
        config = try run.config()
        (backbone, backboneFingerprint) = try run.loadFingerprintedBackbone()
        self.device = device ?? config.run.device.resolved()
        self.batchSize = batchSize
    }

    /// The dataset the run trained on (`data.dataset`), the default of probes.
    public var trainingDataset: DatasetSpec { config.data.dataset }

    /// Side of the training views (`data.image_size`), the size features are computed at.
    public var imageSize: Int { config.data.imageSize }

    /// Extracts the backbone's features of `dataset`'s images at the training side.
    public func extractor(for dataset: any ImageDataset) -> FeatureExtractor {
        FeatureExtractor(backbone: backbone, transform: .matching(dataset, side: imageSize), device: device,
                         batchSize: batchSize)
    }

    /// RUN/features/: extracted features, keyed by the backbone file and the image side.
    public var cache: FeatureCache {
        FeatureCache(folder: run.path + "/features",
                     key: ["backbone": backboneFingerprint, "image_size": "\(imageSize)"])
    }

    /// The features of `blocks` for one split of `data`: from the cache where it holds them,
    /// else extracted in one pass over the data and cached.
    public func features(data: DatasetSpec, split: DatasetSplit, blocks: [Int]) throws -> [Int: FeatureSet] {
        try FeatureExtractor.validate(blocks: blocks)
        let cache = self.cache
        var sets: [Int: FeatureSet] = [:]
        for block in blocks {
            sets[block] = cache.load(dataset: data, split: split, block: block)
        }
        let missing = blocks.filter { sets[$0] == nil }
        guard !missing.isEmpty else { return sets }
        let dataset = try data.load(split: split)
        let extractor = extractor(for: dataset)
        let (features, labels) = try extractor.extract(dataset, blocks: missing)
        for block in missing {
            let set = FeatureSet(features: features[block]!, labels: labels, classCount: dataset.classCount)
            try cache.store(set, dataset: data, split: split, block: block,
                            extra: ["dataset_name": dataset.name, "transform": extractor.transform.summary])
            sets[block] = set
        }
        return sets
    }

    /// Writes one block's embeddings of a split, for use outside Blockwise: a safetensors file
    /// with `embeddings` float32 [N, C] and `labels` int64 [N] (−1 for unlabelled images), and
    /// metadata naming the run, dataset, split and block.
    @discardableResult
    public func writeFeatures(data: DatasetSpec, split: DatasetSplit, block: Int, to path: String) throws -> FeatureSet {
        let set = try features(data: data, split: split, blocks: [block])[block]!
        try SafeTensors.write([("embeddings", set.features), ("labels", set.labels)],
                              metadata: ["run": run.path, "dataset": data.description, "split": split.rawValue,
                                         "block": "\(block)", "classes": "\(set.classCount)",
                                         "pooling": "gsp", "image_size": "\(imageSize)"],
                              to: path)
        return set
    }
}

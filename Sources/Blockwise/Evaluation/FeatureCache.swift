import Foundation
import Torch

/// Features of a dataset split at one block, kept in the run directory so that probing
/// again (another method, more epochs) skips the forward passes:
/// `RUN/features/<dataset>-<split>-block<N>.safetensors` holding `features` float32 [N, C]
/// and `labels` int64 [N], the class count in the metadata, and metadata keying them to what produced them: the backbone
/// file's fingerprint (size and CRC-32), the dataset spec, the split, the view size and the
/// block. A file whose key differs (a retrained backbone, another image size) is recomputed
/// and replaced.
public struct FeatureCache {
    public let folder: String
    /// The key of every file this cache reads and writes, less the block.
    public let key: [String: String]

    public init(folder: String, key: [String: String]) {
        self.folder = folder
        self.key = key
    }

    /// The file of one (dataset, split, block): the spec with characters unsafe in file names replaced.
    public func path(dataset: DatasetSpec, split: DatasetSplit, block: Int) -> String {
        let safe = String(dataset.description.map { $0.isLetter || $0.isNumber || "-.".contains($0) ? $0 : "_" })
        return folder + "/\(safe)-\(split.rawValue)-block\(block).safetensors"
    }

    func metadata(block: Int) -> [String: String] { key.merging(["block": "\(block)"]) { $1 } }

    /// The cached features, or nil when the file is absent, unreadable or keyed otherwise.
    public func load(dataset: DatasetSpec, split: DatasetSplit, block: Int) -> FeatureSet? {
        let path = path(dataset: dataset, split: split, block: block)
        guard FileManager.default.fileExists(atPath: path), let file = try? SafeTensors.read(contentsOf: path) else { return nil }
        let expected = metadata(block: block)
        guard expected.allSatisfy({ file.metadata[$0.key] == $0.value }),
              let features = file["features"], let labels = file["labels"],
              let classes = file.metadata["classes"].flatMap({ Int($0) }),
              features.rank == 2, labels.shape == [features.size(0)] else { return nil }
        return FeatureSet(features: features, labels: labels, classCount: classes)
    }

    /// Writes one block's features (atomically), with the key, the class count and `extra` metadata.
    public func store(_ set: FeatureSet, dataset: DatasetSpec, split: DatasetSplit, block: Int,
                      extra: [String: String] = [:]) throws {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw RunError("cannot create the feature cache \(folder): \(error.localizedDescription)")
        }
        try SafeTensors.write([("features", set.features), ("labels", set.labels)],
                              metadata: extra.merging(metadata(block: block)) { $1 }.merging(["classes": "\(set.classCount)"]) { $1 },
                              to: path(dataset: dataset, split: split, block: block))
    }
}

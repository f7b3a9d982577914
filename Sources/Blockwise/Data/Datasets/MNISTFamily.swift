import Foundation
import Torch

/// MNIST-family datasets in IDX files: `train-images-idx3-ubyte[.gz]`,
/// `train-labels-idx1-ubyte[.gz]`, and `t10k-…` for the test split. Fashion-MNIST, MNIST,
/// KMNIST share the layout. Images are 1×28×28.
public enum MNISTFamily {
    /// Reads one split from `folder`.
    public static func load(folder: String, split: DatasetSplit, name: String, classCount: Int = 10,
                            statistics: ChannelStatistics) throws -> TensorImageSet {
        let prefix: String
        switch split {
        case .train, .pretrain: prefix = "train"
        case .test: prefix = "t10k"
        case .unlabeled: throw DataError(name, "has no unlabeled split (it has train and test)")
        }
        let imagesPath = try locate(folder: folder, stems: ["\(prefix)-images-idx3-ubyte", "\(prefix)-images.idx3-ubyte"])
        let labelsPath = try locate(folder: folder, stems: ["\(prefix)-labels-idx1-ubyte", "\(prefix)-labels.idx1-ubyte"])
        let images = try IDXFile.read(imagesPath)
        let labels = try IDXFile.read(labelsPath)
        guard images.rank == 3 else {
            throw DataError(imagesPath, "expected images [N, H, W] (IDX rank 3), got sizes \(images.shape)")
        }
        guard labels.rank == 1 else {
            throw DataError(labelsPath, "expected labels [N] (IDX rank 1), got sizes \(labels.shape)")
        }
        guard labels.size(0) == images.size(0) else {
            throw DataError(labelsPath, "holds \(labels.size(0)) labels for the \(images.size(0)) images of \(imagesPath)")
        }
        if labels.count > 0, case let high = labels.max().itemInt(), high >= classCount {
            let at = labels.toArray(Int.self).firstIndex(of: high) ?? -1
            throw DataError(labelsPath, "label \(high) of image \(at) is out of range 0..<\(classCount)")
        }
        return try TensorImageSet(name: "\(name)/\(split.rawValue)", images: images.unsqueeze(1), labels: labels.to(.int64),
                                  classCount: classCount, statistics: statistics)
    }

    /// The first of `stems` present in `folder`, gzipped or not.
    static func locate(folder: String, stems: [String]) throws -> String {
        try requireFolder(folder)
        for stem in stems {
            for name in [stem + ".gz", stem] {
                let path = folder + "/" + name
                if FileManager.default.fileExists(atPath: path) { return path }
            }
        }
        throw DataError(folder, "no \(stems[0]).gz or \(stems[0]) in this folder")
    }
}

/// Fails unless `path` is an existing folder.
func requireFolder(_ path: String) throws {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw DataError(path, "no such folder")
    }
    guard isDirectory.boolValue else { throw DataError(path, "is a file, expected a folder") }
}

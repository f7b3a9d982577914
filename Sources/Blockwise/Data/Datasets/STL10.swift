import Foundation
import Torch

/// STL-10 in its binary version (`stl10_binary`): `train_X.bin`/`train_y.bin` (5,000),
/// `test_X.bin`/`test_y.bin` (8,000), `unlabeled_X.bin` (100,000, for pretraining).
/// Images are 3×96×96 stored column-major (each channel as [W, H], as MATLAB writes them);
/// labels are bytes 1…10.
public enum STL10 {
    static let side = 96

    public static func load(folder: String, split: DatasetSplit) throws -> any ImageDataset {
        try requireFolder(folder)
        switch split {
        case .train: return try labelled(folder: folder, stem: "train")
        case .test: return try labelled(folder: folder, stem: "test")
        case .unlabeled: return try unlabeled(folder: folder)
        case .pretrain:
            return try ConcatenatedDataset([labelled(folder: folder, stem: "train"), unlabeled(folder: folder)],
                                           name: "stl10/pretrain")
        }
    }

    static func labelled(folder: String, stem: String) throws -> TensorImageSet {
        let images = try readImages(folder + "/\(stem)_X.bin")
        let labelsPath = folder + "/\(stem)_y.bin"
        let bytes = try RawFile.bytes(labelsPath)
        guard bytes.count == images.size(0) else {
            throw DataError(labelsPath, "holds \(bytes.count) labels for the \(images.size(0)) images of \(stem)_X.bin")
        }
        if let bad = bytes.firstIndex(where: { $0 < 1 || $0 > 10 }) {
            throw DataError(labelsPath, "label \(bytes[bad]) of image \(bad) is out of range 1…10")
        }
        return try TensorImageSet(name: "stl10/\(stem)", images: images, labels: Tensor(bytes.map { Int($0) - 1 }),
                                  classCount: 10, statistics: .stl10)
    }

    static func unlabeled(folder: String) throws -> TensorImageSet {
        let images = try readImages(folder + "/unlabeled_X.bin")
        return try TensorImageSet(name: "stl10/unlabeled", images: images,
                                  labels: Tensor.full([images.size(0)], -1, dtype: .int64), classCount: 10,
                                  statistics: .stl10)
    }

    /// [N, 3, 96, 96], a transposed view of the file's [N, 3, W, H] (no copy of 2.7 GB).
    static func readImages(_ path: String) throws -> Tensor {
        let size = try RawFile.size(path)
        let perImage = 3 * side * side
        guard size > 0, size % perImage == 0 else {
            throw DataError(path, "size \(size) bytes is not a positive multiple of \(perImage) (3×96×96 pixels); " +
                            "truncated or not an STL-10 binary file")
        }
        let images = Tensor.empty([size / perImage, 3, side, side], dtype: .uint8)
        try images.withUnsafeMutableBytes { try RawFile.read(path, into: $0) }
        return images.transpose(2, 3)
    }
}

import Foundation
import Torch

/// CIFAR-10 and CIFAR-100 in their binary versions (`cifar-10-batches-bin`,
/// `cifar-100-binary`): records of label byte(s) followed by 3×32×32 pixels, channel-major.
public enum CIFAR {
    /// CIFAR-10: `data_batch_1.bin`…`data_batch_5.bin` (train), `test_batch.bin` (test);
    /// records of 1 label byte + 3072 pixel bytes.
    public static func load10(folder: String, split: DatasetSplit) throws -> TensorImageSet {
        let files: [String]
        switch split {
        case .train, .pretrain: files = (1...5).map { "data_batch_\($0).bin" }
        case .test: files = ["test_batch.bin"]
        case .unlabeled: throw DataError("cifar10", "has no unlabeled split (it has train and test)")
        }
        try requireFolder(folder)
        return try read(files.map { folder + "/" + $0 }, labelBytes: 1, labelOffset: 0, classCount: 10,
                        name: "cifar10/\(split.rawValue)", statistics: .cifar10)
    }

    /// CIFAR-100: `train.bin`, `test.bin`; records of a coarse and a fine label byte + 3072
    /// pixel bytes. The 100 fine labels are the labels (`coarse` picks the 20 superclasses).
    public static func load100(folder: String, split: DatasetSplit, coarse: Bool = false) throws -> TensorImageSet {
        let file: String
        switch split {
        case .train, .pretrain: file = "train.bin"
        case .test: file = "test.bin"
        case .unlabeled: throw DataError("cifar100", "has no unlabeled split (it has train and test)")
        }
        try requireFolder(folder)
        return try read([folder + "/" + file], labelBytes: 2, labelOffset: coarse ? 0 : 1, classCount: coarse ? 20 : 100,
                        name: "cifar100/\(split.rawValue)", statistics: .cifar100)
    }

    static func read(_ paths: [String], labelBytes: Int, labelOffset: Int, classCount: Int, name: String,
                     statistics: ChannelStatistics) throws -> TensorImageSet {
        let pixels = 3 * 32 * 32
        let record = labelBytes + pixels
        var parts: [(path: String, bytes: [UInt8])] = []
        for path in paths {
            let bytes = try RawFile.bytes(path)
            guard bytes.count % record == 0, !bytes.isEmpty else {
                throw DataError(path, "size \(bytes.count) bytes is not a positive multiple of the \(record)-byte records " +
                                "(\(labelBytes) label byte(s) + \(pixels) pixels); truncated or not a CIFAR binary file")
            }
            parts.append((path, bytes))
        }
        let total = parts.reduce(0) { $0 + $1.bytes.count / record }
        let images = Tensor.empty([total, 3, 32, 32], dtype: .uint8)
        var labels = [Int](repeating: 0, count: total)
        try images.withUnsafeMutableBytes { out in
            var n = 0
            for (path, bytes) in parts {
                try bytes.withUnsafeBytes { src in
                    for r in 0..<(bytes.count / record) {
                        let label = Int(src[r * record + labelOffset])
                        guard label < classCount else {
                            throw DataError(path, "label \(label) of record \(r) is out of range 0..<\(classCount)")
                        }
                        labels[n] = label
                        (out.baseAddress! + n * pixels).copyMemory(from: src.baseAddress! + r * record + labelBytes, byteCount: pixels)
                        n += 1
                    }
                }
            }
        }
        return try TensorImageSet(name: name, images: images, labels: Tensor(labels), classCount: classCount,
                                  statistics: statistics)
    }
}

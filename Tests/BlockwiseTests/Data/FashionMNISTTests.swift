import Foundation
import Testing
import Torch
@testable import Blockwise

let fashionMNISTFolder = "/usr/share/datasets/fashion-mnist"
let fashionMNISTInstalled = FileManager.default.fileExists(atPath: fashionMNISTFolder + "/train-images-idx3-ubyte.gz")

/// The real dataset, from Debian's `dataset-fashion-mnist`. Known values were read from the
/// files with Python's gzip module (not with this code).
@Suite("Fashion-MNIST", .enabled(if: fashionMNISTInstalled, "dataset-fashion-mnist is not installed (/usr/share/datasets/fashion-mnist)"))
struct FashionMNISTTests {
    @Test func allSeventyThousandImagesLoadWithTheirLabels() throws {
        let train = try DatasetSpec(parsing: "fashion-mnist").load(split: .train) as! TensorImageSet
        let test = try DatasetSpec(parsing: "fashion-mnist").load(split: .test) as! TensorImageSet
        #expect(train.count + test.count == 70_000)
        #expect(train.imageShape == [1, 28, 28])
        #expect(train.labels.toArray(Int.self).prefix(10) == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5])
        #expect(train.labels.toArray(Int.self).suffix(5) == [5, 1, 3, 0, 5])
        #expect(test.labels.toArray(Int.self).prefix(10) == [9, 2, 1, 1, 6, 1, 4, 6, 5, 7])
        #expect(train.images.to(.int64).sum().itemInt() == 3_431_114_169)
        #expect(test.images.to(.int64).sum().itemInt() == 573_469_082)
    }

    @Test func pixelsKeepTheirRowMajorPlace() throws {
        let train = try MNISTFamily.load(folder: fashionMNISTFolder, split: .train, name: "fashion-mnist", statistics: .fashionMNIST)
        let row = train.images[0][0][14].toArray(UInt8.self)
        let expected: [UInt8] = [0x00, 0x00, 0x01, 0x04, 0x06, 0x07, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0xed, 0xe2,
                                 0xd9, 0xdf, 0xde, 0xdb, 0xde, 0xdd, 0xd8, 0xdf, 0xe5, 0xd7, 0xda, 0xff, 0x4d, 0x00]
        #expect(row == expected)
        #expect(train.images[0].to(.int64).sum().itemInt() == 76_247)
    }

    @Test func theDefaultRealDatasetIsFashionMNISTFromItsDebianFolder() throws {
        #expect(DatasetSpec.defaultReal.description == "fashion-mnist")
        #expect(try DatasetSpec.defaultReal.resolvedFolder().hasSuffix("fashion-mnist"))
    }
}

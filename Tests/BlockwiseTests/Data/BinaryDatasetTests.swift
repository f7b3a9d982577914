import Foundation
import Testing
import Torch
@testable import Blockwise

/// CIFAR and STL-10 binary files, written here in their documented layouts.
@Suite struct BinaryDatasetTests {
    /// A CIFAR-10 record: label, then 3072 pixels where pixel k of channel c is (c·7 + k + label) mod 256.
    func cifarRecord(label: UInt8, labelBytes: [UInt8]? = nil) -> [UInt8] {
        let pixels: [UInt8] = (0..<3072).map { (k: Int) -> UInt8 in
            let value: Int = k / 1024 * 7 + k % 1024 + Int(label)
            return UInt8(value % 256)
        }
        return (labelBytes ?? [label]) + pixels
    }

    func cifar10Folder(testLabels: [UInt8] = [3, 9]) -> TemporaryFolder {
        let folder = TemporaryFolder()
        for batch in 1...5 { folder.write("cifar-10-batches-bin/data_batch_\(batch).bin", cifarRecord(label: UInt8(batch))) }
        folder.write("cifar-10-batches-bin/test_batch.bin", testLabels.flatMap { cifarRecord(label: $0) })
        return folder
    }

    @Test func cifar10RecordsLoadChannelMajorWithLabels() throws {
        let folder = cifar10Folder()
        let spec = try DatasetSpec(parsing: "cifar10:\(folder.path)")
        let train = try spec.load(split: .train) as! TensorImageSet
        #expect(train.count == 5 && train.labels.toArray(Int.self) == [1, 2, 3, 4, 5])
        let test = try spec.load(split: .test) as! TensorImageSet
        #expect(test.labels.toArray(Int.self) == [3, 9])
        // Channel 1, row 0, column 5 of the first test image: (7 + 5 + 3).
        #expect(test.images[0][1][0][5].itemInt() == 15)
        #expect(test.imageShape == [3, 32, 32])
    }

    @Test func cifar100UsesFineLabelsUnlessCoarseIsAsked() throws {
        let folder = TemporaryFolder()
        folder.write("cifar-100-binary/train.bin", cifarRecord(label: 0, labelBytes: [4, 77]) + cifarRecord(label: 0, labelBytes: [19, 99]))
        let fine = try DatasetSpec(parsing: "cifar100:\(folder.path)").load(split: .train) as! TensorImageSet
        #expect(fine.labels.toArray(Int.self) == [77, 99] && fine.classCount == 100)
        let coarse = try DatasetSpec(parsing: "cifar100:\(folder.path)/cifar-100-binary?coarse=true").load(split: .train) as! TensorImageSet
        #expect(coarse.labels.toArray(Int.self) == [4, 19] && coarse.classCount == 20)
    }

    @Test func aTruncatedCIFARFileIsAnErrorNamingIt() {
        let folder = cifar10Folder()
        let path = folder.write("cifar-10-batches-bin/data_batch_3.bin", Array(cifarRecord(label: 1).prefix(2000)))
        let error = #expect(throws: DataError.self) { try CIFAR.load10(folder: folder.path + "/cifar-10-batches-bin", split: .train) }
        #expect(error?.path == path)
        #expect(error?.problem.contains("not a positive multiple of the 3073-byte records") == true)
    }

    @Test func aCIFARLabelOutOfRangeIsAnErrorNamingTheRecord() {
        let folder = cifar10Folder(testLabels: [3, 10])
        let error = #expect(throws: DataError.self) { try CIFAR.load10(folder: folder.path + "/cifar-10-batches-bin", split: .test) }
        #expect(error?.problem == "label 10 of record 1 is out of range 0..<10")
    }

    /// STL-10 stores each channel column-major: byte (c, x, y) at c·96² + x·96 + y.
    func stlFolder(labels: [UInt8] = [1, 10], unlabeled: Int = 3) -> TemporaryFolder {
        let folder = TemporaryFolder()
        func images(_ n: Int) -> [UInt8] {
            (0..<(n * 3 * 96 * 96)).map { (o: Int) -> UInt8 in
                let y: Int = o % 96, x: Int = o / 96 % 96
                return UInt8((y * 2 + x) % 256)
            }
        }
        folder.write("stl10_binary/train_X.bin", images(labels.count))
        folder.write("stl10_binary/train_y.bin", labels)
        folder.write("stl10_binary/test_X.bin", images(1))
        folder.write("stl10_binary/test_y.bin", [5])
        folder.write("stl10_binary/unlabeled_X.bin", images(unlabeled))
        return folder
    }

    @Test func stl10ImagesAreTransposedToRowMajorAndLabelsStartAtZero() throws {
        let folder = stlFolder()
        let train = try DatasetSpec(parsing: "stl10:\(folder.path)").load(split: .train) as! TensorImageSet
        #expect(train.labels.toArray(Int.self) == [0, 9])
        #expect(train.imageShape == [3, 96, 96])
        // Row y = 3, column x = 10: the file's byte at x·96 + y holds y·2 + x (mod 256).
        #expect(train.images[0][0][3][10].itemInt() == 3 * 2 + 10)
    }

    @Test func stl10PretrainingReadsTrainAndUnlabeledTogether() throws {
        let folder = stlFolder()
        let set = try DatasetSpec(parsing: "stl10:\(folder.path)").load(split: .pretrain)
        #expect(set.count == 5)
        let batch = try set.batch([4, 0, 2])
        #expect(batch.labels.toArray(Int.self) == [-1, 0, -1])
        #expect(batch.images.shape == [3, 3, 96, 96])
    }

    @Test func stl10LabelsOutsideOneToTenAreAnError() {
        let folder = stlFolder(labels: [1, 0])
        let error = #expect(throws: DataError.self) { try STL10.load(folder: folder.path + "/stl10_binary", split: .train) }
        #expect(error?.problem == "label 0 of image 1 is out of range 1…10")
    }
}

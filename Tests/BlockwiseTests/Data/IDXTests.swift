import CZlib
import Foundation
import Testing
import Torch
@testable import Blockwise

/// Reading MNIST-family IDX folders, and every way they can be broken.
@Suite struct IDXTests {
    /// A folder in the MNIST layout holding the fixture pair as its train split.
    func mnistFolder(images: [UInt8]? = nil, labels: [UInt8]? = nil) -> TemporaryFolder {
        let folder = TemporaryFolder()
        folder.write("train-images-idx3-ubyte.gz", images ?? Fixtures.bytes("data", "images-idx3-ubyte.gz"))
        folder.write("train-labels-idx1-ubyte.gz", labels ?? Fixtures.bytes("data", "labels-idx1-ubyte.gz"))
        return folder
    }

    func loadError(_ folder: TemporaryFolder, split: DatasetSplit = .train) -> DataError? {
        do {
            _ = try MNISTFamily.load(folder: folder.path, split: split, name: "test", statistics: .mnist)
            return nil
        } catch { return error as? DataError }
    }

    @Test func gzipIDXFilesLoadAsWrittenByPython() throws {
        let folder = mnistFolder()
        let set = try MNISTFamily.load(folder: folder.path, split: .train, name: "test", statistics: .mnist)
        let expected = Fixtures.json("data", "expected.json")
        #expect(set.count == 3)
        #expect(set.imageShape == [1, 28, 28])
        #expect(set.labels.toArray(Int.self) == Fixtures.numbers(expected, "idx_labels").map { Int($0) })
        #expect(set.images.to(.int64).sum().itemInt() == Int(expected["idx_images_sum"] as! NSNumber))
        #expect(set.images[0][0][0].toArray(UInt8.self).map { Double($0) } == Fixtures.numbers(expected, "idx_images_first_row"))
    }

    @Test func uncompressedIDXFilesLoadToo() throws {
        let folder = TemporaryFolder()
        folder.write("t10k-images-idx3-ubyte", idxBytes(shape: [2, 2, 2], data: [1, 2, 3, 4, 5, 6, 7, 8]))
        folder.write("t10k-labels-idx1-ubyte", idxBytes(shape: [2], data: [3, 4]))
        let set = try MNISTFamily.load(folder: folder.path, split: .test, name: "test", statistics: .mnist)
        #expect(set.images.toArray(UInt8.self) == [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(set.labels.toArray(Int.self) == [3, 4])
    }

    @Test func aMissingFolderIsAnErrorNamingIt() {
        let error = #expect(throws: DataError.self) {
            _ = try MNISTFamily.load(folder: "/nonexistent/mnist", split: .train, name: "test", statistics: .mnist)
        }
        #expect(error?.description == "/nonexistent/mnist: no such folder")
    }

    @Test func aMissingFileIsAnErrorNamingTheFileExpected() {
        let folder = TemporaryFolder()
        let error = loadError(folder)
        #expect(error?.path == folder.path)
        #expect(error?.problem.contains("train-images-idx3-ubyte") == true)
    }

    @Test func aTruncatedGzipFileIsAnErrorNamingTheFile() {
        let whole = Fixtures.bytes("data", "images-idx3-ubyte.gz")
        let folder = mnistFolder(images: Array(whole.prefix(whole.count / 2)))
        let error = loadError(folder)
        #expect(error?.path.hasSuffix("train-images-idx3-ubyte.gz") == true)
        #expect(error?.problem.contains("truncated") == true)
    }

    @Test func corruptCompressedDataIsAnErrorNamingTheFile() {
        var bytes = Fixtures.bytes("data", "images-idx3-ubyte.gz")
        for i in 20..<60 { bytes[i] ^= 0x5A }
        let error = loadError(mnistFolder(images: bytes))
        #expect(error?.path.hasSuffix("train-images-idx3-ubyte.gz") == true)
        #expect(error?.problem.contains("corrupt") == true)
    }

    @Test func anIDXFileShorterThanItsSizesIsTruncated() {
        let error = loadError(mnistFolder(images: idxBytes(shape: [3, 28, 28], data: [UInt8](repeating: 1, count: 1000))))
        #expect(error?.problem == "truncated: sizes [3, 28, 28] need 2352 bytes of data, the file holds 1000")
    }

    @Test func sizesWhoseProductOverflowsAreAnErrorNamingTheFileAndTheSizes() {
        let header: [UInt8] = [0, 0, 0x08, 0x03] + [UInt8](repeating: 0xFF, count: 12) + [UInt8](repeating: 0, count: 100)
        let error = loadError(mnistFolder(images: gzipped(header)))
        #expect(error?.path.hasSuffix("train-images-idx3-ubyte.gz") == true)
        #expect(error?.problem == "IDX sizes [4294967295, 4294967295, 4294967295] claim more than 2^63 bytes of data")
    }

    @Test func aCompressedFileClaimingMoreThanItCanExpandToIsRefusedBeforeReading() {
        let data = gzipped(idxBytes(shape: [60000, 784, 1], data: [UInt8](repeating: 0, count: 100)))
        let error = loadError(mnistFolder(images: data))
        #expect(error?.path.hasSuffix("train-images-idx3-ubyte.gz") == true)
        #expect(error?.problem == "IDX sizes [60000, 784, 1] claim 47040000 bytes of data, more than this compressed file can expand to (at most \(data.count * 1032))")
    }

    @Test func aFileThatIsNotIDXIsAWrongFormatError() {
        let error = loadError(mnistFolder(images: Array("<html>not found</html>".utf8)))
        #expect(error?.problem.contains("not an IDX file") == true)
    }

    @Test func labelsAndImagesOfDifferentCountsAreAnError() {
        let error = loadError(mnistFolder(labels: idxBytes(shape: [2], data: [1, 2])))
        #expect(error?.problem.contains("holds 2 labels for the 3 images") == true)
    }

    @Test func aLabelOutOfRangeIsAnErrorNamingTheImage() {
        let error = loadError(mnistFolder(labels: idxBytes(shape: [3], data: [1, 12, 2])))
        #expect(error?.path.hasSuffix("train-labels-idx1-ubyte.gz") == true)
        #expect(error?.problem == "label 12 of image 1 is out of range 0..<10")
    }
}

/// `bytes` gzip-compressed, as `gzip` writes them.
func gzipped(_ bytes: [UInt8]) -> [UInt8] {
    let path = NSTemporaryDirectory() + "blockwise-gzip-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: path) }
    let file = gzopen(path, "wb")!
    _ = bytes.withUnsafeBytes { gzwrite(file, $0.baseAddress, UInt32($0.count)) }
    gzclose(file)
    return Array(FileManager.default.contents(atPath: path)!)
}

import CZlib
import Foundation
import Testing
import Torch
@testable import Blockwise

/// Image folders of JPEG and PNG files, decoded with libjpeg-turbo and libpng and compared
/// with Pillow's decoding (Tests/Fixtures/data/make_files.py).
@Suite struct ImageFolderTests {
    nonisolated(unsafe) static let expected = Fixtures.json("data", "expected.json")

    func pixels(_ key: String) -> [Int] { Fixtures.numbers(Self.expected, key).map { Int($0) } }

    /// root/cat/{a.jpg, b.png}, root/dog/{c.png}
    func folder() -> TemporaryFolder {
        let folder = TemporaryFolder()
        folder.write("train/cat/a.jpg", Fixtures.bytes("data", "gradient.jpg"))
        folder.write("train/cat/b.png", Fixtures.bytes("data", "gradient.png"))
        folder.write("train/dog/c.PNG", Fixtures.bytes("data", "grey.png"))
        folder.write("train/dog/notes.txt", Array("not an image".utf8))
        return folder
    }

    @Test func jpegDecodesAsPillowDecodesIt() throws {
        let folder = folder()
        let image = try ImageDecoder.decode(folder.path + "/train/cat/a.jpg")
        #expect(image.width == 56 && image.height == 40)
        let difference = zip(image.rgb.map { Int($0) }, pixels("jpeg_rgb")).map { abs($0 - $1) }.max()!
        #expect(difference <= 1)
    }

    @Test func pngDecodesExactly() throws {
        let folder = folder()
        #expect(try ImageDecoder.decode(folder.path + "/train/cat/b.png").rgb.map { Int($0) } == pixels("png_rgb"))
        #expect(try ImageDecoder.decode(folder.path + "/train/dog/c.PNG").rgb.map { Int($0) } == pixels("grey_png_rgb"))
    }

    @Test func aFolderOfJPEGsAndPNGsLoadsWithClassesInSortedOrder() throws {
        let folder = folder()
        let set = try ImageFolder(root: folder.path + "/train", side: 16)
        #expect(set.classNames == ["cat", "dog"])
        #expect(set.count == 3)
        let batch = try set.batch([2, 0, 1])
        #expect(batch.images.shape == [3, 3, 16, 16])
        #expect(batch.images.dtype == .uint8)
        #expect(batch.labels.toArray(Int.self) == [1, 0, 0])
    }

    @Test func imagesAreResizedOnTheShorterSideAndCentreCropped() throws {
        let folder = folder()
        let set = try ImageFolder(root: folder.path + "/train", side: 20)
        let png = try set.image(at: 1).to(.float32)
        // 40×56 → 20×28 (halved), centre 20 columns: columns 4..<24 of the half-size image.
        let source = Tensor(pixels("png_rgb").map { Float($0) }, shape: [40, 56, 3]).permute([2, 0, 1]).unsqueeze(0)
        let half = interpolate(source, size: [20, 28], mode: .bilinear, antialias: true).round().clamp(min: 0, max: 255)
        #expect(png.allClose(half.narrow(dim: 3, start: 4, length: 20).squeeze(dim: 0), atol: 0))
    }

    @Test func theSpecFindsTrainAndValSplits() throws {
        let folder = folder()
        folder.write("val/cat/x.png", Fixtures.bytes("data", "gradient.png"))
        folder.write("val/dog/y.png", Fixtures.bytes("data", "grey.png"))
        let spec = try DatasetSpec(parsing: "folder:\(folder.path)?size=32")
        #expect(try spec.load(split: .train).count == 3)
        let test = try spec.load(split: .test)
        #expect(test.count == 2 && test.imageShape == [3, 37, 37])
    }

    @Test func anEmptyClassFolderIsAnErrorNamingIt() {
        let folder = folder()
        folder.makeFolder("train/emu")
        let error = #expect(throws: DataError.self) { try ImageFolder(root: folder.path + "/train", side: 16) }
        #expect(error?.path.hasSuffix("train/emu") == true)
        #expect(error?.problem.contains("no .jpg, .jpeg or .png") == true)
    }

    @Test func aFolderWithoutClassSubfoldersIsAnError() {
        let folder = TemporaryFolder()
        folder.write("a.png", Fixtures.bytes("data", "grey.png"))
        #expect(throws: DataError.self) { try ImageFolder(root: folder.path, side: 16) }
    }

    @Test func aTruncatedJPEGIsAnErrorNamingTheFile() throws {
        let folder = folder()
        let jpeg = Fixtures.bytes("data", "gradient.jpg")
        let path = folder.write("train/cat/a.jpg", Array(jpeg.prefix(jpeg.count * 2 / 3)))
        let set = try ImageFolder(root: folder.path + "/train", side: 16)
        let error = #expect(throws: DataError.self) { try set.batch([0, 1]) }
        #expect(error?.path == path)
        #expect(error?.problem.contains("unreadable JPEG") == true)
    }

    @Test func aCorruptPNGIsAnErrorNamingTheFile() throws {
        let folder = folder()
        var png = Fixtures.bytes("data", "gradient.png")
        for i in 40..<png.count - 12 { png[i] ^= 0x33 }
        let path = folder.write("train/cat/b.png", png)
        let set = try ImageFolder(root: folder.path + "/train", side: 16)
        let error = #expect(throws: DataError.self) { try set.batch([1]) }
        #expect(error?.path == path)
        #expect(error?.problem.contains("unreadable PNG") == true)
    }

    @Test func aFileThatIsNoImageIsAnErrorNamingTheFile() throws {
        let folder = folder()
        let path = folder.write("train/cat/a.jpg", Array("<html>".utf8))
        let set = try ImageFolder(root: folder.path + "/train", side: 16)
        let error = #expect(throws: DataError.self) { try set.image(at: 0) }
        #expect(error == DataError(path, "not a JPEG or PNG image (unrecognised first bytes)"))
    }

    /// The gradient PNG with its IHDR claiming `width`×`height` (CRC fixed): a valid header, a short IDAT.
    func pngClaiming(width: UInt32, height: UInt32) -> [UInt8] {
        var png = Fixtures.bytes("data", "gradient.png")
        png.replaceSubrange(16..<24, with: withUnsafeBytes(of: (width.bigEndian, height.bigEndian)) { Array($0) })
        let crc = png[12..<29].withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, UInt32($0.count))) }
        png.replaceSubrange(29..<33, with: withUnsafeBytes(of: crc.bigEndian) { Array($0) })
        return png
    }

    @Test func aPNGHeaderClaimingTooManyPixelsIsAnErrorNamingTheFile() throws {
        let folder = folder()
        let path = folder.write("train/cat/b.png", pngClaiming(width: 100_000, height: 100_000))
        let set = try ImageFolder(root: folder.path + "/train", side: 16)
        let error = #expect(throws: DataError.self) { try set.batch([1]) }
        #expect(error == DataError(path, "PNG header claims 100000×100000 pixels, more than the 268435456 (2^28) an image may have"))
    }

    @Test func aJPEGHeaderClaimingTooManyPixelsIsAnErrorNamingTheFile() throws {
        let folder = folder()
        var jpeg = Fixtures.bytes("data", "gradient.jpg")
        let sof = (0..<jpeg.count - 1).first { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 }!
        jpeg.replaceSubrange((sof + 5)..<(sof + 9), with: [0xFD, 0xE8, 0xFD, 0xE8])  // 65000×65000
        let path = folder.write("train/cat/a.jpg", jpeg)
        let set = try ImageFolder(root: folder.path + "/train", side: 16)
        let error = #expect(throws: DataError.self) { try set.batch([0]) }
        #expect(error == DataError(path, "JPEG header claims 65000×65000 pixels, more than the 268435456 (2^28) an image may have"))
    }

    /// Makes `name` under `folder`, a name given as bytes (Latin-1's "café" is not UTF-8): a
    /// folder, or a file of `contents`.
    func make(_ name: [UInt8], in folder: String, contents: [UInt8]? = nil) throws {
        let path = (Array(folder.utf8) + [UInt8(ascii: "/")] + name + [0]).map { CChar(bitPattern: $0) }
        if let contents {
            let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            try #require(descriptor >= 0)
            try #require(write(descriptor, contents, contents.count) == contents.count)
            close(descriptor)
        } else {
            try #require(mkdir(path, 0o755) == 0)
        }
    }

    static let latin1Cafe: [UInt8] = [0x63, 0x61, 0x66, 0xE9]

    @Test func aClassFolderWhoseNameIsNotUTF8IsRefusedNamingIt() throws {
        let folder = folder()
        try make(Self.latin1Cafe, in: folder.path + "/train")
        try make(Self.latin1Cafe + Array("/d.png".utf8), in: folder.path + "/train", contents: Fixtures.bytes("data", "grey.png"))
        let error = #expect(throws: DataError.self) { try ImageFolder(root: folder.path + "/train", side: 16) }
        #expect(error?.path == folder.path + "/train")
        #expect(error?.problem.hasPrefix("holds class folder \"caf\\xE9\", whose name is not UTF-8: rename it") == true,
                "\(String(describing: error))")
    }

    @Test func anImageWhoseNameIsNotUTF8IsRefusedNamingIt() throws {
        let folder = folder()
        try make(Self.latin1Cafe + Array(".PNG".utf8), in: folder.path + "/train/dog", contents: Fixtures.bytes("data", "grey.png"))
        let error = #expect(throws: DataError.self) { try ImageFolder(root: folder.path + "/train", side: 16) }
        #expect(error?.path == folder.path + "/train/dog")
        #expect(error?.problem.hasPrefix("holds image \"caf\\xE9.PNG\", whose name is not UTF-8") == true,
                "\(String(describing: error))")
    }

    @Test func aFileWhoseNameIsNotUTF8AndNotAnImageIsLeftOutAsOtherFilesAre() throws {
        let folder = folder()
        try make(Self.latin1Cafe + Array(".txt".utf8), in: folder.path + "/train/dog", contents: Array("notes".utf8))
        #expect(try ImageFolder(root: folder.path + "/train", side: 16).count == 3)
    }

    @Test func anImageClaimingTooManyPixelsIsSkippedAndCountedWhenAsked() throws {
        let folder = folder()
        folder.write("train/cat/b.png", pngClaiming(width: 100_000, height: 100_000))
        let set = try ImageFolder(root: folder.path + "/train", side: 16, skipUnreadable: true)
        #expect(try set.verify() == 1)
        let batch = try set.batch([1, 2])
        #expect(batch.images[0].equal(batch.images[1]))
        #expect(set.skippedCount == 1)
    }

    @Test func unreadableImagesCanBeSkippedAndCounted() throws {
        let folder = folder()
        folder.write("train/cat/a.jpg", [0xFF, 0xD8, 0xFF, 0x00])
        let set = try ImageFolder(root: folder.path + "/train", side: 16, skipUnreadable: true)
        #expect(try set.verify() == 1)
        let batch = try set.batch([0, 1, 2])
        #expect(batch.images.shape == [3, 3, 16, 16])
        // Image 0 is replaced by the next readable one, image 1.
        #expect(batch.images[0].equal(batch.images[1]))
        #expect(set.skippedCount == 1)
    }
}

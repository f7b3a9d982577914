import CZlib
import Foundation
import Testing
import Torch
@testable import Blockwise

/// Images a real folder holds besides clean RGB JPEGs (made by Tests/Fixtures/data/pillow_reference.py):
/// each loads correctly, or is an error naming the file, or is skipped and counted when asked.
@Suite struct BadImageTests {
    /// The bad images: good.jpg, truncated.jpg, corrupt-scan.jpg, corrupt-header.jpg, cmyk.jpg,
    /// grey.jpg, grey16.png, rgb16.png.
    let images = TemporaryFolder()

    init() throws { try PillowReference.run(["bad-images", images.path]) }

    func path(_ name: String) throws -> String { images.path + "/" + name }

    /// A folder of one class holding `names` (copied from the bad images), in this order (one per test).
    func folder(_ names: [String], skipUnreadable: Bool = false) throws -> ImageFolder {
        for (i, name) in names.enumerated() {
            images.write("train/a/\(i)-\(name)", try PillowReference.bytes(try path(name)))
        }
        return try ImageFolder(root: images.path + "/train", side: 256, skipUnreadable: skipUnreadable)
    }

    static let augmentation = TwoViewAugmentation(side: 64, normalization: .imagenet)

    func views(_ set: ImageFolder, _ indices: [Int]) throws -> CroppedViews {
        let parameters = Self.augmentation.draw(count: indices.count, height: 1, width: 1, generator: Generator(seed: 2), shard: (0, 1))
        return try #require(try set.croppedViews(indices, augmentation: Self.augmentation, parameters: parameters))
    }

    /// Pillow's RGB pixels of the bad image `name`.
    func pillowPixels(_ name: String) throws -> [Int] {
        let out = images.path + "/\(name).raw"
        try PillowReference.run(["decode", try path(name), out])
        return try PillowReference.bytes(out).map(Int.init)
    }

    @Test(arguments: ["truncated.jpg", "corrupt-header.jpg"])
    func anUnreadableJPEGIsAnErrorNamingTheFileInViewsAndBatches(name: String) throws {
        let set = try folder(["good.jpg", name])
        for read in [{ _ = try self.views(set, [0, 1]) }, { _ = try set.batch([0, 1]) }] {
            let error = #expect(throws: DataError.self) { try read() }
            #expect(error?.path == set.files[1].path)
            #expect(error?.problem.hasPrefix("unreadable JPEG") == true, "\(String(describing: error))")
        }
    }

    @Test func aJPEGWithDamagedScanDataLoadsAsLibjpegTurboRecoversIt() throws {
        let set = try folder(["corrupt-scan.jpg"])
        let views = try views(set, [0])
        #expect(views.imageWidths == [320] && views.imageHeights == [240])
        #expect(views.viewA.to(.float32).std().item() > 1, "a real picture, not a blank")
    }

    @Test(arguments: ["truncated.jpg", "corrupt-header.jpg"])
    func anUnreadableImageIsSkippedAndCountedWhenAsked(name: String) throws {
        let set = try folder(["good.jpg", name, "grey.jpg"], skipUnreadable: true)
        let views = try views(set, [0, 1, 2])
        // The unreadable image 1 is replaced by the next readable one, image 2.
        #expect(views.imageWidths == [320, 320, 320])
        #expect(set.skippedCount == 1 && set.skippedImageCount == 1)
        _ = try set.batch([1, 1])
        #expect(set.skippedCount == 1, "an image is counted once however often it is met")
    }

    @Test func aCMYKJPEGLoadsAsPillowConvertsItToRGB() throws {
        let pixels = try ImageDecoder.decode(try path("cmyk.jpg"))
        #expect(pixels.width == 320 && pixels.height == 240)
        let difference = zip(pixels.rgb.map(Int.init), try pillowPixels("cmyk.jpg")).map { abs($0 - $1) }.max()!
        #expect(difference <= 1)
    }

    @Test func aGreyscaleJPEGLoadsAsThreeEqualChannels() throws {
        let pixels = try ImageDecoder.decode(try path("grey.jpg"))
        let expected = try pillowPixels("grey.jpg")
        #expect(zip(pixels.rgb.map(Int.init), expected).map { abs($0 - $1) }.max()! <= 1)
        #expect((0..<(pixels.width * pixels.height)).allSatisfy { pixels.rgb[3 * $0] == pixels.rgb[3 * $0 + 2] })
        let set = try folder(["grey.jpg"])
        #expect(try views(set, [0]).viewA.shape == [1, 3, 64, 64])
    }

    /// The samples of a 16-bit PNG written by the fixture script (big-endian, after the filter byte of each row).
    func sixteenBitSamples(_ name: String, width: Int, height: Int, channels: Int) throws -> [Int] {
        let png = try PillowReference.bytes(try path(name))
        let idat = (0..<png.count - 4).first { png[$0..<($0 + 4)].elementsEqual(Array("IDAT".utf8)) }!
        let length = png[(idat - 4)..<idat].reduce(0) { $0 << 8 | Int($1) }
        let compressed = Array(png[(idat + 4)..<(idat + 4 + length)])
        let stride = 1 + 2 * width * channels
        var rows = [UInt8](repeating: 0, count: height * stride)
        var size = uLongf(rows.count)
        try #require(uncompress(&rows, &size, compressed, uLong(compressed.count)) == Z_OK)
        return (0..<height).flatMap { y in
            (0..<(width * channels)).map { i in Int(rows[y * stride + 1 + 2 * i]) << 8 | Int(rows[y * stride + 2 + 2 * i]) }
        }
    }

    @Test(arguments: [("grey16.png", 1), ("rgb16.png", 3)])
    func aSixteenBitPNGLoadsScaledToEightBitsNotAsLinearLight(name: String, channels: Int) throws {
        let pixels = try ImageDecoder.decode(try path(name))
        #expect(pixels.width == 32 && pixels.height == 24)
        let samples = try sixteenBitSamples(name, width: 32, height: 24, channels: channels)
        // PNG's own scaling: v · 255 / 65535, rounded.
        let expected = samples.map { Int((Double($0) * 255 / 65535).rounded()) }
        let ours = channels == 3 ? pixels.rgb.map(Int.init) : stride(from: 0, to: pixels.rgb.count, by: 3).map { Int(pixels.rgb[$0]) }
        #expect(zip(ours, expected).map { abs($0 - $1) }.max()! <= 1)
    }

    @Test func aHugeJPEGIsDecodedAtAnEighthForItsViewsAndItsEvaluationImage() throws {
        try PillowReference.run(["huge-image", try path("huge.jpg")])
        let set = try folder(["huge.jpg"])
        let views = try views(set, [0])
        #expect(views.imageWidths == [10000] && views.imageHeights == [10000])
        // 1250² RGB (4.7 MB) instead of 10000² (300 MB): even a crop of 8% of the image has
        // 2800 pixels on a side, 350 at an eighth, more than the view's 64.
        #expect(views.decodedWidths == [1250] && views.decodedHeights == [1250])
        #expect(views.viewA.to(.float32).std().item() > 1)
        let evaluation = try ImageDecoder.decode(set.files[0].path, minimumShorterSide: 256)
        #expect(evaluation.width == 1250)
        #expect(try set.batch([0]).images.shape == [1, 3, 256, 256])
    }
}

import Foundation
import Testing
import Torch
@testable import Blockwise

/// Pretraining views of an image folder are cut from the whole image, as torchvision's
/// RandomResizedCrop cuts them from the PIL image, and equal torchvision's crops.
@Suite struct WholeImageViewTests {
    static let side = 224
    static let augmentation = TwoViewAugmentation(side: side, normalization: .imagenet)

    /// Photos of 500×375 and 375×500.
    let folder = TemporaryFolder()

    func photos() throws -> ImageFolder {
        try PillowReference.makeImageFolder(folder.path + "/photos", count: 12)
        return try ImageFolder(root: folder.path + "/photos", side: 256)
    }

    /// Both views' parameters for `count` samples, drawn as the loader draws them.
    func parameters(count: Int, seed: UInt64) -> (ViewParameters, ViewParameters) {
        Self.augmentation.draw(count: count, height: 256, width: 256, generator: Generator(seed: seed), shard: (0, 1))
    }

    func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }
    func std(_ values: [Double]) -> Double {
        let m = mean(values)
        return (values.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(values.count - 1)).squareRoot()
    }

    @Test(arguments: [(375, 500), (500, 375)])
    func cropBoxesOnNonSquareImagesMatchTorchvisionsGetParams(height: Int, width: Int) throws {
        let draws = 20_000
        let reference = try JSONSerialization.jsonObject(with: Data(PillowReference.run(
            ["crop-stats", "\(height)", "\(width)", "\(draws)", "1"]).utf8)) as! [String: Double]
        let p = ViewParameters.draw(.barlowTwinsA, count: draws, height: 1, width: 1, generator: Generator(seed: 5))
        let boxes = p.cropDraws.map { ViewAugmentation.barlowTwinsA.cropBox(height: height, width: width, draws: $0) }
        let areas = boxes.map { Double($0.height * $0.width) / Double(height * width) }
        let logRatios = boxes.map { log(Double($0.width) / Double($0.height)) }
        let tops = boxes.filter { $0.height < height }.map { Double($0.top) / Double(height - $0.height) }
        let lefts = boxes.filter { $0.width < width }.map { Double($0.left) / Double(width - $0.width) }
        let fullHeight = Double(boxes.filter { $0.height == height }.count) / Double(draws)
        // Four standard errors of the difference of two independent estimates.
        func within(_ ours: Double, _ key: String, spread: Double) -> Bool {
            abs(ours - reference[key]!) < 4 * spread * (2 / Double(draws)).squareRoot()
        }
        #expect(within(mean(areas), "area_mean", spread: reference["area_std"]!))
        #expect(abs(std(areas) - reference["area_std"]!) < 0.01)
        #expect(within(mean(logRatios), "log_ratio_mean", spread: reference["log_ratio_std"]!))
        #expect(abs(std(logRatios) - reference["log_ratio_std"]!) < 0.01)
        #expect(within(mean(tops), "relative_top_mean", spread: 0.3) && within(mean(lefts), "relative_left_mean", spread: 0.3))
        #expect(within(fullHeight, "full_height_rate", spread: 0.1))
        // Non-square images tilt the ratios (tall boxes fit less often on a wide image): the
        // test would miss a crop drawn on a square.
        #expect(abs(reference["log_ratio_mean"]!) > 0.01)
    }

    @Test func viewsAreCutFromTheWholeImageNotFromACentreSquare() throws {
        let set = try photos()
        let indices = Array(0..<set.count)
        var outside = 0
        for seed in 0..<8 {
            let views = try #require(try set.croppedViews(indices, augmentation: Self.augmentation,
                                                          parameters: parameters(count: indices.count, seed: UInt64(seed))))
            #expect(views.viewA.shape == [indices.count, 3, 224, 224] && views.viewB.dtype == .uint8)
            for i in indices {
                let (h, w) = (views.imageHeights[i], views.imageWidths[i])
                #expect(Set([[h, w], [w, h]]) == Set([[375, 500], [500, 375]]))
                for boxes in [views.boxesA, views.boxesB] {
                    #expect(boxes.top[i] >= 0 && boxes.left[i] >= 0)
                    #expect(boxes.top[i] + boxes.height[i] <= h && boxes.left[i] + boxes.width[i] <= w)
                    // A 375² centre square spans 62..<437 of the longer side.
                    let (start, length) = w > h ? (boxes.left[i], boxes.width[i]) : (boxes.top[i], boxes.height[i])
                    if start < 62 || start + length > 437 { outside += 1 }
                }
            }
        }
        #expect(outside > 8 * 12 * 2 / 10)
    }

    /// At 224 and at a side that is not a multiple of 16, the transpositions' block size.
    @Test(arguments: [224, 100])
    func aViewOfAPNGIsTorchvisionsCropResizeAndFlipBitForBit(side: Int) throws {
        let augmentation = TwoViewAugmentation(side: side, normalization: .imagenet)
        let photos = try photos()
        let png = folder.path + "/train/a/photo.png"
        folder.makeFolder("train/a")
        try PillowReference.run(["to-png", photos.files[1].path, png])
        let set = try ImageFolder(root: folder.path + "/train", side: 256)
        var ours: [UInt8] = [], boxes: [String] = []
        for seed in 0..<4 {
            let (a, b) = parameters(count: 1, seed: UInt64(seed))
            let views = try #require(try set.croppedViews([0], augmentation: augmentation, parameters: (a, b)))
            ours += views.viewA.bytes() + views.viewB.bytes()
            boxes += [(views.boxesA, a.flip[0]), (views.boxesB, b.flip[0])].map { box, flip in
                "\(box.top[0]),\(box.left[0]),\(box.height[0]),\(box.width[0]),\(flip ? 1 : 0)"
            }
        }
        #expect(boxes.contains { $0.hasSuffix(",1") } && boxes.contains { $0.hasSuffix(",0") }, "flipped and not")
        try PillowReference.run(["views", png, "\(side)", folder.path + "/views.raw"] + boxes)
        let expected = try PillowReference.bytes(folder.path + "/views.raw")
        #expect(ours.count == expected.count)
        // Compared outside #expect: on a failure it would diff the two arrays' hundreds of
        // thousands of bytes element by element, which takes longer than the test run.
        let differing = zip(ours, expected).filter { $0 != $1 }.count
        #expect(differing == 0, "boxes \(boxes); \(differing) bytes differ")
    }

    @Test func aViewOfAJPEGDecodedAtFullSizeMatchesTorchvisionsWithinOneLevel() throws {
        let set = try photos()
        let (a, b) = parameters(count: set.count, seed: 7)
        let views = try #require(try set.croppedViews(Array(0..<set.count), augmentation: Self.augmentation, parameters: (a, b)))
        let full = (0..<set.count).filter { views.decodedWidths[$0] == views.imageWidths[$0] }
        try #require(!full.isEmpty)
        let boxes = full.map { i in
            set.files[i].path + "@\(views.boxesA.top[i]),\(views.boxesA.left[i]),\(views.boxesA.height[i]),"
                + "\(views.boxesA.width[i]),\(a.flip[i] ? 1 : 0)"
        }
        try PillowReference.run(["views", "-", "224", folder.path + "/views.raw"] + boxes)
        let expected = try PillowReference.bytes(folder.path + "/views.raw")
        let ours = full.flatMap { views.viewA[$0].bytes() }
        #expect(zip(ours, expected).map { abs(Int($0) - Int($1)) }.max()! <= 1)
    }

    @Test func aLargePhotoIsDecodedAtTheSmallestDCTScaleThatStillCoversBothViews() throws {
        folder.makeFolder("train/a")
        // 2000×1500: the whole image at 224² needs 224/1500 of it, so libjpeg-turbo's 1/4 (500×375).
        let big = folder.path + "/train/a/big.jpg"
        try PillowReference.runPython(["-c", """
            from PIL import Image
            from sklearn.datasets import load_sample_images
            Image.fromarray(load_sample_images().images[0]).resize((2000, 1500), Image.BICUBIC).save('\(big)', quality=95)
            """])
        let set = try ImageFolder(root: folder.path + "/train", side: 256)
        var whole = Self.augmentation
        whole.viewA = .identity
        whole.viewB = .identity
        let parameters = whole.draw(count: 1, height: 1, width: 1, generator: Generator(seed: 1), shard: (0, 1))
        let views = try #require(try set.croppedViews([0], augmentation: whole, parameters: parameters))
        #expect(views.decodedWidths == [500] && views.decodedHeights == [375])
        try PillowReference.run(["views", big, "224", folder.path + "/view.raw", "0,0,1500,2000,0"])
        let expected = try PillowReference.bytes(folder.path + "/view.raw").map(Double.init)
        let difference = zip(views.viewA.bytes().map(Double.init), expected).map { abs($0 - $1) }
        #expect(difference.reduce(0, +) / Double(difference.count) < 2, "mean difference from a full decode, in levels")

        // A box of a few hundred pixels: the smallest of 1/8, 1/4, 1/2 and 1 that still gives it
        // 224 pixels each way, never the eighths between (slower than a full-size decode).
        for seed in UInt64(0)..<16 {
            let small = ViewParameters.draw(.barlowTwinsA, count: 1, height: 1, width: 1, generator: Generator(seed: seed))
            let box = ViewAugmentation.barlowTwinsA.cropBox(height: 1500, width: 2000, draws: small.cropDraws[0])
            let cropped = try #require(try set.croppedViews([0], augmentation: Self.augmentation, parameters: (small, small)))
            let scale = Double(cropped.decodedWidths[0]) / 2000, shorter = Double(min(box.height, box.width))
            let smallest = [0.125, 0.25, 0.5, 1].first { shorter * $0 >= 224 }!
            #expect(scale == smallest, "box \(box): decoded at \(scale)")
        }
    }

    @Test func theLoaderGivesFolderViewsThatResumeAndShardExactly() throws {
        let set = try photos()
        let plan = try EpochPlan(count: set.count, batchSize: 4, seed: 3)
        let loader = try DataLoader(dataset: set, plan: plan, augmentation: Self.augmentation)
        let first = try loader.next().value, second = try loader.next().value
        loader.stop()
        #expect(first.viewA.shape == [4, 3, 224, 224] && first.viewA.dtype == .float32)
        #expect(!first.viewA.equal(first.viewB))
        let resumed = try DataLoader(dataset: set, plan: plan, augmentation: Self.augmentation,
                                     start: DataPosition(epoch: 0, index: 1))
        let again = try resumed.next().value
        resumed.stop()
        #expect(again.viewA.equal(second.viewA) && again.viewB.equal(second.viewB) && again.labels.equal(second.labels))

        // Two data-parallel ranks of 2 get the rows of the one-process batch of 4 that are theirs.
        for rank in 0..<2 {
            let shard = try EpochPlan(count: set.count, batchSize: 2, seed: 3, rank: rank, worldSize: 2)
            let loader = try DataLoader(dataset: set, plan: shard, augmentation: Self.augmentation)
            let batch = try loader.next().value
            loader.stop()
            let rows = Tensor([rank, rank + 2])
            #expect(batch.viewA.equal(first.viewA.indexSelect(dim: 0, index: rows)))
            #expect(batch.viewB.equal(first.viewB.indexSelect(dim: 0, index: rows)))
        }
    }

    @Test func evaluationStillResizesTo256AndCropsTheCentre224() throws {
        let set = try photos()
        let batch = try set.batch([0, 1])
        #expect(batch.images.shape == [2, 3, 256, 256])
        #expect(EvaluationTransform.imagenet(side: 224)(batch.images).shape == [2, 3, 224, 224])
    }
}

import Testing
import Torch
@testable import Blockwise

/// The embedded dataset generated from a seed.
@Suite struct SyntheticShapesTests {
    @Test func theSameSeedGivesTheSameImages() {
        let a = SyntheticShapes.make(count: 64, size: 32, seed: 3)
        let b = SyntheticShapes.make(count: 64, size: 32, seed: 3)
        #expect(a.images.equal(b.images))
        #expect(a.labels.equal(b.labels))
    }

    @Test func differentSeedsGiveDifferentImages() {
        let a = SyntheticShapes.make(count: 64, size: 32, seed: 3)
        let b = SyntheticShapes.make(count: 64, size: 32, seed: 4)
        #expect(!a.images.equal(b.images))
    }

    @Test func imagesAreRGBOfTheRequestedSizeWithEveryClass() {
        let set = SyntheticShapes.make(count: 500, size: 24, seed: 1)
        #expect(set.imageShape == [3, 24, 24])
        #expect(Set(set.labels.toArray(Int.self)) == Set(0..<10))
    }

    @Test func imagesOfOneClassDifferFromEachOther() {
        let set = SyntheticShapes.make(count: 200, size: 32, seed: 2)
        let labels = set.labels.toArray(Int.self)
        let disks = labels.indices.filter { labels[$0] == 0 }.prefix(2)
        #expect(disks.count == 2)
        #expect(!set.images[disks.first!].equal(set.images[disks.last!]))
    }

    /// Every class is left-right symmetric about its centre, so a horizontal flip keeps the
    /// class: the flipped image's mask is that of a drawing with mirrored centre.
    @Test func shapesAreLeftRightSymmetricAboutTheirCentre() {
        var p = SyntheticShapes.Parameters(count: 5)
        var random = SplitMix64(seed: 9)
        for label in 0..<5 { p.append(label: label, size: 32, random: &random) }
        p.cx = p.cx.map { _ in 16 }
        let image = SyntheticShapes.render(p, size: 32, noise: Generator(seed: 1))
        let foreground = (image.to(.float32) - image.to(.float32).flip([3])).abs().amax(dims: [1, 2, 3])
        // Only the noise differs between the halves: no pattern edge (a jump of ≥ 0.3·255).
        #expect(foreground.toArray(Float.self).allSatisfy { $0 < 60 })
    }

    @Test func theTestSplitIsDrawnApartFromTheTrainSplit() throws {
        let spec = try DatasetSpec(parsing: "synthetic:shapes?count=50")
        let train = try spec.load(split: .train) as! TensorImageSet
        let test = try spec.load(split: .test) as! TensorImageSet
        #expect(train.count == 50 && test.count == 10)
        #expect(!train.images[0..<10].equal(test.images))
    }
}

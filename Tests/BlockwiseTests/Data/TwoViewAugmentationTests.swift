import Testing
import Torch
@testable import Blockwise

/// The two views as training consumes them.
@Suite struct TwoViewAugmentationTests {
    let images = SyntheticShapes.make(count: 16, size: 32, seed: 1).images

    @Test func viewsAreNormalisedRGBOfTheRequestedSide() {
        let augment = TwoViewAugmentation(side: 24, normalization: .cifar10)
        let (a, b) = augment(images, generator: Generator(seed: 1))
        #expect(a.shape == [16, 3, 24, 24] && b.shape == [16, 3, 24, 24])
        #expect(a.dtype == .float32)
        // Normalised: the mean is near 0 and values reach below it.
        #expect(a.min().item() < 0 && a.max().item() > 0)
    }

    @Test func theSameSeedGivesTheSameViews() {
        let augment = TwoViewAugmentation(side: 32, normalization: .cifar10)
        let (a1, b1) = augment(images, generator: Generator(seed: 5))
        let (a2, b2) = augment(images, generator: Generator(seed: 5))
        #expect(a1.equal(a2) && b1.equal(b2))
        let (a3, _) = augment(images, generator: Generator(seed: 6))
        #expect(!a1.equal(a3))
    }

    @Test func theTwoViewsOfAnImageDiffer() {
        let (a, b) = TwoViewAugmentation(side: 32, normalization: .cifar10)(images, generator: Generator(seed: 2))
        #expect(!a.allClose(b, atol: 0.1))
    }

    @Test func greyImagesAreReplicatedToThreeEqualChannels() {
        let grey = images.narrow(dim: 1, start: 0, length: 1).contiguous()
        let view = ViewAugmentation(jitterProbability: 0, grayscaleProbability: 0, blurProbability: 0)
        let parameters = ViewParameters.draw(view, count: 16, height: 32, width: 32, generator: Generator(seed: 3))
        let x = view.apply(parameters, to: grey.to(.float32) / 255.0, side: 32)
        #expect(x.shape == [16, 3, 32, 32])
        #expect(x.narrow(dim: 1, start: 0, length: 1).equal(x.narrow(dim: 1, start: 2, length: 1)))
    }

    @Test func aWholeImageCropWithoutOtherOpsIsTheIdentity() {
        let view = ViewAugmentation(cropScale: nil, flipProbability: 0, jitterProbability: 0, grayscaleProbability: 0,
                                    blurProbability: 0, solarizeProbability: 0)
        let x = images.to(.float32) / 255.0
        let parameters = ViewParameters.draw(view, count: 16, height: 32, width: 32, generator: Generator(seed: 4))
        #expect(view.apply(parameters, to: x, side: 32).allClose(x, atol: 1e-6))
    }

    @Test func aFlippedWholeImageIsTheMirrorImage() {
        let view = ViewAugmentation(cropScale: nil, flipProbability: 1, jitterProbability: 0, grayscaleProbability: 0,
                                    blurProbability: 0, solarizeProbability: 0)
        let x = images.to(.float32) / 255.0
        let parameters = ViewParameters.draw(view, count: 16, height: 32, width: 32, generator: Generator(seed: 4))
        #expect(view.apply(parameters, to: x, side: 32).allClose(x.flip([3]), atol: 1e-6))
    }

    @Test func blurKernelsFollowBarlowTwinsAtEachSize() {
        #expect([224, 96, 32, 28].map { blurKernelSize(side: $0) } == [23, 9, 3, 3])
    }

    @Test func appendixAGivesEasierViewsToEarlyBlocksAndSharesEqualRecipes() {
        let plan = BlockAugmentations.paperAppendixA(side: 32, normalization: .cifar10)
        #expect(plan.perBlock.count == 4)
        #expect(plan.perBlock[0].viewA.cropScale == nil && plan.perBlock[0].viewA.grayscaleProbability == 0)
        #expect(plan.perBlock[1].viewA.cropScale == 0.5...1)
        #expect(plan.perBlock[2] == plan.perBlock[3])
        let views = plan.views(of: images, generator: Generator(seed: 1))
        #expect(views.count == 4)
        #expect(views[2].0.equal(views[3].0))
        #expect(!views[0].0.allClose(views[2].0, atol: 0.1))
    }
}

import Testing
import Torch
@testable import Blockwise

/// The CPU's C path for the steps after the crop (`finishedOnCPU`, one `ci_finish_view` per
/// image) against the tensor ops a GPU runs (`applyAfterCrop`, then the normalisation), whose
/// every step is checked against torchvision's in TorchvisionAugmentationTests.
@Suite struct CPUViewStepsTests {
    let images = SyntheticShapes.make(count: 12, size: 32, seed: 4).images

    /// The tensor ops' view, on float32 [0, 1] crops.
    func tensorOps(_ augmentation: TwoViewAugmentation, _ view: ViewAugmentation, _ parameters: ViewParameters,
                   _ crops: Tensor) -> Tensor {
        augmentation.normalize(view.applyAfterCrop(parameters, to: crops))
    }

    func draw(_ view: ViewAugmentation, seed: UInt64) -> ViewParameters {
        ViewParameters.draw(view, count: images.size(0), height: 32, width: 32, generator: Generator(seed: seed))
    }

    /// Every colour step on some images and off on others; solarisation is left to the next
    /// test, since a rounding apart at 0.5 would flip a pixel.
    @Test func jitterGrayscaleAndBlurFromBytesEqualTheTensorOps() throws {
        let augmentation = TwoViewAugmentation(side: 32, normalization: .imagenet)
        let view = ViewAugmentation(jitterProbability: 0.8, grayscaleProbability: 0.3, blurProbability: 0.6)
        for seed in [UInt64(1), 2, 3] {
            let parameters = draw(view, seed: seed)
            #expect(parameters.jitter.contains(false) && parameters.grayscale.contains(true) && parameters.blur.contains(false))
            let c = try #require(augmentation.finishedOnCPU(parameters, crops: images))
            let ops = tensorOps(augmentation, view, parameters, toUnitFloat(images, device: .cpu))
            #expect(c.shape == [12, 3, 32, 32] && c.dtype == .float32)
            #expect((c - ops).abs().max().item() < 1e-5, "seed \(seed)")
        }
    }

    @Test func solarisationAndGreyInputsEqualTheTensorOps() throws {
        let augmentation = TwoViewAugmentation(side: 32, normalization: .cifar10)
        let view = ViewAugmentation(jitterProbability: 0, grayscaleProbability: 0.5, blurProbability: 0.5, solarizeProbability: 0.5)
        let parameters = draw(view, seed: 7)
        #expect(parameters.solarize.contains(true) && parameters.solarize.contains(false))
        for crops in [images, images.narrow(dim: 1, start: 1, length: 1).contiguous()] {
            let c = try #require(augmentation.finishedOnCPU(parameters, crops: crops))
            let ops = tensorOps(augmentation, view, parameters, toUnitFloat(crops, device: .cpu))
            #expect((c - ops).abs().max().item() < 1e-6, "\(crops.size(1)) channels")
        }
    }

    /// Tensor datasets' views: float crops, from `apply`, equal the tensor ops' views.
    @Test func viewsOfTensorDatasetsTakeTheCPathAndEqualTheTensorOps() throws {
        let augmentation = TwoViewAugmentation(side: 24, normalization: .cifar10)
        let (a, b) = augmentation.draw(count: 12, height: 32, width: 32, generator: Generator(seed: 9))
        let (viewA, viewB) = augmentation.apply(a, b, to: images)
        let x = toUnitFloat(images, device: .cpu)
        let cropsA = augmentation.viewA.resizedCrop(a, of: x, side: 24), cropsB = augmentation.viewB.resizedCrop(b, of: x, side: 24)
        #expect(try #require(augmentation.finishedOnCPU(a, crops: cropsA)).equal(viewA))
        #expect(try #require(augmentation.finishedOnCPU(b, crops: cropsB)).equal(viewB))
        #expect((viewA - tensorOps(augmentation, augmentation.viewA, a, cropsA)).abs().max().item() < 1e-5)
    }

    /// ImageNet's side, where the blur kernel has 23 taps.
    @Test func aViewOf224PixelsEqualsTheTensorOps() throws {
        let big = SyntheticShapes.make(count: 2, size: 224, seed: 2).images
        let augmentation = TwoViewAugmentation(side: 224, normalization: .imagenet)
        let view = ViewAugmentation(jitterProbability: 1, grayscaleProbability: 0, blurProbability: 1)
        let parameters = ViewParameters.draw(view, count: 2, height: 224, width: 224, generator: Generator(seed: 1))
        let c = try #require(augmentation.finishedOnCPU(parameters, crops: big))
        #expect((c - tensorOps(augmentation, view, parameters, toUnitFloat(big, device: .cpu))).abs().max().item() < 1e-5)
    }

    @Test func tensorsInAutogradAndOtherDtypesKeepTheTensorOps() {
        let augmentation = TwoViewAugmentation(side: 32, normalization: .cifar10)
        let parameters = draw(.barlowTwinsA, seed: 1)
        #expect(augmentation.finishedOnCPU(parameters, crops: images.to(.float64)) == nil)
        #expect(augmentation.finishedOnCPU(parameters, crops: images.to(.float32).requiresGrad_()) == nil)
    }
}

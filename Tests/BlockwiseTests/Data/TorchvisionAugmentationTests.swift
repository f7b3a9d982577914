import Foundation
import Testing
import Torch
@testable import Blockwise

/// Each augmentation op against torchvision 0.14 for fixed parameters (fixtures written by
/// Tests/Fixtures/augmentation/make_torchvision.py).
@Suite struct TorchvisionAugmentationTests {
    nonisolated(unsafe) static let reference = Fixtures.json("augmentation", "torchvision.json")
    let input: Tensor = {
        let shape = (reference["input_shape"] as! [NSNumber]).map(\.intValue)
        return Tensor(Fixtures.numbers(reference, "input").map { Float($0) }, shape: shape)
    }()

    func expected(_ values: [Double], like shape: [Int]) -> Tensor {
        Tensor(values.map { Float($0) }, shape: shape)
    }

    func op(_ name: String) -> (factors: Tensor, output: Tensor) {
        let entry = Self.reference[name] as! [String: Any]
        return (Tensor(Fixtures.numbers(entry, "factors").map { Float($0) }),
                expected(Fixtures.numbers(entry, "output"), like: input.shape))
    }

    @Test func brightnessMatchesTorchvision() {
        let (factors, output) = op("brightness")
        #expect(adjustBrightness(input, factor: factors).allClose(output, atol: 1e-6))
    }

    @Test func contrastMatchesTorchvision() {
        let (factors, output) = op("contrast")
        #expect(adjustContrast(input, factor: factors).allClose(output, atol: 1e-6))
    }

    @Test func saturationMatchesTorchvision() {
        let (factors, output) = op("saturation")
        #expect(adjustSaturation(input, factor: factors).allClose(output, atol: 1e-6))
    }

    @Test func hueMatchesTorchvision() {
        let (factors, output) = op("hue")
        #expect(adjustHue(input, factor: factors).allClose(output, atol: 1e-5))
    }

    @Test func grayscaleMatchesTorchvision() {
        let output = expected(Fixtures.numbers(Self.reference, "grayscale"), like: input.shape)
        #expect(rgbToGrayscale(input).expand(input.shape).allClose(output, atol: 1e-6))
    }

    @Test func solarizeMatchesTorchvision() {
        let output = expected(Fixtures.numbers(Self.reference, "solarize"), like: input.shape)
        #expect(solarize(input, threshold: 0.5).allClose(output, atol: 1e-7))
    }

    @Test func colorJitterInPerSampleOrdersMatchesTorchvision() {
        let entry = Self.reference["jitter"] as! [String: Any]
        let orders = (entry["orders"] as! [[NSNumber]]).map { $0.map(\.intValue) }
        let factors = (entry["factors"] as! [[NSNumber]]).map { $0.map(\.doubleValue) }
        let parameters = ViewParameters(crop: .whole(count: 2, height: 12, width: 16), flip: [false, false], jitter: [true, true],
                                        jitterFactors: factors, jitterOrder: orders, grayscale: [false, false],
                                        blur: [false, false], blurSigma: [1, 1], solarize: [false, false])
        let output = expected(Fixtures.numbers(entry, "output"), like: input.shape)
        #expect(colorJitter(input, parameters).allClose(output, atol: 1e-5))
    }

    @Test func jitterSwitchedOffLeavesASampleUntouched() {
        let parameters = ViewParameters(crop: .whole(count: 2, height: 12, width: 16), flip: [false, false], jitter: [false, true],
                                        jitterFactors: [[1.3, 0.6, 1.2, 0.1], [1.3, 0.6, 1.2, 0.1]],
                                        jitterOrder: [[0, 1, 2, 3], [3, 2, 1, 0]], grayscale: [false, false],
                                        blur: [false, false], blurSigma: [1, 1], solarize: [false, false])
        let output = colorJitter(input, parameters)
        #expect(output[0].equal(input[0]))
        #expect(!output[1].allClose(input[1], atol: 1e-3))
    }

    @Test func gaussianBlurWithOneSigmaPerSampleMatchesTorchvision() {
        let entry = Self.reference["blur"] as! [String: Any]
        let output = expected(Fixtures.numbers(entry, "output"), like: input.shape)
        let sigma = Tensor(Fixtures.numbers(entry, "sigmas").map { Float($0) })
        #expect(gaussianBlur(input, kernelSize: (entry["kernel"] as! NSNumber).intValue, sigma: sigma).allClose(output, atol: 1e-5))
    }

    /// float32 on the CPU runs the C kernel; float64 runs the libtorch ops a GPU runs. Grey
    /// pixels (max = min), pure primaries and black are among the inputs, and factors of both
    /// signs up to half a turn.
    @Test func theCPUHueKernelAndTheHSVOpsTurnHuesAlike() {
        let random = Tensor.rand([4, 3, 9, 11], dtype: .float64, generator: Generator(seed: 5))
        let grey = random.narrow(dim: 1, start: 0, length: 1).expand([4, 3, 9, 11])
        let primaries = Tensor([1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0] as [Double], shape: [1, 3, 2, 2]).expand([4, 3, 2, 2])
        for x in [random, grey.contiguous(), primaries.contiguous()] {
            let factors = Tensor([-0.5, -0.13, 0.2, 0.5] as [Double])
            let kernel = adjustHue(x.to(.float32), factor: factors.to(.float32))
            let ops = adjustHue(x, factor: factors)
            #expect(kernel.dtype == .float32)
            #expect(kernel.to(.float64).allClose(ops, atol: 1e-5))
        }
    }

    /// float32 on the CPU runs the C kernel; float64 runs the grouped convolutions a GPU runs.
    @Test func theCPUKernelAndTheConvolutionsBlurAlike() {
        let x = Tensor.rand([3, 3, 30, 41], dtype: .float64, generator: Generator(seed: 3))
        let sigma = Tensor([0.4, 1.3, 2.0] as [Float])
        for kernelSize in [3, 9, 23] {
            let kernel = gaussianBlur(x.to(.float32), kernelSize: kernelSize, sigma: sigma)
            let convolutions = gaussianBlur(x, kernelSize: kernelSize, sigma: sigma)
            #expect(kernel.dtype == .float32)
            #expect(kernel.to(.float64).allClose(convolutions, atol: 1e-6), "kernel size \(kernelSize)")
        }
    }

    @Test func resizedCropMatchesTorchvisionsAntialiasedBicubic() {
        for crop in Self.reference["resized_crop"] as! [[String: Any]] {
            let box = (crop["box"] as! [NSNumber]).map(\.intValue), size = (crop["size"] as! [NSNumber]).map(\.intValue)
            let boxes = CropBoxes(top: [box[0]], left: [box[1]], height: [box[2]], width: [box[3]])
            let output = expected(Fixtures.numbers(crop, "output"), like: [1, 3] + size)
            let flipped = expected(Fixtures.numbers(crop, "flipped"), like: [1, 3] + size)
            #expect(resizedCrop(input[0..<1], boxes: boxes, size: size).allClose(output, atol: 1e-5), "box \(box) → \(size)")
            #expect(resizedCrop(input[0..<1], boxes: boxes, size: size, flip: [true]).allClose(flipped, atol: 1e-5), "box \(box) flipped")
        }
    }

    @Test func oneBatchedResizedCropEqualsEachSampleCroppedAlone() {
        let crops = Self.reference["resized_crop"] as! [[String: Any]]
        let boxes = crops.map { ($0["box"] as! [NSNumber]).map(\.intValue) }
        let batch = Tensor.cat(Array(repeating: input[0..<1], count: boxes.count))
        let all = CropBoxes(top: boxes.map { $0[0] }, left: boxes.map { $0[1] }, height: boxes.map { $0[2] }, width: boxes.map { $0[3] })
        let together = resizedCrop(batch, boxes: all, size: [9, 9], flip: [false, true, false, true])
        for (i, box) in boxes.enumerated() {
            let alone = resizedCrop(input[0..<1], boxes: CropBoxes(top: [box[0]], left: [box[1]], height: [box[2]], width: [box[3]]),
                                    size: [9, 9], flip: [i % 2 == 1])
            #expect(together[i..<(i + 1)].allClose(alone, atol: 1e-6))
        }
    }

    @Test func evaluationResizeAndCentreCropMatchTorchvision() {
        let entry = Self.reference["evaluation"] as! [String: Any]
        let transform = EvaluationTransform(resize: 10, crop: 8, normalization: ChannelStatistics(mean: [0, 0, 0], std: [1, 1, 1]))
        let output = expected(Fixtures.numbers(entry, "output"), like: [1, 3, 8, 8])
        #expect(transform.transform(input[1..<2]).allClose(output, atol: 1e-5))
        let identity = EvaluationTransform(normalization: .imagenet)
        #expect(identity.transform(input).allClose(normalized(input, .imagenet), atol: 1e-7))
    }
}

import Foundation
import Testing
import Torch
@testable import Blockwise

@Suite struct CorruptionTests {
    /// A grey image of 0.5 everywhere: noise statistics read directly off it.
    static func grey(_ side: Int = 64, value: Double = 0.5) -> Tensor { Tensor.full([2, 3, side, side], .double(value)) }

    /// Colourful shapes in [0, 1], the kind of image the evaluation corrupts.
    static func shapes(side: Int = 32) -> Tensor {
        SyntheticShapes.make(count: 4, size: side, seed: 3).images.to(.float32) / 255.0
    }

    static func meanAbsoluteChange(_ corruption: Corruption, _ x: Tensor, severity: Int) -> Double {
        (corruption.apply(x, severity: severity, generator: Generator(seed: 1)) - x).abs().mean().item()
    }

    @Test("ImageNet-C's formula (transcribed in Tests/Fixtures/corruptions/make_corruptions.py)",
          arguments: ["gaussian_blur", "defocus_blur", "contrast", "brightness", "saturate", "pixelate"])
    func deterministicCorruptionsMatchImageNetC(_ name: String) throws {
        let fixture = Fixtures.json("corruptions", "corruptions.json")
        let side = fixture["side"] as! Int
        let image = Tensor(Fixtures.numbers(fixture, "image").map { Float($0) }, shape: [1, 3, side, side])
        let expected = (fixture["expected"] as! [String: [[NSNumber]]])[name]!
        let corruption = try #require(Corruption(rawValue: name))
        for severity in Corruption.severities {
            let output = corruption.apply(image, severity: severity, spatialScale: 1).flatten().toArray(Float.self)
            let reference = expected[severity - 1].map(\.floatValue)
            let worst = zip(output, reference).map { abs($0 - $1) }.max()!
            #expect(worst < 2e-5, "\(name) severity \(severity): largest difference \(worst)")
        }
    }

    @Test func jpegCompressionMatchesPillowWithinOneGreyLevel() throws {
        let fixture = Fixtures.json("corruptions", "corruptions.json")
        let side = fixture["side"] as! Int
        let image = Tensor(Fixtures.numbers(fixture, "image").map { Float($0) }, shape: [1, 3, side, side])
        let expected = (fixture["expected"] as! [String: [[NSNumber]]])["jpeg_compression"]!
        for severity in Corruption.severities {
            let output = Corruption.jpegCompression.apply(image, severity: severity).flatten().toArray(Float.self)
            let worst = zip(output, expected[severity - 1].map(\.floatValue)).map { abs($0 - $1) * 255 }.max()!
            #expect(worst <= 1.01, "severity \(severity): \(worst) grey levels off Pillow")
        }
    }

    @Test func gaussianNoiseStandardDeviationIsTheSeverityConstant() {
        let x = Self.grey()
        let measured = Corruption.severities.map { s in
            (Corruption.gaussianNoise.apply(x, severity: s, generator: Generator(seed: 5)) - x).std().item()
        }
        #expect(abs(measured[0] - 0.08) < 0.004)
        #expect(abs(measured[1] - 0.12) < 0.006)
        #expect(zip(measured, measured.dropFirst()).allSatisfy { $0 < $1 }, "\(measured)")
    }

    @Test func shotNoiseHasPoissonVarianceAndKeepsTheMean() {
        let x = Self.grey()
        for (severity, photons) in zip(Corruption.severities, [60.0, 25, 12, 5, 3]) {
            let y = Corruption.shotNoise.apply(x, severity: severity, generator: Generator(seed: 9))
            let expectedStd = (0.5 / photons).squareRoot()
            // Clipping at 1 only trims the highest counts; below severity 4 it is negligible.
            if severity <= 3 {
                #expect(abs(y.std().item() - expectedStd) < 0.05 * expectedStd, "severity \(severity)")
                #expect(abs(y.mean().item() - 0.5) < 0.01)
            }
            #expect(((y * photons) - (y * photons).round()).abs().max().item() < 1e-4, "counts divided by \(photons)")
        }
    }

    @Test func impulseNoiseSetsTheSeverityFractionToBlackOrWhite() {
        let x = Self.grey()
        for (severity, amount) in zip(Corruption.severities, [0.03, 0.06, 0.09, 0.17, 0.27]) {
            let y = Corruption.impulseNoise.apply(x, severity: severity, generator: Generator(seed: 2))
            let salt = (y .== Scalar.double(1)).to(.float32).mean().item()
            let pepper = (y .== Scalar.double(0)).to(.float32).mean().item()
            let kept = (y .== Scalar.double(0.5)).to(.float32).mean().item()
            #expect(abs(salt + pepper - amount) < 0.01, "severity \(severity)")
            #expect(abs(salt - pepper) < 0.01)
            #expect(abs(kept + salt + pepper - 1) < 1e-6)
        }
    }

    @Test func contrastShrinksTheSpreadAroundEachChannelMean() {
        let x = Self.shapes() * 0.5 + 0.25
        let spread = x.std(dims: [2, 3])
        for (severity, factor) in zip(Corruption.severities, [0.4, 0.3, 0.2, 0.1, 0.05]) {
            let y = Corruption.contrast.apply(x, severity: severity)
            #expect((y.std(dims: [2, 3]) - spread * factor).abs().max().item() < 1e-5)
            #expect((y.mean(dims: [2, 3]) - x.mean(dims: [2, 3])).abs().max().item() < 1e-5)
        }
    }

    @Test func brightnessRaisesTheValueChannelBySeverity() {
        let x = Self.shapes() * 0.4
        for (severity, shift) in zip(Corruption.severities, [0.1, 0.2, 0.3, 0.4, 0.5]) {
            let y = Corruption.brightness.apply(x, severity: severity)
            #expect((y.amax(dims: [1]) - x.amax(dims: [1]) - shift).abs().max().item() < 1e-5)
        }
    }

    @Test func pixelateMakesConstantBlocks() {
        let x = Self.shapes(side: 32)
        // Severity 2 keeps int(32 × 0.5) = 16 pixels a side: 2 × 2 blocks.
        let y = Corruption.pixelate.apply(x, severity: 2)
        let blocks = y.reshape([4, 3, 16, 2, 16, 2])
        #expect((blocks - blocks.amax(dims: [3, 5], keepDims: true)).abs().max().item() < 1e-6)
        #expect((y.mean() - x.mean()).abs().item() < 1e-5, "box averages keep the mean")
        let full = Corruption.pixelate.apply(x, severity: 5).reshape([4, 3, 8, 4, 8, 4])
        #expect((full - full.amax(dims: [3, 5], keepDims: true)).abs().max().item() < 1e-6, "int(32 × 0.25) = 8: 4 × 4 blocks")
    }

    @Test func blurSpreadScalesWithTheImageSide() {
        // One bright pixel: its blurred spread is the Gaussian's σ, 6 × side/224 at severity 5.
        for side in [224, 112] {
            let x = Tensor.zeros([1, 3, side, side])
            x.narrow(dim: 2, start: side / 2, length: 1).narrow(dim: 3, start: side / 2, length: 1).fill_(.double(1))
            let y = Corruption.gaussianBlur.apply(x, severity: 5).select(dim: 1, index: 0).squeeze()
            let weights = y / y.sum()
            let rows = Tensor.arange(0, side).to(.float32).view([side, 1]) - Double(side / 2)
            let sigma = (weights * rows.square()).sum().item().squareRoot()
            #expect(abs(sigma - 6 * Double(side) / 224) < 0.05 * 6 * Double(side) / 224, "side \(side): σ \(sigma)")
        }
    }

    @Test("every corruption distorts more at severity 5 than at 1", arguments: Corruption.allCases)
    func severityFiveDistortsMoreThanSeverityOne(_ corruption: Corruption) {
        let x = Self.shapes() * 0.8 + 0.1
        #expect(Self.meanAbsoluteChange(corruption, x, severity: 5) > Self.meanAbsoluteChange(corruption, x, severity: 1))
    }

    @Test("outputs stay images in [0, 1] of the input's shape", arguments: Corruption.allCases)
    func outputsAreImagesInTheUnitRange(_ corruption: Corruption) {
        let y = corruption.apply(Self.shapes(side: 24), severity: 3, generator: Generator(seed: 4))
        #expect(y.shape == [4, 3, 24, 24])
        #expect(y.min().item() >= 0 && y.max().item() <= 1)
    }

    @Test func greyImagesAreReplicatedToRGB() {
        let grey = Self.shapes().narrow(dim: 1, start: 0, length: 1)
        let y = Corruption.contrast.apply(grey, severity: 1)
        #expect(y.shape == [4, 3, 32, 32])
        #expect(y.select(dim: 1, index: 0).equal(y.select(dim: 1, index: 2)))
    }

    @Test func randomCorruptionsRepeatWithTheSameSeed() {
        let x = Self.shapes()
        for corruption in [Corruption.gaussianNoise, .shotNoise, .impulseNoise] {
            let a = corruption.apply(x, severity: 3, generator: Generator(seed: 11))
            let b = corruption.apply(x, severity: 3, generator: Generator(seed: 11))
            let c = corruption.apply(x, severity: 3, generator: Generator(seed: 12))
            #expect(a.equal(b))
            #expect(!a.equal(c))
        }
    }

    @Test func defocusKernelIsANormalisedDiskOfTheSeverityRadius() {
        let kernel = DefocusKernel.disk(radius: 3, aliasBlur: 0.1, border: 8, antialiasSize: 3)
        #expect(kernel.count == 17)
        #expect(abs(kernel.joined().reduce(0, +) - 1) < 1e-12)
        // σ = 0.1 barely blurs: the 29 pixels within radius 3 share the weight.
        #expect(abs(kernel[8][8] - 1.0 / 29) < 1e-9)
        #expect(abs(kernel[8][11] - 1.0 / 29) < 1e-9)
        #expect(kernel[8][12] < 1e-12)
    }
}

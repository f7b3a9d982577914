import Foundation
import Testing
import Torch
@testable import Blockwise

/// The random parameters, measured over many draws, against the numbers they are drawn from
/// (and, for crops, against torchvision's own `get_params` measured by the fixture script).
/// Bounds are about four standard errors wide.
@Suite struct AugmentationStatisticsTests {
    static let draws = 20_000
    static let a = ViewParameters.draw(.barlowTwinsA, count: draws, height: 32, width: 32, generator: Generator(seed: 11))
    static let b = ViewParameters.draw(.barlowTwinsB, count: draws, height: 32, width: 32, generator: Generator(seed: 12))

    func rate(_ flags: [Bool]) -> Double { Double(flags.filter { $0 }.count) / Double(flags.count) }
    func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }
    func std(_ values: [Double]) -> Double {
        let m = mean(values)
        return (values.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(values.count - 1)).squareRoot()
    }
    /// Four standard errors of a rate p over the draws.
    func tolerance(_ p: Double) -> Double { 4 * (p * (1 - p) / Double(Self.draws)).squareRoot() }

    @Test(arguments: [32, 96, 224])
    func cropAreasAndRatiosMatchTorchvisionsRandomResizedCrop(side: Int) {
        let reference = (Fixtures.json("augmentation", "torchvision.json")["crop_statistics"] as! [String: Any])["\(side)"] as! [String: Any]
        let p = ViewParameters.draw(.barlowTwinsA, count: Self.draws, height: side, width: side, generator: Generator(seed: UInt64(side)))
        let areas = (0..<Self.draws).map { Double(p.crop.height[$0] * p.crop.width[$0]) / Double(side * side) }
        let logRatios = (0..<Self.draws).map { log(Double(p.crop.width[$0]) / Double(p.crop.height[$0])) }
        func number(_ key: String) -> Double { (reference[key] as! NSNumber).doubleValue }
        // The torchvision estimate has its own sampling error: compare within both.
        let areaError = 4 * number("area_std") * (2 / Double(Self.draws)).squareRoot()
        #expect(abs(mean(areas) - number("area_mean")) < areaError)
        #expect(abs(std(areas) - number("area_std")) < 0.01)
        #expect(abs(rate(areas.map { $0 < 0.25 }) - number("area_below_quarter")) < 2 * tolerance(0.21))
        #expect(abs(mean(logRatios) - number("log_ratio_mean")) < 4 * number("log_ratio_std") * (2 / Double(Self.draws)).squareRoot())
        #expect(abs(std(logRatios) - number("log_ratio_std")) < 0.01)
    }

    @Test func cropsStayInsideTheImageWithinTheScaleAndRatioRanges() {
        let p = Self.a.crop
        for i in 0..<Self.draws {
            #expect(p.top[i] >= 0 && p.left[i] >= 0 && p.top[i] + p.height[i] <= 32 && p.left[i] + p.width[i] <= 32)
        }
        // Rounding to whole pixels widens the ranges a little on a 32-pixel image.
        let areas = (0..<Self.draws).map { Double(p.height[$0] * p.width[$0]) / 1024 }
        #expect(areas.min()! >= 0.08 * 0.75 && areas.max()! <= 1)
        let ratios = (0..<Self.draws).map { Double(p.width[$0]) / Double(p.height[$0]) }
        #expect(ratios.min()! >= 0.75 * 0.85 && ratios.max()! <= 4.0 / 3 / 0.85)
    }

    @Test func cropPositionsAreUniformOverThePossibleOffsets() {
        let p = Self.a.crop
        // The mean relative offset top / (32 − h) is 1/2 for a uniform position.
        let relative = (0..<Self.draws).filter { p.height[$0] < 32 }.map { Double(p.top[$0]) / Double(32 - p.height[$0]) }
        #expect(abs(mean(relative) - 0.5) < 0.01)
    }

    @Test func flipRateIsOneHalf() {
        #expect(abs(rate(Self.a.flip) - 0.5) < tolerance(0.5))
        #expect(abs(rate(Self.b.flip) - 0.5) < tolerance(0.5))
    }

    @Test func jitterIsAppliedWithProbabilityPointEight() {
        #expect(abs(rate(Self.a.jitter) - 0.8) < tolerance(0.8))
    }

    @Test(arguments: [(0, 0.4), (1, 0.4), (2, 0.2)])
    func jitterFactorsAreUniformAroundOne(op: Int, strength: Double) {
        let f = Self.a.jitterFactors.map { $0[op] }
        #expect(f.min()! >= 1 - strength && f.max()! <= 1 + strength)
        #expect(f.min()! < 1 - 0.98 * strength && f.max()! > 1 + 0.98 * strength)
        #expect(abs(mean(f) - 1) < 4 * strength / 3.0.squareRoot() / Double(Self.draws).squareRoot())
        // Uniform on [1 − s, 1 + s]: standard deviation s/√3.
        #expect(abs(std(f) - strength / 3.0.squareRoot()) < 0.01 * strength)
    }

    @Test func hueShiftsAreUniformWithinPointOne() {
        let h = Self.a.jitterFactors.map { $0[3] }
        #expect(h.min()! >= -0.1 && h.max()! <= 0.1 && h.min()! < -0.098 && h.max()! > 0.098)
        #expect(abs(mean(h)) < 0.002)
    }

    @Test func jitterOrdersAreUniformPermutations() {
        let orders = Self.a.jitterOrder
        #expect(orders.allSatisfy { $0.sorted() == [0, 1, 2, 3] })
        for op in 0..<4 {
            #expect(abs(rate(orders.map { $0[0] == op }) - 0.25) < tolerance(0.25))
        }
        #expect(Set(orders).count == 24)
    }

    @Test func grayscaleRateIsPointTwo() {
        #expect(abs(rate(Self.a.grayscale) - 0.2) < tolerance(0.2))
    }

    @Test func blurIsAlwaysOnForViewAAndOneInTenForViewB() {
        #expect(rate(Self.a.blur) == 1)
        #expect(abs(rate(Self.b.blur) - 0.1) < tolerance(0.1))
        #expect(Self.a.blurSigma.min()! >= 0.1 && Self.a.blurSigma.max()! <= 2 && abs(mean(Self.a.blurSigma) - 1.05) < 0.02)
    }

    @Test func solarisationIsOffForViewAAndOneInFiveForViewB() {
        #expect(rate(Self.a.solarize) == 0)
        #expect(abs(rate(Self.b.solarize) - 0.2) < tolerance(0.2))
    }

    @Test func theSameSeedDrawsTheSameParameters() {
        let again = ViewParameters.draw(.barlowTwinsA, count: 100, height: 32, width: 32, generator: Generator(seed: 11))
        let first = ViewParameters.draw(.barlowTwinsA, count: 100, height: 32, width: 32, generator: Generator(seed: 11))
        #expect(again == first)
    }
}

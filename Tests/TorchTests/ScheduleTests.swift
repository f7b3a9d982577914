import Foundation
import Testing
import Torch

/// Learning-rate schedules as pure functions of the iteration.
@Suite("Schedules")
struct ScheduleTests {
    /// The Barlow Twins reference's adjust_learning_rate, transcribed for comparison.
    static func reference(step: Int, batchSize: Int, epochs: Int, stepsPerEpoch: Int) -> Double {
        var step = Double(step)
        var maxSteps = Double(epochs * stepsPerEpoch)
        let warmupSteps = Double(10 * stepsPerEpoch)
        let baseLR = Double(batchSize) / 256
        if step < warmupSteps { return baseLR * step / warmupSteps }
        step -= warmupSteps
        maxSteps -= warmupSteps
        let q = 0.5 * (1 + cos(Double.pi * step / maxSteps))
        return baseLR * q + baseLR * 0.001 * (1 - q)
    }

    @Test("warm-up cosine equals the Barlow Twins reference at every step of a run")
    func warmupCosineMatchesReference() {
        let schedule = WarmupCosine(base: 2048.0 / 256, warmupSteps: 10 * 25, totalSteps: 300 * 25)
        for step in 0..<(300 * 25) {
            let expected = Self.reference(step: step, batchSize: 2048, epochs: 300, stepsPerEpoch: 25)
            #expect(Swift.abs(schedule(step) - expected) <= 1e-12 * expected + 1e-15, "step \(step)")
        }
    }

    @Test("warm-up rises linearly from 0 to the base rate")
    func warmupIsLinear() {
        let schedule = WarmupCosine(base: 0.8, warmupSteps: 4, totalSteps: 20)
        #expect((0...4).map { schedule($0) } == (0...4).map { 0.8 * Double($0) / 4 })
        #expect(schedule(4) == 0.8)
    }

    @Test("cosine decay reaches the floor, 0.001 × base, at the last step and stays there")
    func decayReachesFloor() {
        let schedule = WarmupCosine(base: 2, warmupSteps: 0, totalSteps: 50)
        #expect(schedule(0) == 2)
        #expect(Swift.abs(schedule(50) - 0.002) < 1e-15)
        #expect(schedule(80) == schedule(50))
        #expect(Swift.abs(schedule(25) - (2 + 0.002) / 2) < 1e-12)
        #expect((1...50).allSatisfy { schedule($0) < schedule($0 - 1) })
    }

    @Test("a constant schedule gives its value at every step")
    func constant() {
        #expect([0, 7, 1_000_000].map { Constant(0.3)($0) } == [0.3, 0.3, 0.3])
    }

    @Test("a step schedule multiplies by gamma from each milestone on, as MultiStepLR")
    func stepDecay() {
        let schedule = StepDecay(base: 1, milestones: [3, 6], gamma: 0.5)
        #expect((0..<8).map { schedule($0) } == [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25])
    }

    @Test("schedules round-trip through JSON, for run configurations")
    func codable() throws {
        let schedule = WarmupCosine(base: 8, warmupSteps: 10, totalSteps: 100)
        let decoded = try JSONDecoder().decode(WarmupCosine.self, from: JSONEncoder().encode(schedule))
        #expect(decoded == schedule)
    }
}

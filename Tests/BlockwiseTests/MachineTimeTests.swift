import Foundation
import Testing
@testable import Blockwise

/// `MachineTime`: the steal in /proc/stat and this process's CPU time, which `bench` reports
/// beside its wall times.
@Suite(.serialized) struct MachineTimeTests {
    @Test func procStatsFirstLineGivesTheMachinesTimeAndItsSteal() throws {
        let text = "cpu  1495879 215 94185 6036417 6145 0 2463 140991 0 0\ncpu0 748000 100 47000 3018000 3000 0 1200 70000 0 0\n"
        let sample = try #require(MachineTime.parse(text))
        #expect(sample.total == 1_495_879 + 215 + 94185 + 6_036_417 + 6145 + 2463 + 140_991)
        #expect(sample.stolen == 140_991)
        // Guest time is counted inside user and nice time already.
        #expect(MachineTime.parse("cpu  10 0 0 10 0 0 0 5 99 99")?.total == 25)
        // A kernel that does not count steal.
        #expect(MachineTime.parse("cpu  10 0 5 20") == MachineTime.Sample(total: 35, stolen: 0))
        for bad in ["", "cpu0 1 2 3 4", "intr 1 2 3 4", "cpu  1 x 3 4", "cpu  1 2"] {
            #expect(MachineTime.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func theStolenShareIsStealOverAllTheTimeBetweenTwoSamples() {
        let start = MachineTime.Sample(total: 1000, stolen: 10)
        #expect(MachineTime.stolenShare(from: start, to: MachineTime.Sample(total: 1400, stolen: 170)) == 0.4)
        #expect(MachineTime.stolenShare(from: start, to: start) == nil)
    }

    @Test func thisMachineIsReadAndTheProcessTimeGrowsWithWork() throws {
        let first = try #require(MachineTime.sample())
        let cpu = MachineTime.processSeconds()
        var sum = 0.0
        for i in 0..<20_000_000 { sum += Double(i).squareRoot() }
        #expect(sum > 0)
        #expect(MachineTime.processSeconds() - cpu > 0.005)
        let second = try #require(MachineTime.sample())
        #expect(second.total >= first.total && second.stolen >= first.stolen)
    }

    /// `bench --config`: each timed step's CPU time, within what the machine's cores can give
    /// in the step's wall time, and the share stolen during the steps.
    @Test func benchReportsEachStepsCPUTimeAndTheSteal() throws {
        let result = try TrainingBenchmark.run(config: try tinyConfig(), name: "tiny", steps: 2, warmup: 1)
        let wall = try #require(result.stepSeconds)
        let cpu = try #require(result.stepCPUSeconds)
        #expect(cpu.count == 2)
        for (wall, cpu) in zip(wall, cpu) {
            #expect(cpu > 0 && cpu <= wall * Double(ProcessInfo.processInfo.activeProcessorCount) * 1.05 + 0.02, "\(cpu) s of CPU in \(wall) s")
        }
        let stolen = try #require(result.stolenShare)
        #expect(stolen >= 0 && stolen <= 1)
    }
}

import Testing
import Torch
@testable import Blockwise

/// `bench --profile`: every part of the step is timed, and timing changes nothing it computes.
@Suite(.serialized) struct StepProfileTests {
    @Test func theProfileAccountsForTheStepBlockByBlock() throws {
        let profile = try TrainingBenchmark.profile(config: try tinyConfig(), steps: 2, warmup: 1)
        #expect(profile.blocks.count == 4)
        for times in profile.blocks {
            #expect(times["forward"]! > 0 && times["head"]! > 0 && times["projector"]! > 0 && times["backward"]! > 0)
        }
        let accounted = profile.blocks.flatMap(\.values).reduce(0, +) + profile.step.values.reduce(0, +)
        #expect(accounted <= profile.totalMilliseconds * 1.01 && accounted >= profile.totalMilliseconds * 0.5,
                "\(accounted) ms of \(profile.totalMilliseconds)")
    }

    @Test func aProfiledStepComputesWhatAPlainOneDoes() throws {
        var losses: [[Double?]] = []
        for profiled in [false, true] {
            let setup = try TrainingSetup(config: try tinyConfig(["model.noise=independent"]))
            if profiled { setup.step.profile = StepProfile(device: setup.device) }
            let loader = try setup.loader(phase: 0)
            defer { loader.stop() }
            for _ in 0..<2 { losses.append(try setup.optimise(try loader.next().value, phase: setup.plan.phases[0]).losses) }
        }
        #expect(losses[0] == losses[2] && losses[1] == losses[3])
    }
}

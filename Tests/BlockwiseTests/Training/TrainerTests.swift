import Foundation
import Testing
import Torch
@testable import Blockwise

/// A tiny configuration that trains in about a second: 16×16 synthetic shapes, ResNet-18 at
/// 1/16 width.
func tinyConfig(_ overrides: [String] = []) throws -> Config {
    var config = Config()
    for assignment in [
        "data.dataset=synthetic:shapes?count=96&size=16", "data.image_size=16", "data.batch_size=32",
        "model.width=0.0625", "model.head_dim=16", "model.projector=16-16", "training.epochs=2",
        "schedule.warmup_epochs=0", "log.every_steps=1", "data.prefetch=1", "run.threads=1",
    ] + overrides {
        try config.set(assignment)
    }
    return config
}

func temporaryRun(_ name: String = "run") -> RunDirectory {
    RunDirectory(FileManager.default.temporaryDirectory.appendingPathComponent("blockwise-\(name)-\(UUID())").path)
}

@Suite(.serialized) struct TrainerTests {
    @Test func aRunLeavesItsConfigMetricsCheckpointsAndBackbone() throws {
        let run = temporaryRun()
        defer { try? FileManager.default.removeItem(atPath: run.path) }
        let summary = try Trainer(config: try tinyConfig(), run: run, log: { _ in }).train()
        #expect(summary.steps == 6)
        #expect(try Config(contentsOf: run.configPath) == (try tinyConfig()))
        let records = try MetricsLog.read(path: run.metricsPath)
        #expect(records.filter { $0.kind == .step }.count == 6)
        #expect(records.filter { $0.kind == .epoch }.count == 2)
        #expect(records[0].loss.count == 4)
        #expect(FileManager.default.fileExists(atPath: run.checkpointsPath + "/last.safetensors"))
        let backbone = try run.loadBackbone()
        #expect(backbone.stageChannels == [4, 8, 16, 32])
    }

    /// Trains one run straight through and another stopped at the `stopAtCall`-th check and
    /// resumed; the caller removes both run directories.
    func straightAndResumed(_ overrides: [String], stopAtCall: Int) throws
        -> (straight: RunDirectory, interrupted: RunDirectory, stopped: Trainer.Summary, resumed: Trainer.Summary)
    {
        let straight = temporaryRun("straight")
        let interrupted = temporaryRun("interrupted")
        _ = try Trainer(config: try tinyConfig(overrides), run: straight, log: { _ in }).train()
        var calls = 0
        let stopped = try Trainer(config: try tinyConfig(overrides), run: interrupted, log: { _ in }).train {
            calls += 1
            return calls == stopAtCall
        }
        let resumed = try Trainer.resume(run: interrupted, log: { _ in }).train()
        return (straight, interrupted, stopped, resumed)
    }

    @Test func aStoppedRunResumesToTheSameWeightsAsAnUninterruptedOne() throws {
        // Stopped mid-way through the second epoch.
        let (straight, interrupted, stopped, resumed) = try straightAndResumed(
            ["model.noise=independent", "checkpoint.keep=1", "training.recompute=true"], stopAtCall: 5)
        defer {
            try? FileManager.default.removeItem(atPath: straight.path)
            try? FileManager.default.removeItem(atPath: interrupted.path)
        }
        #expect(stopped.stoppedEarly)
        #expect(stopped.steps == 4)
        #expect(resumed.steps == 6)

        let a = try SafeTensors.read(contentsOf: straight.backbonePath)
        let b = try SafeTensors.read(contentsOf: interrupted.backbonePath)
        #expect(a.names == b.names)
        for name in a.names { #expect(a[name]!.equal(b[name]!), "\(name) differs after resume") }
        // The metrics continue: one line per step, none twice.
        let steps = try MetricsLog.read(path: interrupted.metricsPath).filter { $0.kind == .step }
        #expect(steps.map(\.step) == [1, 2, 3, 4, 5, 6])
    }

    @Test func aRunResumedFromAStepCheckpointAtAnEpochsEndReportsTheSameEpochMeans() throws {
        // Checkpoints by step only, every 3 steps = every epoch's end; stop in the second epoch.
        // Steps 4 and 5 were logged after the checkpoint of step 3: the resume logs them again.
        let (straight, interrupted, _, _) = try straightAndResumed(
            ["checkpoint.every_epochs=0", "checkpoint.every_steps=3"], stopAtCall: 6)
        defer {
            try? FileManager.default.removeItem(atPath: straight.path)
            try? FileManager.default.removeItem(atPath: interrupted.path)
        }
        func epochLosses(_ run: RunDirectory) throws -> [[Double?]] {
            try MetricsLog.read(path: run.metricsPath).filter { $0.kind == .epoch }.map(\.loss)
        }
        #expect(try epochLosses(interrupted) == epochLosses(straight))
        let steps = try MetricsLog.read(path: interrupted.metricsPath).filter { $0.kind == .step }
        #expect(steps.map(\.step) == [1, 2, 3, 4, 5, 6])
    }

    @Test func sequentialTrainingLeavesFrozenBlocksBitwiseUnchanged() throws {
        let run = temporaryRun("sequential")
        defer { try? FileManager.default.removeItem(atPath: run.path) }
        let config = try tinyConfig(["training.mode=sequential", "model.partition=1+2,3+4", "training.epochs=1"])
        var calls = 0
        // Stop right after the first block's phase (3 steps), then look at block 1.
        _ = try Trainer(config: config, run: run, log: { _ in }).train { calls += 1; return calls == 4 }
        let afterPhase = try #require(try Checkpoint.readLast(run: run))
        #expect(afterPhase.state.phase == 1)
        _ = try Trainer.resume(run: run, log: { _ in }).train()
        let final = try #require(try Checkpoint.readLast(run: run))
        let firstBlock = { (name: String) in
            name.hasPrefix("model.backbone.conv1.") || name.hasPrefix("model.backbone.bn1.")
                || name.hasPrefix("model.backbone.layer1.") || name.hasPrefix("model.backbone.layer2.")
        }
        let names = afterPhase.tensors.keys.filter(firstBlock)
        #expect(names.contains("model.backbone.layer1.0.bn1.running_mean"))
        for name in names { #expect(afterPhase.tensors[name]!.equal(final.tensors[name]!), "\(name) changed") }
        let secondBlock = afterPhase.tensors.keys.filter { $0.hasPrefix("model.backbone.layer4.") }
        #expect(secondBlock.contains { !afterPhase.tensors[$0]!.equal(final.tensors[$0]!) })
    }

    @Test(arguments: ["end-to-end", "simultaneous", "sequential", "supervised-blockwise", "supervised-end-to-end",
                      "random-frozen"])
    func everyModeTrainsWithFallingLoss(_ mode: String) throws {
        let run = temporaryRun(mode)
        defer { try? FileManager.default.removeItem(atPath: run.path) }
        var overrides = ["training.mode=\(mode)", "training.epochs=6", "data.augmentation=none",
                         "optimizer.name=sgd", "optimizer.lr_weights=0.5", "optimizer.lr_biases=0.5"]
        if mode.hasPrefix("supervised") { overrides.append("model.projector=") }
        if mode == "sequential" { overrides += ["model.partition=1+2,3+4", "training.epochs=4"] }
        _ = try Trainer(config: try tinyConfig(overrides), run: run, log: { _ in }).train()
        let epochs = try MetricsLog.read(path: run.metricsPath).filter { $0.kind == .epoch }
        // Per phase, the mean loss of the last epoch is below that of the first.
        for phase in Set(epochs.map(\.phase)) {
            let losses = epochs.filter { $0.phase == phase }.map { $0.loss.compactMap { $0 }.reduce(0, +) }
            #expect(losses.last! < losses.first!, "\(mode), phase \(phase): \(losses)")
        }
    }

    @Test func aDivergingRunStopsNamingTheBlockTheStepAndTheLastCheckpoint() throws {
        let run = temporaryRun("nan")
        defer { try? FileManager.default.removeItem(atPath: run.path) }
        let config = try tinyConfig(["optimizer.name=sgd", "optimizer.lr_weights=1e30", "optimizer.lr_biases=1e30",
                                     "training.epochs=20", "checkpoint.every_steps=1"])
        let error = #expect(throws: TrainingError.self) { try Trainer(config: config, run: run, log: { _ in }).train() }
        let message = error?.description ?? ""
        #expect(message.hasPrefix("the loss of block "))
        #expect(message.contains("at step "))
        #expect(message.contains("last good checkpoint: \(run.checkpointsPath)/last.safetensors"))
    }

    @Test func badSetupsAreRejectedWithWhatToChange() throws {
        let run = temporaryRun("bad")
        defer { try? FileManager.default.removeItem(atPath: run.path) }
        let existing = try #require(try? tinyConfig())
        _ = try Trainer(config: existing, run: run, log: { _ in }).train()
        let again = #expect(throws: RunError.self) { try Trainer(config: existing, run: run, log: { _ in }) }
        #expect(again?.description.contains("already holds a run") == true)
        let tooBig = #expect(throws: RunError.self) {
            try Trainer(config: try tinyConfig(["data.batch_size=1000"]), run: temporaryRun(), log: { _ in })
        }
        #expect(tooBig?.description.contains("data.batch_size 1000 is larger") == true)
        #expect(throws: TrainingError.self) {
            try Trainer(config: try tinyConfig(["training.mode=random-frozen", "model.partition=1+2,3,4", "training.trained_block=4"]), run: temporaryRun(), log: { _ in })
        }
    }
}

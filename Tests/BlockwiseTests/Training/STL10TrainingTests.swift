import Foundation
import Testing
import Torch
@testable import Blockwise

/// Pretraining on STL-10, whose pretraining set mixes labelled images with unlabelled ones
/// (label −1): 4 labelled and 10 unlabelled 96×96 images here, trained at 32×32.
@Suite(.serialized) struct STL10TrainingTests {
    static let labels: [UInt8] = [1, 2, 3, 4]

    func config(_ folder: TemporaryFolder, _ overrides: [String] = []) throws -> Config {
        try tinyConfig(["data.dataset=stl10:\(folder.path)", "data.image_size=32", "data.batch_size=7",
                        "training.epochs=2"] + overrides)
    }

    @Test func selfSupervisedPretrainingScoresTheOnlineProbeOnLabelledImagesOnlyAndTheRunCanBeProbed() throws {
        let folder = stl10Folder(labels: Self.labels, unlabeled: 10)
        defer { withExtendedLifetime(folder) {} }
        let run = temporaryRun("stl10")
        defer { try? FileManager.default.removeItem(atPath: run.path) }
        let config = try config(folder)
        // The first trainer, and with it the run's lock, is let go at the end of this block.
        do {
            let trainer = try Trainer(config: config, run: run, log: { _ in })
            // The pretraining set is train then unlabeled: indices below 4 are the labelled images.
            let firstBatch = try trainer.setup.epochPlan().batch(epoch: 0, index: 0)
            let labelledInFirstBatch = firstBatch.filter { $0 < Self.labels.count }.count
            try #require((1..<7).contains(labelledInFirstBatch), "the first batch should mix both kinds")

            // Stopped after the first step (mid-epoch), the checkpoint holds the epoch's probe counts.
            var calls = 0
            let stopped = try trainer.train { calls += 1; return calls == 2 }
            #expect(stopped.steps == 1)
            let checkpoint = try #require(try Checkpoint.readLast(run: run))
            #expect(checkpoint.state.probeSeen == Array(repeating: labelledInFirstBatch, count: 4))
            #expect(checkpoint.state.probeCorrect.allSatisfy { (0...labelledInFirstBatch).contains($0) })
        }

        _ = try Trainer.resume(run: run, log: { _ in }).train()
        let epochs = try MetricsLog.read(path: run.metricsPath).filter { $0.kind == .epoch }
        #expect(epochs.count == 2)
        for epoch in epochs {
            let scores = try #require(epoch.onlineProbeTop1)
            #expect(scores.count == 4)
            for top1 in scores {
                // An epoch shows the probe each of the 4 labelled images once: a multiple of 1/4.
                let accuracy = try #require(top1)
                let quarters = accuracy * Double(Self.labels.count)
                #expect((0...1).contains(accuracy) && abs(quarters - quarters.rounded()) < 1e-9, "\(accuracy)")
            }
        }

        let report = try Probe(method: .linear, linear: LinearProbe(epochs: 2)).run(RunEvaluation(run: run))
        #expect(report.dataset == config.data.dataset.description)
        #expect(report.blocks.map(\.block) == [1, 2, 3, 4])
        #expect(report.blocks.allSatisfy { (0...1).contains($0.top1) && $0.top1 <= $0.top5 })
    }

    @Test func supervisedBlockwiseTrainingReadsOnlyTheLabelledImagesAndSaysSo() throws {
        let folder = stl10Folder(labels: Self.labels, unlabeled: 10)
        defer { withExtendedLifetime(folder) {} }
        let run = temporaryRun("stl10-supervised")
        defer { try? FileManager.default.removeItem(atPath: run.path) }
        let config = try config(folder, ["training.mode=supervised-blockwise", "model.projector=",
                                         "data.batch_size=2", "training.epochs=1"])
        var lines: [String] = []
        let trainer = try Trainer(config: config, run: run, log: { lines.append($0) })
        #expect(trainer.setup.dataset.count == 4)
        #expect(trainer.setup.dataset.name == "stl10/train")
        #expect(lines.contains { $0.contains("supervised-blockwise trains on the 4 labelled images of stl10/train") })
        // 4 images in batches of 2: the 10 unlabelled images would make 7 steps.
        let summary = try trainer.train()
        #expect(summary.steps == 2)
        #expect(summary.finalLosses.allSatisfy { $0?.isFinite == true })
    }

    @Test func selfSupervisedModesReadTheUnlabelledImagesTooWithoutANote() throws {
        let folder = stl10Folder(labels: Self.labels, unlabeled: 10)
        defer { withExtendedLifetime(folder) {} }
        let setup = try TrainingSetup(config: try config(folder))
        #expect(setup.dataset.count == 14)
        #expect(setup.notes.isEmpty)
    }
}

/// The online probe's step on batches where some or all images are unlabelled (label −1).
@Suite struct OnlineProbeUnlabelledTests {
    func outputs(rows: Int) -> [Int: Tensor] {
        let generator = Generator(seed: 5)
        return [0: Tensor.randn([rows, 4, 2, 2], generator: generator), 1: Tensor.randn([rows, 8, 2, 2], generator: generator)]
    }

    func probe() -> OnlineProbe { OnlineProbe(channels: [4, 8], classes: 3, generator: Generator(seed: 1)) }

    func expectSameState(_ a: OnlineProbe, _ b: OnlineProbe, sourceLocation: SourceLocation = #_sourceLocation) {
        let (x, y) = (a.stateDict(), b.stateDict())
        #expect(x.keys.sorted() == y.keys.sorted(), sourceLocation: sourceLocation)
        for (name, tensor) in x { #expect(tensor.equal(y[name]!), "\(name)", sourceLocation: sourceLocation) }
        let (m, n) = (a.optimizer.stateDict(), b.optimizer.stateDict())
        #expect(m.tensors.keys.sorted() == n.tensors.keys.sorted(), sourceLocation: sourceLocation)
        for (name, tensor) in m.tensors { #expect(tensor.equal(n.tensors[name]!), "\(name)", sourceLocation: sourceLocation) }
    }

    @Test func unlabelledRowsChangeNeitherTheStepNorTheScore() throws {
        let labels = Tensor([2, -1, 0, -1, 1, 2] as [Int64])
        let kept = Tensor([0, 2, 4, 5] as [Int64])
        let mixed = probe(), alone = probe()
        // Two steps, so that the momentum carried into the second step is compared too.
        for _ in 0..<2 {
            let all = outputs(rows: 6)
            let mixedScores = mixed.step(outputs: all, labels: labels)
            let aloneScores = alone.step(outputs: all.mapValues { $0.indexSelect(dim: 0, index: kept) },
                                         labels: labels.indexSelect(dim: 0, index: kept))
            #expect(mixedScores == aloneScores)
            #expect(mixedScores.keys.sorted() == [0, 1])
            #expect(mixedScores.values.allSatisfy { $0.labelled == 4 })
        }
        expectSameState(mixed, alone)
        let untrained = probe().stateDict()
        #expect(mixed.stateDict().contains { !$0.value.equal(untrained[$0.key]!) })
    }

    @Test func anAllUnlabelledBatchChangesNothing() throws {
        let trained = probe(), reference = probe()
        // A labelled step first, so the probe has momentum that a stray step would move.
        let labels = Tensor([0, 1, 2, 0] as [Int64])
        _ = trained.step(outputs: outputs(rows: 4), labels: labels)
        _ = reference.step(outputs: outputs(rows: 4), labels: labels)
        let scores = trained.step(outputs: outputs(rows: 3), labels: Tensor.full([3], -1, dtype: .int64))
        #expect(scores == [0: .init(correct: 0, labelled: 0), 1: .init(correct: 0, labelled: 0)])
        expectSameState(trained, reference)
        #expect(trained.classifiers.allSatisfy { $0.weight.grad == nil })
    }
}

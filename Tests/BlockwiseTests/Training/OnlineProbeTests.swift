import Foundation
import Testing
import Torch
@testable import Blockwise

/// The online probe measures the representation while it trains, without shaping it.
@Suite(.serialized) struct OnlineProbeTests {
    @Test func itLearnsToSeparateSeparableFeatures() throws {
        // Class c lights up channel c (plus noise): a linear classifier separates them exactly.
        let generator = Generator(seed: 2)
        let labels = Tensor.randint(0, 3, [30], generator: generator)
        let features = (Tensor.randn([30, 6], generator: generator) * 0.3)
            + oneHot(labels, numClasses: 6).to(.float32) * 3
        let probe = OnlineProbe(channels: [6], classes: 3, generator: Generator(seed: 1))
        let outputs = [0: features.reshape([30, 6, 1, 1])]
        let first = try #require(probe.step(outputs: outputs, labels: labels)[0])
        var last = first
        for _ in 0..<30 { last = try #require(probe.step(outputs: outputs, labels: labels)[0]) }
        #expect(first.labelled == 30 && last.labelled == 30)
        // Chance is 10 of 30.
        #expect(last.correct >= 27, "\(first.correct) → \(last.correct) of 30")
    }

    func firstBatch(_ setup: TrainingSetup) throws -> TwoViewBatch {
        let loader = try setup.loader(phase: 0)
        defer { loader.stop() }
        return try loader.next().value
    }

    @Test func itNeverChangesTheBackbonesGradients() throws {
        let setup = try TrainingSetup(config: try tinyConfig())
        let probe = try #require(setup.probe)
        let batch = try firstBatch(setup)
        let result = setup.step.run(batch.viewA, batch.viewB, labels: batch.labels, phase: setup.plan.phases[0],
                                    noise: setup.noise)
        let parameters = setup.network.parameters()
        let before = parameters.map { $0.grad?.clone() }
        #expect(before.contains { $0 != nil })
        let scores = probe.step(outputs: result.outputs.mapValues(\.0), labels: batch.labels)
        #expect(scores.count == 4)
        for (parameter, gradient) in zip(parameters, before) {
            #expect(parameter.grad.map { gradient?.equal($0) ?? false } ?? (gradient == nil))
        }
    }

    @Test func aStepUpdatesTheNetworkAsIfThereWereNoProbe() throws {
        let with = try TrainingSetup(config: try tinyConfig())
        let without = try TrainingSetup(config: try tinyConfig(["training.online_probe=false"]))
        #expect(with.probe != nil && without.probe == nil)
        for setup in [with, without] {
            let result = try setup.optimise(try firstBatch(setup), phase: setup.plan.phases[0])
            #expect(result.probe.count == (setup.probe == nil ? 0 : 4))
        }
        let a = with.network.stateDict(), b = without.network.stateDict()
        #expect(a.keys.sorted() == b.keys.sorted())
        for (name, tensor) in a { #expect(tensor.equal(b[name]!), "\(name) differs with the probe") }
    }

    func probeState(_ probe: OnlineProbe) -> (weights: [String: Tensor], momentum: OptimizerState) {
        (probe.stateDict().mapValues { $0.clone() }, probe.optimizer.stateDict())
    }

    func expectEqual(_ a: [String: Tensor], _ b: [String: Tensor], _ what: String,
                     sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!a.isEmpty && a.keys.sorted() == b.keys.sorted(), "\(what)", sourceLocation: sourceLocation)
        for (name, tensor) in a {
            #expect(b[name].map(tensor.equal) == true, "\(what): \(name)", sourceLocation: sourceLocation)
        }
    }

    @Test func itsWeightsAndMomentumAreCheckpointedAndRestoredExactly() throws {
        let straight = temporaryRun("probe-straight")
        let interrupted = temporaryRun("probe-interrupted")
        defer {
            try? FileManager.default.removeItem(atPath: straight.path)
            try? FileManager.default.removeItem(atPath: interrupted.path)
        }
        _ = try Trainer(config: try tinyConfig(), run: straight, log: { _ in }).train()
        // Stopped after 4 steps, in the middle of the second epoch; the trainer, and with it the
        // run's lock, is let go before the resume.
        let stopped = try {
            let trainer = try Trainer(config: try tinyConfig(), run: interrupted, log: { _ in })
            var calls = 0
            _ = try trainer.train { calls += 1; return calls == 5 }
            return probeState(try #require(trainer.setup.probe))
        }()
        #expect(stopped.momentum.tensors.keys.contains { $0.hasSuffix("momentum_buffer") })

        let checkpoint = try #require(try Checkpoint.readLast(run: interrupted))
        expectEqual(stopped.weights, checkpoint.tensors.filter { $0.key.hasPrefix("probe.") }
            .reduce(into: [:]) { $0[String($1.key.dropFirst(6))] = $1.value }, "checkpointed weights")
        expectEqual(stopped.momentum.tensors, checkpoint.probeOptimizer.tensors, "checkpointed momentum")
        #expect(stopped.momentum.scalars == checkpoint.probeOptimizer.scalars)

        let resumed = try Trainer.resume(run: interrupted, log: { _ in })
        let restored = probeState(try #require(resumed.setup.probe))
        expectEqual(stopped.weights, restored.weights, "restored weights")
        expectEqual(stopped.momentum.tensors, restored.momentum.tensors, "restored momentum")
        #expect(stopped.momentum.scalars == restored.momentum.scalars)

        // Trained on, it ends where the uninterrupted run's probe ended, with the same scores.
        _ = try resumed.train()
        let a = try #require(try Checkpoint.readLast(run: straight)), b = try #require(try Checkpoint.readLast(run: interrupted))
        let probeTensors = { (c: Checkpoint.Contents) in c.tensors.filter { $0.key.hasPrefix("probe") } }
        expectEqual(probeTensors(a), probeTensors(b), "final probe")
        let scores = { (run: RunDirectory) in
            try MetricsLog.read(path: run.metricsPath).filter { $0.kind == .epoch }.map(\.onlineProbeTop1)
        }
        #expect(try scores(interrupted) == scores(straight))
    }
}

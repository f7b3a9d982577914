import Foundation
import Testing
import Torch
@testable import Blockwise

/// A run has one writer at a time, resumes from what a crash leaves (a missing or damaged
/// `last`, temporaries of interrupted writes), and is never started in a folder of other files.
@Suite(.serialized) struct RunSafetyTests {
    /// Checkpoints at every step, the newest three kept.
    static let everyStep = ["checkpoint.every_steps=1", "checkpoint.keep=3"]

    /// One run trained straight through and one stopped after 4 of its 6 steps (checkpoints
    /// step-2, step-3 and step-4, `last` a link to step-4); the caller removes both.
    func straightAndStopped() throws -> (straight: RunDirectory, stopped: RunDirectory) {
        let straight = temporaryRun("straight"), stopped = temporaryRun("stopped")
        _ = try Trainer(config: try tinyConfig(Self.everyStep), run: straight, log: { _ in }).train()
        var calls = 0
        let summary = try Trainer(config: try tinyConfig(Self.everyStep), run: stopped, log: { _ in }).train {
            calls += 1
            return calls == 5
        }
        try #require(summary.steps == 4)
        return (straight, stopped)
    }

    /// Resumes `run` to its end, returning what it logged.
    func resumeToTheEnd(_ run: RunDirectory) throws -> [String] {
        var lines: [String] = []
        _ = try Trainer.resume(run: run, log: { lines.append($0) }).train()
        return lines
    }

    func expectSameBackbones(_ a: RunDirectory, _ b: RunDirectory) throws {
        let x = try SafeTensors.read(contentsOf: a.backbonePath), y = try SafeTensors.read(contentsOf: b.backbonePath)
        #expect(x.names == y.names)
        for name in x.names { #expect(x[name]!.equal(y[name]!), "\(name) differs after resume") }
    }

    func step(_ run: RunDirectory, _ n: Int) -> String { run.checkpointsPath + String(format: "/step-%08d.safetensors", n) }

    // MARK: One writer

    /// Waits until `process` has logged a step of `run` (a first step can take a while on a
    /// loaded machine), so that interrupting it leaves steps to check.
    func waitForALoggedStep(_ run: String, of process: BlockwiseProcess) {
        let deadline = Date().addingTimeInterval(60)
        while process.process.isRunning, Date() < deadline,
              !((try? String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8))?.contains("\"step\"") ?? false) {
            usleep(20_000)
        }
    }

    @Test func aRunIsRefusedToASecondWriterNamingThePidOfTheFirstUntilTheFirstEnds() throws {
        let run = temporaryRun("locked")
        defer { try? FileManager.default.removeItem(atPath: run.path) }
        var first: Trainer? = try Trainer(config: try tinyConfig(), run: run, log: { _ in })
        let refused = withExtendedLifetime(first) {
            #expect(throws: RunError.self) { try Trainer.resume(run: run, log: { _ in }) }
        }
        #expect(refused?.description.hasPrefix("\(run.path) is in use: process \(getpid())") == true, "\(String(describing: refused))")
        first = nil
        _ = try Trainer.resume(run: run, log: { _ in })
    }

    @Test func ofTwoPretrainingsStartedTogetherInOneFolderOneTrainsAndTheOtherIsRefusedNamingIt() throws {
        let folder = TemporaryFolder()
        let config = try writeTinyConfig(in: folder, ["training.epochs=100"])
        let run = folder.path + "/run"
        let writers = try (0..<2).map { _ in try BlockwiseProcess(["pretrain", config, "--out", run], folder: folder) }
        while writers.allSatisfy({ $0.process.isRunning }) { usleep(20_000) }
        let refused = writers.first { !$0.process.isRunning }!, training = writers.first { $0.process.isRunning }
        #expect(refused.wait() == 1)
        let holder = try #require(training, "both ended:\n\(writers[0].output)\n\(writers[1].output)")
        #expect(refused.output.contains("\(run) is in use: process \(holder.process.processIdentifier)"), "\(refused.output)")
        waitForALoggedStep(run, of: holder)
        kill(holder.process.processIdentifier, SIGINT)
        #expect(holder.wait() == 130, "\(holder.output)")
        // One writer: every step logged once, in order.
        let steps = try MetricsLog.read(path: run + "/metrics.jsonl").filter { $0.kind == .step }.map(\.step)
        #expect(!steps.isEmpty && steps == Array(1...steps.count))
    }

    @Test func resumingARunThatStillTrainsIsRefusedNamingItsPid() throws {
        let folder = TemporaryFolder()
        let config = try writeTinyConfig(in: folder, ["training.epochs=100"])
        let run = folder.path + "/run"
        let training = try BlockwiseProcess(["pretrain", config, "--out", run], folder: folder)
        // config.yaml is written holding the lock.
        while training.process.isRunning, !FileManager.default.fileExists(atPath: run + "/config.yaml") { usleep(20_000) }
        let resume = try BlockwiseProcess(["pretrain", "--resume", run], folder: folder)
        #expect(resume.wait() == 1)
        #expect(resume.output.contains("\(run) is in use: process \(training.process.processIdentifier)"), "\(resume.output)")
        waitForALoggedStep(run, of: training)
        kill(training.process.processIdentifier, SIGINT)
        #expect(training.wait() == 130, "\(training.output)")
        let steps = try MetricsLog.read(path: run + "/metrics.jsonl").filter { $0.kind == .step }.map(\.step)
        #expect(!steps.isEmpty && steps == Array(1...steps.count))
    }

    /// The steps of a run's metrics.jsonl, which a process may be writing: a torn line is left out.
    func loggedSteps(_ run: String) -> [Int] {
        let lines = (try? String(contentsOfFile: run + "/metrics.jsonl", encoding: .utf8))?.split(separator: "\n") ?? []
        return lines.compactMap { try? JSONDecoder().decode(MetricsRecord.self, from: Data($0.utf8)) }.map(\.step)
    }

    @Test func theResumingLineReachesARedirectedOutputBeforeTheNextStepSoAKillKeepsIt() throws {
        let folder = TemporaryFolder()
        let config = try writeTinyConfig(in: folder, ["training.epochs=100", "checkpoint.every_steps=1"])
        let run = folder.path + "/run"
        let first = try BlockwiseProcess(["pretrain", config, "--out", run], folder: folder)
        waitForALoggedStep(run, of: first)
        kill(first.process.processIdentifier, SIGINT)
        #expect(first.wait() == 130, "\(first.output)")
        let stoppedAt = try #require(loggedSteps(run).max())
        // Output goes to a file, as under nohup or a batch scheduler.
        let resumed = try BlockwiseProcess(["pretrain", "--resume", run], folder: folder)
        let deadline = Date().addingTimeInterval(60)
        while resumed.process.isRunning, Date() < deadline, !loggedSteps(run).contains(where: { $0 > stoppedAt }) { usleep(20_000) }
        kill(resumed.process.processIdentifier, SIGKILL)
        #expect(resumed.wait() == SIGKILL)
        #expect(resumed.output.contains("resuming \(run) at step \(stoppedAt) from "), "\(resumed.output)")
    }

    /// `probe` and `analyze` take no lock, so that a run can be evaluated while it trains: each
    /// writes only its own file, atomically (`RunLock`).
    @Test func aProbeRunsBesideTheRunsWriterAndWritesItsFileWhole() throws {
        let fixture = try RunFixture()
        let writer = try fixture.run.lock()
        try withExtendedLifetime(writer) {
            let report = try Probe(method: .knn, blocks: [1]).run(try RunEvaluation(run: fixture.run))
            #expect(try readJSON(ProbeReport.self, from: fixture.run.probePath).blocks.map(\.top1) == report.blocks.map(\.top1))
        }
    }

    // MARK: Resuming from what a crash leaves

    @Test func aRunWithoutLastResumesFromTheNewestStepFileToTheSameWeights() throws {
        let (straight, stopped) = try straightAndStopped()
        defer {
            try? FileManager.default.removeItem(atPath: straight.path)
            try? FileManager.default.removeItem(atPath: stopped.path)
        }
        try FileManager.default.removeItem(atPath: stopped.checkpointsPath + "/last.safetensors")
        let log = try resumeToTheEnd(stopped)
        #expect(log.contains("\(stopped.checkpointsPath)/last.safetensors is missing: passed over"), "\(log)")
        #expect(log.contains { $0.hasPrefix("resuming \(stopped.path) at step 4 from \(step(stopped, 4)) ") }, "\(log)")
        try expectSameBackbones(straight, stopped)
        let steps = try MetricsLog.read(path: stopped.metricsPath).filter { $0.kind == .step }
        #expect(steps.map(\.step) == [1, 2, 3, 4, 5, 6])
    }

    @Test func aRunWithATruncatedLastResumesFromTheNewestWholeStepFileAndSetsTheNewerAside() throws {
        let (straight, stopped) = try straightAndStopped()
        defer {
            try? FileManager.default.removeItem(atPath: straight.path)
            try? FileManager.default.removeItem(atPath: stopped.path)
        }
        // `last` and step-4 are one file (a hard link): truncating one truncates both.
        let last = stopped.checkpointsPath + "/last.safetensors"
        let size = try #require(try FileManager.default.attributesOfItem(atPath: last)[.size] as? Int)
        try #require(truncate(last, off_t(size / 2)) == 0)
        let log = try resumeToTheEnd(stopped)
        #expect(log.contains { $0.hasPrefix("\(step(stopped, 4)) does not read") }, "\(log)")
        #expect(log.contains { $0.hasPrefix("resuming \(stopped.path) at step 3 from \(step(stopped, 3)) ") }, "\(log)")
        try expectSameBackbones(straight, stopped)
        // The damaged step-4 is kept under another name: neither pruned nor overwritten.
        let names = try FileManager.default.contentsOfDirectory(atPath: stopped.checkpointsPath)
        let aside = try #require(names.first { $0.hasPrefix("step-00000004.safetensors.set-aside-") }, "\(names)")
        #expect(try FileManager.default.attributesOfItem(atPath: stopped.checkpointsPath + "/" + aside)[.size] as? Int == size / 2)
        #expect(Set(names.filter { $0.hasSuffix(".safetensors") })
            == ["step-00000004.safetensors", "step-00000005.safetensors", "step-00000006.safetensors", "last.safetensors"])
        let steps = try MetricsLog.read(path: stopped.metricsPath).filter { $0.kind == .step }
        #expect(steps.map(\.step) == [1, 2, 3, 4, 5, 6])
    }

    /// Each (step, loss of block 1) of a run's event files, read in TensorBoard's order (by name).
    func eventLosses(_ run: RunDirectory) throws -> [(step: Int64, loss: Float)] {
        try FileManager.default.contentsOfDirectory(atPath: run.tensorboardPath).sorted().flatMap { name in
            try EventFileReader.read(run.tensorboardPath + "/" + name).compactMap { event in
                event.scalars["loss/block_1"].map { (event.step, $0) }
            }
        }
    }

    @Test func aResumedRunsEventFilesHoldEachStepOnceWithTheStraightRunsValues() throws {
        let (straight, stopped) = try straightAndStopped()
        defer {
            try? FileManager.default.removeItem(atPath: straight.path)
            try? FileManager.default.removeItem(atPath: stopped.path)
        }
        // Resumed from step 3, the run logs step 4 again, as after a kill -9 past a checkpoint.
        try FileManager.default.removeItem(atPath: stopped.checkpointsPath + "/last.safetensors")
        try FileManager.default.removeItem(atPath: step(stopped, 4))
        _ = try resumeToTheEnd(stopped)
        let resumed = try eventLosses(stopped), expected = try eventLosses(straight)
        #expect(resumed.map(\.step) == [1, 2, 3, 4, 5, 6])
        #expect(resumed.map(\.step) == expected.map(\.step) && resumed.map(\.loss) == expected.map(\.loss))
    }

    @Test func aRunWhoseCheckpointsAllFailToReadIsNotRestartedFromStepZero() throws {
        let (straight, stopped) = try straightAndStopped()
        defer {
            try? FileManager.default.removeItem(atPath: straight.path)
            try? FileManager.default.removeItem(atPath: stopped.path)
        }
        for n in 2...4 { try #require(truncate(step(stopped, n), 100) == 0) }
        let error = #expect(throws: RunError.self) { try Trainer.resume(run: stopped, log: { _ in }) }
        #expect(error?.description.hasPrefix("\(stopped.path) has no readable checkpoint") == true, "\(String(describing: error))")
        for n in 2...4 { #expect(FileManager.default.fileExists(atPath: step(stopped, n))) }
    }

    @Test func temporariesLeftByAKilledWriteAreRemovedOnResume() throws {
        let (straight, stopped) = try straightAndStopped()
        defer {
            try? FileManager.default.removeItem(atPath: straight.path)
            try? FileManager.default.removeItem(atPath: stopped.path)
        }
        let orphans = [stopped.checkpointsPath + "/.step-00000005.safetensors.tmp-99999-12345",
                       stopped.checkpointsPath + "/.last.safetensors.tmp-99999",
                       stopped.path + "/.backbone.safetensors.tmp-99999-678"]
        for path in orphans { try #require(FileManager.default.createFile(atPath: path, contents: Data([1, 2, 3]))) }
        let trainer = try Trainer.resume(run: stopped, log: { _ in })
        for path in orphans { #expect(!FileManager.default.fileExists(atPath: path), "\(path) is left") }
        #expect(trainer.state.globalStep == 4)
    }

    // MARK: Where a new run may start

    @Test func aNewRunRefusesAFolderOfOtherFilesBeforeWritingAndTakesAnEmptyOne() throws {
        let folder = TemporaryFolder()
        let notes = folder.write("results/notes.txt", Array("keep me".utf8))
        let occupied = RunDirectory(folder.path + "/results")
        let error = #expect(throws: RunError.self) { try Trainer(config: try tinyConfig(), run: occupied, log: { _ in }) }
        #expect(error?.description.hasPrefix("\(occupied.path) is not empty and holds no run") == true, "\(String(describing: error))")
        #expect(try FileManager.default.contentsOfDirectory(atPath: occupied.path) == ["notes.txt"])
        #expect(FileManager.default.contents(atPath: notes) == Data("keep me".utf8))

        folder.makeFolder("empty")
        let empty = RunDirectory(folder.path + "/empty")
        _ = try Trainer(config: try tinyConfig(), run: empty, log: { _ in })
        #expect(FileManager.default.fileExists(atPath: empty.configPath))
    }
}

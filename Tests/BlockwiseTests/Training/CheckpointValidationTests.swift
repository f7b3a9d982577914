import Foundation
import Testing
import Torch
@testable import Blockwise

/// A checkpoint that reads whole but holds what no run of its configuration writes (a tensor
/// relabelled to another dtype, a state out of range) is passed over on resume, naming the file,
/// for an older one that fits; when none fits, the resume is refused.
@Suite(.serialized) struct CheckpointValidationTests {
    /// A run stopped after 2 of its 6 steps, with a checkpoint at each (step-1, step-2, and
    /// `last` a hard link to step-2); the caller removes it.
    func stoppedRun() throws -> RunDirectory {
        let run = temporaryRun("checkpoint")
        var calls = 0
        let summary = try Trainer(config: try tinyConfig(["checkpoint.every_steps=1"]), run: run, log: { _ in }).train {
            calls += 1
            return calls == 3
        }
        try #require(summary.steps == 2)
        return run
    }

    func lastPath(_ run: RunDirectory) -> String { run.checkpointsPath + "/last.safetensors" }
    func stepPath(_ run: RunDirectory, _ n: Int) -> String { run.checkpointsPath + String(format: "/step-%08d.safetensors", n) }

    func resumeError(_ run: RunDirectory) -> RunError? {
        #expect(throws: RunError.self) { try Trainer.resume(run: run, log: { _ in }) }
    }

    /// Rewrites `path` in place (so that `last`, a hard link to the newest step file, changes
    /// with it) with conv1's header saying I32 where F32 was written: same size, so the file
    /// still reads whole.
    func relabelConv1(_ path: String) throws {
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let entry = try #require(bytes.range(of: Data("\"model.backbone.conv1.weight\":{\"dtype\":\"F32\"".utf8)))
        bytes[entry.upperBound - 4] = UInt8(ascii: "I")
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.write(contentsOf: bytes)
        try handle.close()
    }

    /// Writes `path` again with one field of its training state set to `value`.
    func setState(_ path: String, _ field: String, _ value: Int) throws {
        let file = try SafeTensors.read(contentsOf: path)
        var state = try #require(try JSONSerialization.jsonObject(with: Data(file.metadata["state"]!.utf8)) as? [String: Any])
        state[field] = value
        var metadata = file.metadata
        metadata["state"] = String(decoding: try JSONSerialization.data(withJSONObject: state), as: UTF8.self)
        try SafeTensors.write(file.tensors, metadata: metadata, to: path)
    }

    @Test func aTensorRelabelledToAnotherDTypeIsRefusedNamingTheFileAndTheTensor() throws {
        let run = try stoppedRun()
        defer { try? FileManager.default.removeItem(atPath: run.path) }
        for n in 1...2 { try relabelConv1(stepPath(run, n)) }
        let error = resumeError(run)
        #expect(error?.description.contains(
            "\n  \(lastPath(run)): model.backbone.conv1.weight is stored as int32, the model holds it as float32\n") == true,
            "\(String(describing: error))")
    }

    @Test func aTensorRelabelledInTheNewestCheckpointIsPassedOverForTheOlderOne() throws {
        let run = try stoppedRun()
        defer { try? FileManager.default.removeItem(atPath: run.path) }
        try relabelConv1(stepPath(run, 2))
        var log: [String] = []
        let trainer = try Trainer.resume(run: run, log: { log.append($0) })
        #expect(trainer.state.globalStep == 1)
        #expect(log.contains("\(lastPath(run)): model.backbone.conv1.weight is stored as int32, the model holds it as float32: passed over"),
                "\(log)")
        #expect(log.contains { $0.hasPrefix("resuming \(run.path) at step 1 from \(stepPath(run, 1)) ") }, "\(log)")
    }

    @Test(arguments: [("globalStep", -5), ("phaseStep", -1), ("phase", 8), ("phase", -1)])
    func aStateOutOfRangeIsRefusedNamingTheFile(field: String, value: Int) throws {
        let run = try stoppedRun()
        defer { try? FileManager.default.removeItem(atPath: run.path) }
        for path in [lastPath(run), stepPath(run, 1), stepPath(run, 2)] { try setState(path, field, value) }
        let error = resumeError(run)
        #expect(error?.description.contains("\n  \(lastPath(run)): the training state ") == true, "\(String(describing: error))")
    }

    @Test func aStateOutOfRangeInLastIsPassedOverForTheNewestStepFile() throws {
        let run = try stoppedRun()
        defer { try? FileManager.default.removeItem(atPath: run.path) }
        // Written atomically, `last` becomes a file of its own: step-2 stays whole.
        try setState(lastPath(run), "phase", 8)
        var log: [String] = []
        let trainer = try Trainer.resume(run: run, log: { log.append($0) })
        #expect(trainer.state.globalStep == 2)
        #expect(log.contains { $0.hasPrefix("\(lastPath(run)): the training state is in phase 8") && $0.hasSuffix(": passed over") }, "\(log)")
        #expect(log.contains { $0.hasPrefix("resuming \(run.path) at step 2 from \(stepPath(run, 2)) ") }, "\(log)")
    }

    @Test func aFinishedRunsCheckpointOnePastItsLastPhaseStillResumes() throws {
        let run = temporaryRun("checkpoint")
        defer { try? FileManager.default.removeItem(atPath: run.path) }
        _ = try Trainer(config: try tinyConfig(), run: run, log: { _ in }).train()
        let trainer = try Trainer.resume(run: run, log: { _ in })
        #expect(trainer.state.phase == trainer.setup.plan.phases.count)
        #expect(try trainer.train().steps == 6)
    }
}

import Foundation
import Testing
import Torch
@testable import Blockwise

/// A checkpoint that reads whole but holds what no run of its configuration writes (a tensor
/// relabelled to another dtype, a state out of range) is refused on resume, naming the file.
@Suite(.serialized) struct CheckpointValidationTests {
    /// A run stopped after 2 of its 6 steps, with a checkpoint at each; the caller removes it.
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

    func resumeError(_ run: RunDirectory) -> RunError? {
        #expect(throws: RunError.self) { try Trainer.resume(run: run, log: { _ in }) }
    }

    @Test func aTensorRelabelledToAnotherDTypeIsRefusedNamingTheFileAndTheTensor() throws {
        let run = try stoppedRun()
        defer { try? FileManager.default.removeItem(atPath: run.path) }
        // The header says I32 where F32 was written: same size, so the file still reads whole.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: lastPath(run)))
        let entry = try #require(bytes.range(of: Data("\"model.backbone.conv1.weight\":{\"dtype\":\"F32\"".utf8)))
        bytes[entry.upperBound - 4] = UInt8(ascii: "I")
        try bytes.write(to: URL(fileURLWithPath: lastPath(run)))
        let error = resumeError(run)
        #expect(error?.description == "\(lastPath(run)): model.backbone.conv1.weight is stored as int32, the model holds it as float32")
    }

    @Test(arguments: [("globalStep", -5), ("phaseStep", -1), ("phase", 8), ("phase", -1)])
    func aStateOutOfRangeIsRefusedNamingTheFile(field: String, value: Int) throws {
        let run = try stoppedRun()
        defer { try? FileManager.default.removeItem(atPath: run.path) }
        let file = try SafeTensors.read(contentsOf: lastPath(run))
        var state = try #require(try JSONSerialization.jsonObject(with: Data(file.metadata["state"]!.utf8)) as? [String: Any])
        state[field] = value
        var metadata = file.metadata
        metadata["state"] = String(decoding: try JSONSerialization.data(withJSONObject: state), as: UTF8.self)
        try SafeTensors.write(file.tensors, metadata: metadata, to: lastPath(run))
        let error = resumeError(run)
        #expect(error?.description.hasPrefix("\(lastPath(run)): the training state ") == true, "\(String(describing: error))")
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

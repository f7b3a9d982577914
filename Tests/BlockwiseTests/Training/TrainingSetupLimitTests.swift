import Foundation
import Testing
import Torch
@testable import Blockwise

/// Settings that the schema's bounds let through but no run can train with are refused by
/// `TrainingSetup`, naming the key, before a run directory exists.
@Suite struct TrainingSetupLimitTests {
    func refusal(_ overrides: [String]) throws -> (error: RunError?, runExists: Bool) {
        let run = temporaryRun("limits")
        defer { try? FileManager.default.removeItem(atPath: run.path) }
        let config = try tinyConfig(overrides)
        let error = #expect(throws: RunError.self) { try Trainer(config: config, run: run, log: { _ in }) }
        return (error, FileManager.default.fileExists(atPath: run.path))
    }

    @Test(arguments: ["optimizer.lr_weights", "optimizer.lr_biases"])
    func aLearningRateThatOverflowsFloat32OnceScaledIsRefusedNamingTheKey(key: String) throws {
        let (error, runExists) = try refusal(["\(key)=1e308"])
        #expect(error?.description == "\(key) 1e+308 scaled by data.batch_size/256 (0.125) overflows float32, in which libtorch applies it")
        #expect(!runExists)
    }

    @Test func aLearningRateThatOverflowsOnlyOnceScaledUpIsRefusedToo() throws {
        let (error, runExists) = try refusal(["data.dataset=synthetic:shapes?count=600&size=16", "data.batch_size=512",
                                              "optimizer.lr_weights=3e38"])
        #expect(error?.description.hasPrefix("optimizer.lr_weights 3e+38 scaled by data.batch_size/256 (2.0) overflows") == true)
        #expect(!runExists)
    }

    @Test func anAbsurdProjectorIsRefusedNamingTheKeyBeforeAllocating() throws {
        let (error, runExists) = try refusal(["model.projector=100000-100000"])
        #expect(error?.description.hasPrefix("model.projector 100000-100000 ") == true, "\(error?.description ?? "")")
        #expect(error?.description.contains("more than the 2^32") == true)
        #expect(!runExists)
    }

    @Test func thePapersProjectorsOnResNet50PassTheBoundComfortably() {
        let head = BlockwiseNetwork.HeadSpec(kind: .convExpansion, dimension: 2048, projector: [8192, 8192, 8192])
        let weights = TrainingSetup.headWeights(head, channels: [256, 512, 1024, 2048])
        #expect(abs(weights - 611_844_096) < 1)
        #expect(weights * 7 < Double(TrainingSetup.maximumHeadWeights))
    }
}

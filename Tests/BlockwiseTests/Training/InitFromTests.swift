import Foundation
import Testing
import Torch
@testable import Blockwise

/// `training.init_from`: a run that starts with some blocks taken from another run.
@Suite(.serialized) struct InitFromTests {
    /// Writes a backbone file for `config` whose every tensor, BN buffers included, is drawn
    /// afresh (so a loaded tensor can only come from it), leaving out `dropping`.
    @discardableResult
    func writeSource(_ path: String, config: Config, dropping: Set<String> = []) throws -> [String: Tensor] {
        let generator = Generator(seed: 99)
        let tensors = ResNet(config.model, generator: generator).orderedStateDict()
            .filter { !dropping.contains($0.name) }
            .map { entry -> (String, Tensor) in
                let t = entry.tensor
                return (entry.name, t.dtype == .float32 ? Tensor.rand(t.shape, generator: generator) + 0.5 : t + 7)
            }
        try SafeTensors.write(tensors, to: path)
        return Dictionary(uniqueKeysWithValues: tensors)
    }

    /// Checks that the stages in `loaded` hold the source's tensors and every other stage its
    /// random initialisation.
    func expectLoaded(_ setup: TrainingSetup, stages loaded: Set<Int>, source: [String: Tensor],
                      random: TrainingSetup, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let weights = setup.network.backbone.stateDict(), initial = random.network.backbone.stateDict()
        #expect(weights.keys.contains("conv1.weight") && weights.keys.contains("layer1.0.bn1.running_mean"),
                sourceLocation: sourceLocation)
        for (name, tensor) in weights {
            let stage = try #require(ResNet.stage(ofParameter: name), sourceLocation: sourceLocation)
            let expected = loaded.contains(stage) ? source[name]! : initial[name]!
            #expect(tensor.equal(expected), "\(name) (stage \(stage)) should be \(loaded.contains(stage) ? "loaded" : "random")",
                    sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: [false, true])
    func blockOneLoadsWithItsStemAndTheOtherBlocksKeepTheirRandomInit(fromRunDirectory: Bool) throws {
        let folder = TemporaryFolder()
        defer { withExtendedLifetime(folder) {} }
        folder.makeFolder("source")
        let source = try writeSource(folder.path + "/source/backbone.safetensors", config: try tinyConfig())
        let from = folder.path + (fromRunDirectory ? "/source" : "/source/backbone.safetensors")
        let setup = try TrainingSetup(config: try tinyConfig(["training.init_from=\(from)"]))
        #expect(setup.loadedBlocks == [0])
        try setup.loadInitialBlocks()
        try expectLoaded(setup, stages: [1], source: source, random: try TrainingSetup(config: try tinyConfig()))
    }

    @Test func theFirstTwoBlocksOfAThreeBlockPartitionLoadTheirThreeStages() throws {
        let folder = TemporaryFolder()
        defer { withExtendedLifetime(folder) {} }
        let path = folder.path + "/backbone.safetensors"
        let source = try writeSource(path, config: try tinyConfig())
        let partition = "model.partition=1+2,3,4"
        let setup = try TrainingSetup(config: try tinyConfig([partition, "training.init_from=\(path)", "training.init_blocks=1,2"]))
        try setup.loadInitialBlocks()
        try expectLoaded(setup, stages: [1, 2, 3], source: source, random: try TrainingSetup(config: try tinyConfig([partition])))
        #expect(setup.plan.phases.map(\.trainedBlocks) == [[2]])
    }

    func trainedBackbone(_ overrides: [String]) throws -> (source: [String: Tensor], trained: [String: Tensor]) {
        let folder = TemporaryFolder()
        defer { withExtendedLifetime(folder) {} }
        let path = folder.path + "/backbone.safetensors"
        let source = try writeSource(path, config: try tinyConfig())
        let run = temporaryRun("init-from")
        defer { try? FileManager.default.removeItem(atPath: run.path) }
        _ = try Trainer(config: try tinyConfig(["training.init_from=\(path)", "training.epochs=1"] + overrides), run: run,
                        log: { _ in }).train()
        return (source, try SafeTensors.read(contentsOf: run.backbonePath).tensors)
    }

    @Test func frozenLoadedBlocksStayBitwiseUnchangedThroughTraining() throws {
        let (source, trained) = try trainedBackbone(["training.init_frozen=true"])
        let firstBlock = trained.keys.filter { ResNet.stage(ofParameter: $0) == 1 }
        #expect(firstBlock.contains("bn1.running_var") && firstBlock.contains("layer1.1.bn2.running_mean"))
        for name in firstBlock { #expect(trained[name]!.equal(source[name]!), "\(name) changed") }
        // The blocks above did train.
        let initial = try TrainingSetup(config: try tinyConfig()).network.backbone.stateDict()
        #expect(!trained["layer4.0.conv1.weight"]!.equal(initial["layer4.0.conv1.weight"]!))
    }

    @Test func unfrozenLoadedBlocksTrainOn() throws {
        let (source, trained) = try trainedBackbone(["training.init_frozen=false"])
        for name in ["conv1.weight", "bn1.running_mean", "layer1.0.conv1.weight", "layer1.0.bn1.running_var"] {
            #expect(!trained[name]!.equal(source[name]!), "\(name) did not train")
        }
    }

    @Test(arguments: [("conv1.weight", "1", 1), ("layer2.0.conv1.weight", "1,2", 2)])
    func aSourceMissingABlocksTensorsIsAnErrorNamingTheFileAndTheBlock(missing: String, blocks: String, block: Int) throws {
        let folder = TemporaryFolder()
        defer { withExtendedLifetime(folder) {} }
        let path = folder.path + "/partial.safetensors"
        try writeSource(path, config: try tinyConfig(), dropping: [missing])
        let run = temporaryRun("init-missing")
        let config = try tinyConfig(["training.init_from=\(path)", "training.init_blocks=\(blocks)"])
        let error = #expect(throws: RunError.self) { try Trainer(config: config, run: run, log: { _ in }) }
        let message = error?.description ?? ""
        #expect(message.hasPrefix(path), "\(message)")
        #expect(message.contains("block \(block) is incomplete") && message.contains(missing), "\(message)")
        #expect(!FileManager.default.fileExists(atPath: run.path))
    }

    @Test func aSourceOfAnotherWidthIsAnErrorNamingTheFileTheBlockAndAShape() throws {
        let folder = TemporaryFolder()
        defer { withExtendedLifetime(folder) {} }
        let path = folder.path + "/wider.safetensors"
        try writeSource(path, config: try tinyConfig(["model.width=0.125"]))
        let setup = try TrainingSetup(config: try tinyConfig(["training.init_from=\(path)"]))
        let error = #expect(throws: RunError.self) { try setup.loadInitialBlocks() }
        let message = error?.description ?? ""
        #expect(message.hasPrefix("\(path): block 1 does not fit this run's model: "), "\(message)")
        #expect(message.contains("conv1.weight has shape [8, 3, 3, 3], the model's [4, 3, 3, 3]"), "\(message)")
        // Blocks 2 to 4 were not asked for: they are not reported.
        #expect(!message.contains("layer2"), "\(message)")
    }

    @Test func aSourceMissingOnlyOtherBlocksLoads() throws {
        let folder = TemporaryFolder()
        defer { withExtendedLifetime(folder) {} }
        let path = folder.path + "/partial.safetensors"
        let source = try writeSource(path, config: try tinyConfig(), dropping: ["layer3.0.conv1.weight"])
        let setup = try TrainingSetup(config: try tinyConfig(["training.init_from=\(path)", "training.init_blocks=1,2"]))
        try setup.loadInitialBlocks()
        try expectLoaded(setup, stages: [1, 2], source: source, random: try TrainingSetup(config: try tinyConfig()))
    }

    @Test func initBlocksBeyondThePartitionAreRejectedNamingTheKey() throws {
        let config = try tinyConfig(["model.partition=1+2,3+4", "training.init_from=unused.safetensors",
                                     "training.init_blocks=1,3"])
        let error = #expect(throws: RunError.self) { try TrainingSetup(config: config) }
        #expect(error?.description == "training.init_blocks: block 3 does not exist; the partition has 2 blocks")
    }

    @Test func aResumedRunDoesNotReadTheSourceAgain() throws {
        let folder = TemporaryFolder()
        defer { withExtendedLifetime(folder) {} }
        let path = folder.path + "/backbone.safetensors"
        try writeSource(path, config: try tinyConfig())
        let run = temporaryRun("init-resume")
        defer { try? FileManager.default.removeItem(atPath: run.path) }
        let config = try tinyConfig(["training.init_from=\(path)", "training.init_frozen=false"])
        var calls = 0
        let stopped = try Trainer(config: config, run: run, log: { _ in }).train { calls += 1; return calls == 2 }
        #expect(stopped.stoppedEarly && stopped.steps == 1)
        try FileManager.default.removeItem(atPath: path)
        let resumed = try Trainer.resume(run: run, log: { _ in }).train()
        #expect(!resumed.stoppedEarly && resumed.steps == 6)
    }
}

import Foundation
import Testing
import Torch
@testable import Blockwise

/// `data.adaptive_augmentation`: each block trains on the views of its own recipe (App. A).
@Suite struct AdaptiveAugmentationTrainingTests {
    func recipes(_ setup: TrainingSetup) -> [TwoViewAugmentation] {
        let normalization = TwoViewAugmentation.barlowTwins(for: setup.dataset, side: 16).normalization
        return BlockAugmentations.paperAppendixA(side: 16, normalization: normalization).perBlock
    }

    @Test func eachSequentialPhaseUsesTheRecipeOfTheBlockItTrains() throws {
        let setup = try TrainingSetup(config: try tinyConfig(["training.mode=sequential", "data.adaptive_augmentation=true"]))
        let recipes = recipes(setup)
        #expect(Set(recipes).count == 3)
        #expect(setup.plan.phases.indices.map { setup.augmentation(phase: $0) } == recipes)
    }

    @Test func withoutAdaptiveAugmentationEveryPhaseUsesTheSameViews() throws {
        let setup = try TrainingSetup(config: try tinyConfig(["training.mode=sequential"]))
        let views = setup.plan.phases.indices.map { setup.augmentation(phase: $0) }
        #expect(views == Array(repeating: TwoViewAugmentation.barlowTwins(for: setup.dataset, side: 16), count: 4))
    }

    @Test func aPhaseFollowsTheBlockItTrainsNotItsPosition() throws {
        // Block 1 is loaded and frozen: the first phase trains block 2 and gets block 2's views.
        // (The source is never read: only the set-up is built.)
        let setup = try TrainingSetup(config: try tinyConfig(["training.mode=sequential", "data.adaptive_augmentation=true",
                                                              "training.init_from=unused.safetensors"]))
        #expect(setup.plan.phases.map(\.trainedBlocks) == [[1], [2], [3]])
        #expect(setup.plan.phases.indices.map { setup.augmentation(phase: $0) } == Array(recipes(setup).dropFirst()))
    }

    @Test(arguments: ["simultaneous", "end-to-end", "supervised-blockwise", "supervised-end-to-end", "random-frozen"])
    func anyOtherModeIsRejectedNamingTheKeyBeforeARunDirectoryExists(mode: String) throws {
        let run = temporaryRun("adaptive")
        defer { try? FileManager.default.removeItem(atPath: run.path) }
        var overrides = ["training.mode=\(mode)", "data.adaptive_augmentation=true"]
        if mode.hasPrefix("supervised") { overrides.append("model.projector=") }
        let config = try tinyConfig(overrides)
        let error = #expect(throws: RunError.self) { try Trainer(config: config, run: run, log: { _ in }) }
        #expect(error?.description.hasPrefix("data.adaptive_augmentation") == true, "\(error?.description ?? "")")
        #expect(error?.description.contains("training.mode sequential") == true)
        #expect(!FileManager.default.fileExists(atPath: run.path))
    }
}

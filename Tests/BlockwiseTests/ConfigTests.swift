import Foundation
import Testing
import Torch
@testable import Blockwise

@Suite struct ConfigTests {
    @Test func defaultsAreThePapersMethodAtLaptopSize() {
        let config = Config()
        #expect(config.training.mode == .simultaneous)
        #expect(config.objective.lambda == .all(0.0051))
        #expect(config.model.head == .convExpansion && config.model.partition == .perStage)
        #expect(config.data.dataset == .defaultReal && config.run.device == .auto)
    }

    @Test func everyFieldOfEverySectionHasExactlyOneKey() throws {
        let defaults = Config()
        let fields = Mirror(reflecting: defaults).children.reduce(0) { $0 + Mirror(reflecting: $1.value).children.count }
        #expect(ConfigSchema.keys.count == fields)
        // Each key sets a field of its own: setting it changes its own text and no other key's.
        for key in ConfigSchema.keys {
            let alternative = try #require(Self.alternativeText(key), "no other value for \(key.path)")
            var config = defaults
            try config.set("\(key.path)=\(alternative)")
            let changed = ConfigSchema.keys.filter { $0.text(config) != $0.text(defaults) }.map(\.path)
            #expect(changed == [key.path], "setting \(key.path) changed \(changed)")
        }
    }

    /// A valid value of `key` other than its default.
    static func alternativeText(_ key: ConfigKey) -> String? {
        if let choice = key.choices.map(\.name).first(where: { $0 != key.defaultText }) { return choice }
        for candidate in ["3", "16", "0.5", "0.25", "true", "false", "[1, 2]", "1+2,3,4", "8-8", "cpu", "synthetic:shapes", "x"]
            where candidate != key.defaultText {
            var config = Config()
            if (try? config.set("\(key.path)=\(candidate)")) != nil { return candidate }
        }
        return nil
    }

    @Test func yamlOverridesDefaultsIntoTypedFields() throws {
        let config = try Config(yaml: """
            model:
              arch: resnet50
              width: 0.5
              noise: independent
              projector: 64-32
            objective:
              lambda: [0.01, 0.02, 0.03, 0.0051]
            training:
              init_blocks: [1, 2]
            """)
        #expect(config.model.architecture == .resnet50)
        #expect(config.model.width == 0.5)
        #expect(config.model.noise == .independent)
        #expect(config.model.projector == [64, 32])
        #expect(try config.objective.lambda.values(blocks: 4, key: "objective.lambda") == [0.01, 0.02, 0.03, 0.0051])
        #expect(config.training.initBlocks == [1, 2])
        #expect(config.data.dataset == .defaultReal)
    }

    @Test func unknownKeyNamesThePathTheLineAndTheNearestValidKey() {
        let error = #expect(throws: ConfigError.self) {
            try Config(yaml: "model:\n  arch: resnet18\n  projecter: 64-64\n", source: "demo.yaml")
        }
        #expect(error?.description == "demo.yaml:3: unknown key \"model.projecter\"; did you mean \"model.projector\"?")
    }

    @Test func badValueSaysWhatIsExpected() {
        let error = #expect(throws: ConfigError.self) { try Config(yaml: "training:\n  mode: simultanous\n", source: "a.yaml") }
        #expect(error?.message.contains("training.mode: expected one of end-to-end, simultaneous") == true)
        #expect(error?.message.hasSuffix("got \"simultanous\"") == true)
        #expect(throws: ConfigError.self) { try Config(yaml: "data:\n  batch_size: -3\n") }
        #expect(throws: ConfigError.self) { try Config(yaml: "model:\n  width: wide\n") }
        #expect(throws: ConfigError.self) { try Config(yaml: "model:\n  noise: loud\n") }
    }

    @Test func aValueThatNeedsReadingSaysWhyItCannot() {
        let partition = #expect(throws: ConfigError.self) { try Config(yaml: "model:\n  partition: 1+3,2,4\n", source: "p.yaml") }
        #expect(partition?.description.hasPrefix("p.yaml:2: model.partition: expected stage numbers") == true)
        #expect(partition?.message.contains("in order") == true)
        let dataset = #expect(throws: ConfigError.self) { try Config(yaml: "data:\n  dataset: imagenette\n") }
        #expect(dataset?.message.contains("data.dataset") == true)
        let projector = #expect(throws: ConfigError.self) { try Config(yaml: "model:\n  projector: 64--8\n") }
        #expect(projector?.message.contains("model.projector") == true)
        #expect(throws: ConfigError.self) { try Config(yaml: "model:\n  projector: 64-x\n") }
        let blocks = #expect(throws: ConfigError.self) { try Config(yaml: "training:\n  init_blocks: [1, 1]\n") }
        #expect(blocks?.message.contains("names a block twice") == true)
    }

    @Test func countsFromTheConfigurationAreBounded() {
        #expect(throws: ConfigError.self) { try Config(yaml: "training:\n  epochs: 1152921504606846976\n") }
        #expect(throws: ConfigError.self) { try Config(yaml: "run:\n  threads: 10000\n") }
        #expect(throws: ConfigError.self) { try Config(yaml: "data:\n  image_size: 100000\n") }
    }

    @Test func aScalarWhereASectionBelongsIsRejected() {
        let error = #expect(throws: ConfigError.self) { try Config(yaml: "model: resnet18\n") }
        #expect(error?.message.contains("model: expected a mapping") == true)
    }

    @Test func setOverridesOneKeyAndChecksIt() throws {
        var config = Config()
        try config.set("optimizer.lr_weights=0.3")
        try config.set("training.init_blocks=[1,2]")
        try config.set("run.device=cpu")
        #expect(config.optimizer.lrWeights == 0.3)
        #expect(config.training.initBlocks == [1, 2])
        #expect(config.run.device == .cpu)
        let unknown = #expect(throws: ConfigError.self) { try config.set("optimiser.lr_weights=0.3") }
        #expect(unknown?.message.contains("did you mean \"optimizer.lr_weights\"") == true)
        #expect(throws: ConfigError.self) { try config.set("run.seed=-1") }
        #expect(throws: ConfigError.self) { try config.set("run.seed") }
    }

    @Test func blockListsReadTheSameInYAMLAndOnTheCommandLine() throws {
        var config = Config()
        try config.set("training.init_blocks=1,2")
        let fromList = try Config(yaml: "training:\n  init_blocks: [1, 2]\n")
        let fromText = try Config(yaml: "training:\n  init_blocks: 1,2\n")
        #expect(config.training.initBlocks == [1, 2] && fromList == config && fromText == config)
        #expect(try BlockList.parse("1,2,3,4") == [1, 2, 3, 4])
        #expect(try BlockList.parse("[2, 4]") == [2, 4])
        #expect(throws: BlockListError.self) { try BlockList.parse("0,1") }
        #expect(throws: BlockListError.self) { try BlockList.parse("1,,2") }
    }

    @Test func renamedKeysStillRead() throws {
        let old = try Config(yaml: "optimizer:\n  schedule: constant\n  warmup_epochs: 3\n  final_lr_factor: 0.01\n")
        #expect(old.schedule.name == .constant && old.schedule.warmupEpochs == 3 && old.schedule.finalLRFactor == 0.01)
        var set = Config()
        try set.set("optimizer.schedule=step")
        #expect(set.schedule.name == .step)
    }

    @Test func resolvedYAMLReadsBackToTheSameConfiguration() throws {
        var config = Config()
        try config.set("data.dataset=folder:/data/my images/train")
        try config.set("objective.invariance_target=[0.6, 0.75, 0.9, 1.0]")
        try config.set("training.init_from=runs/e2e")
        try config.set("model.partition=1+2,3,4")
        try config.set("model.projector=")
        try config.set("model.noise=scaled-by-std")
        try config.set("run.device=cuda:1")
        try config.set("run.name=true")
        let again = try Config(yaml: config.yaml())
        #expect(again == config)
        #expect(try Config(yaml: Config().yaml()) == Config())
    }

    @Test func perBlockListMustHaveOneValuePerBlock() throws {
        let config = try Config(yaml: "objective:\n  lambda: [0.1, 0.2]\n")
        let error = #expect(throws: ConfigError.self) { try config.objective.lambda.values(blocks: 4, key: "objective.lambda") }
        #expect(error?.description == "objective.lambda: has 2 values but the partition has 4 blocks")
    }

    @Test func choiceListsAndTheirMeaningsComeFromTheTypes() throws {
        let mode = try #require(ConfigSchema.byPath["training.mode"])
        #expect(mode.choices.map(\.name) == TrainingMode.allCases.map(\.rawValue))
        #expect(mode.choices.allSatisfy { !$0.summary.isEmpty })
        let noise = try #require(ConfigSchema.byPath["model.noise"])
        #expect(noise.choices.map(\.name) == ["none"] + NoiseInjection.Kind.allCases.map(\.rawValue))
        #expect(ConfigSchema.byPath["model.arch"]?.choices.map(\.name) == ["resnet18", "resnet34", "resnet50"])
    }
}

@Suite struct ShippedConfigTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../configs")

    static var files: [String] {
        let enumerator = FileManager.default.enumerator(atPath: root.path)
        return (enumerator?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".yaml") && !$0.hasPrefix("sweeps/") }.sorted()
    }

    /// Sweep files (`blockwise sweep`) are read as sweeps: every variant's configuration is checked.
    @Test func everyShippedSweepIsValid() throws {
        let sweeps = (FileManager.default.enumerator(atPath: Self.root.path + "/sweeps")?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".yaml") }
        #expect(!sweeps.isEmpty)
        for file in sweeps { _ = try SweepPlan(contentsOf: Self.root.appendingPathComponent("sweeps/" + file).path) }
    }

    @Test func everyModeHasAFashionMNISTConfig() {
        for mode in TrainingMode.allCases { #expect(Self.files.contains("fashion-mnist/\(mode.rawValue).yaml")) }
        #expect(Self.files.contains("demo.yaml"))
        #expect(Self.files.contains("bench/resnet18-small-bt.yaml"))
    }

    @Test func everyShippedConfigIsValid() throws {
        for file in Self.files {
            let config = try Config(contentsOf: Self.root.appendingPathComponent(file).path)
            _ = try TrainingPlan(mode: config.training.mode, blocks: config.trainingPartition.count)
        }
    }

    @Test func thePaperConfigHoldsThePapersSettings() throws {
        let c = try Config(contentsOf: Self.root.appendingPathComponent("imagenet/paper-simultaneous.yaml").path)
        #expect(c.data.batchSize == 2048)
        #expect(c.optimizer.lrWeights == 0.2)
        #expect(c.optimizer.lrBiases == 0.0048)
        #expect(c.training.epochs == 300)
        #expect(c.schedule.warmupEpochs == 10)
        #expect(c.model.projector == [8192, 8192, 8192])
        #expect(c.model.head == .convExpansion && c.model.headKernel == 1)
        #expect(c.model.noiseSigma == 0.25 && c.model.noise == .independent)
    }
}


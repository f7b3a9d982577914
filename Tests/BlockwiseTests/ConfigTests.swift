import Testing
@testable import Blockwise

@Suite struct ConfigTests {
    @Test func defaultsCoverEveryDocumentedKey() {
        let config = Config()
        #expect(config.values.count == ConfigSchema.keys.count)
        #expect(config.string("training.mode") == "simultaneous")
        #expect(config.double("objective.lambda") == 0.0051)
    }

    @Test func yamlOverridesDefaults() throws {
        let config = try Config(yaml: """
            model:
              arch: resnet50
              width: 0.5
            objective:
              lambda: [0.01, 0.02, 0.03, 0.0051]
            training:
              init_blocks: [1, 2]
            """)
        #expect(config.string("model.arch") == "resnet50")
        #expect(config.double("model.width") == 0.5)
        #expect(try config.perBlock("objective.lambda", blocks: 4) == [0.01, 0.02, 0.03, 0.0051])
        #expect(config.ints("training.init_blocks") == [1, 2])
        #expect(config.string("data.dataset") == "fashion-mnist")
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
    }

    @Test func aScalarWhereASectionBelongsIsRejected() {
        let error = #expect(throws: ConfigError.self) { try Config(yaml: "model: resnet18\n") }
        #expect(error?.message.contains("model: expected a mapping") == true)
    }

    @Test func setOverridesOneKeyAndChecksIt() throws {
        var config = Config()
        try config.set("optimizer.lr_weights=0.3")
        try config.set("training.init_blocks=[1,2]")
        #expect(config.double("optimizer.lr_weights") == 0.3)
        #expect(config.ints("training.init_blocks") == [1, 2])
        let unknown = #expect(throws: ConfigError.self) { try config.set("optimiser.lr_weights=0.3") }
        #expect(unknown?.message.contains("did you mean \"optimizer.lr_weights\"") == true)
        #expect(throws: ConfigError.self) { try config.set("run.seed=-1") }
        #expect(throws: ConfigError.self) { try config.set("run.seed") }
    }

    @Test func resolvedYAMLReadsBackToTheSameConfiguration() throws {
        var config = Config()
        try config.set("data.dataset=folder:/data/my images/train")
        try config.set("objective.invariance_target=[0.6, 0.75, 0.9, 1.0]")
        try config.set("training.init_from=")
        let again = try Config(yaml: config.yaml())
        #expect(again == config)
    }

    @Test func perBlockListMustHaveOneValuePerBlock() throws {
        let config = try Config(yaml: "objective:\n  lambda: [0.1, 0.2]\n")
        #expect(throws: ConfigError.self) { try config.perBlock("objective.lambda", blocks: 4) }
    }
}

@Suite struct ShippedConfigTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../configs")

    static var files: [String] {
        let enumerator = FileManager.default.enumerator(atPath: root.path)
        return (enumerator?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".yaml") }.sorted()
    }

    @Test func everyModeHasAFashionMNISTConfig() {
        for mode in TrainingMode.allCases { #expect(Self.files.contains("fashion-mnist/\(mode.rawValue).yaml")) }
        #expect(Self.files.contains("demo.yaml"))
        #expect(Self.files.contains("bench/resnet18-small-bt.yaml"))
    }

    @Test func everyShippedConfigIsValid() throws {
        for file in Self.files {
            let config = try Config(contentsOf: Self.root.appendingPathComponent(file).path)
            _ = try ModelFactory.partition(config)
            #expect(config.string("training.mode") != "", "\(file)")
        }
    }

    @Test func thePaperConfigHoldsThePapersSettings() throws {
        let c = try Config(contentsOf: Self.root.appendingPathComponent("imagenet/paper-simultaneous.yaml").path)
        #expect(c.int("data.batch_size") == 2048)
        #expect(c.double("optimizer.lr_weights") == 0.2)
        #expect(c.double("optimizer.lr_biases") == 0.0048)
        #expect(c.int("training.epochs") == 300)
        #expect(c.double("optimizer.warmup_epochs") == 10)
        #expect(c.string("model.projector") == "8192-8192-8192")
        #expect(c.string("model.head") == "cbe" && c.int("model.head_kernel") == 1)
        #expect(c.double("model.noise_sigma") == 0.25 && c.string("model.noise") == "independent")
    }
}

import Foundation

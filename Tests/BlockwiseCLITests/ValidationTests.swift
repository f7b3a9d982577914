import ArgumentParser
import Testing
@testable import BlockwiseCLI

/// The message a command's parsing and `validate()` give for `arguments`; nil when they pass.
func rejection<Command: ParsableArguments>(_ command: Command.Type, _ arguments: [String]) -> String? {
    do {
        _ = try command.parse(arguments)
        return nil
    } catch {
        return command.message(for: error)
    }
}

/// Each command's `validate()`: what it rejects, with a message naming the option, and what it lets through.
@Suite struct ValidationTests {
    @Test func pretrainResumeTakesNoConfigOverridesOrOut() {
        #expect(rejection(Pretrain.self, ["--resume", "r"]) == nil)
        // How the processes share the work may change; what they compute may not.
        #expect(rejection(Pretrain.self, ["--resume", "r", "--set", "distributed.strategy=blocks"]) == nil)
        #expect(rejection(Pretrain.self, ["configs/demo.yaml", "--set", "training.epochs=1", "--out", "x"]) == nil)
        for extra in [["--out", "x"], ["configs/demo.yaml"], ["--set", "training.epochs=1"]] {
            let message = rejection(Pretrain.self, ["--resume", "r"] + extra)
            #expect(message?.contains("--resume continues a run with its own config.yaml") == true, "\(extra): \(message ?? "accepted")")
        }
    }

    @Test func benchNeedsExactlyOneThingToMeasure() {
        #expect(rejection(Bench.self, ["--ops"]) == nil)
        #expect(rejection(Bench.self, ["--data", "synthetic:shapes"]) == nil)
        #expect(rejection(Bench.self, ["--data", "synthetic:shapes", "--config", "c.yaml", "--set", "a=b"]) == nil)
        for arguments in [[], ["--ops", "--data", "synthetic:shapes"], ["--ops", "--config", "c.yaml"]] {
            #expect(rejection(Bench.self, arguments)?.contains("choose what to measure") == true, "\(arguments)")
        }
    }

    @Test func benchSetNeedsAConfig() {
        let message = rejection(Bench.self, ["--data", "synthetic:shapes", "--set", "a=b"])
        #expect(message?.contains("--set overrides keys of --config FILE") == true, "\(message ?? "accepted")")
    }

    @Test(arguments: ["--steps", "--iterations"])
    func benchCountsMustBePositive(option: String) {
        #expect(rejection(Bench.self, ["--ops", option, "0"])?.contains("--steps and --iterations must be positive") == true)
    }

    @Test func probeAcceptsItsDefaults() {
        #expect(rejection(ProbeCommand.self, ["--run", "r"]) == nil)
        #expect(rejection(ProbeCommand.self, ["--run", "r", "--blocks", "2,4", "--method", "knn", "--k", "5"]) == nil)
    }

    @Test(arguments: ["1,5", "1,1", "0", "1,x", ""])
    func probeRejectsBadBlocksNamingTheOption(blocks: String) {
        let message = rejection(ProbeCommand.self, ["--run", "r", "--blocks", blocks])
        #expect(message?.contains("--blocks") == true, "\(blocks): \(message ?? "accepted")")
    }

    @Test(arguments: [("--epochs", "0"), ("--k", "0")])
    func probeCountsMustBePositive(option: String, value: String) {
        let message = rejection(ProbeCommand.self, ["--run", "r", option, value])
        #expect(message?.contains("\(option) must be positive, got \(value)") == true, "\(message ?? "accepted")")
    }

    @Test func featuresTakeOneOfTheFourBlocks() {
        #expect(rejection(Features.self, ["--run", "r", "--block", "4", "--out", "f.safetensors"]) == nil)
        for block in ["0", "9"] {
            let message = rejection(Features.self, ["--run", "r", "--block", block, "--out", "f.safetensors"])
            #expect(message?.contains("--block") == true, "\(block): \(message ?? "accepted")")
        }
    }

    @Test(arguments: ["1,5", "2,2", "0"])
    func analysesRejectBadBlocksNamingTheOption(blocks: String) {
        for command in [Analyze.Correlation.self, Analyze.Corruptions.self] as [any ParsableCommand.Type] {
            let message = rejection(command, ["--run", "r", "--blocks", blocks])
            #expect(message?.contains("--blocks") == true, "\(command) \(blocks): \(message ?? "accepted")")
        }
        #expect(rejection(Analyze.Correlation.self, ["--run", "r", "--blocks", "1,3"]) == nil)
    }

    @Test func correlationNeedsAtLeastTwoImages() {
        #expect(rejection(Analyze.Correlation.self, ["--run", "r", "--limit", "2"]) == nil)
        #expect(rejection(Analyze.Correlation.self, ["--run", "r", "--limit", "1"])?.contains("--limit must be at least 2, got 1") == true)
    }

    @Test func corruptionsAreNamedAndLimitsPositive() {
        #expect(rejection(Analyze.Corruptions.self, ["--run", "r", "--corruption", "gaussian_noise", "--test-limit", "3"]) == nil)
        let unknown = rejection(Analyze.Corruptions.self, ["--run", "r", "--corruption", "sunburn"])
        #expect(unknown?.contains("unknown corruption 'sunburn'") == true, "\(unknown ?? "accepted")")
        for option in ["--train-limit", "--test-limit"] {
            let message = rejection(Analyze.Corruptions.self, ["--run", "r", option, "0"])
            #expect(message?.contains("\(option) must be positive, got 0") == true, "\(message ?? "accepted")")
        }
    }

    @Test(arguments: [(["--device", "tpu"], "--device tpu"), (["--batch-size", "0"], "--batch-size must be positive"),
                      (["--threads", "0"], "--threads must be positive")])
    func evaluationOptionsAreCheckedForEveryEvaluatingCommand(arguments: [String], expected: String) {
        for (command, required) in [(ProbeCommand.self, []), (Features.self, ["--block", "1", "--out", "f.safetensors"]),
                                    (Analyze.Correlation.self, []), (Analyze.Corruptions.self, [])]
            as [(any ParsableCommand.Type, [String])] {
            let message = rejection(command, ["--run", "r"] + required + arguments)
            #expect(message?.contains(expected) == true, "\(command): \(message ?? "accepted")")
        }
        #expect(rejection(ProbeCommand.self, ["--run", "r", "--device", "cuda:1", "--batch-size", "8", "--threads", "2"]) == nil)
    }

    @Test func reportNeedsARun() {
        #expect(rejection(Report.self, [])?.contains("name at least one run: --run RUN") == true)
        #expect(rejection(Report.self, ["--run", "a", "--run", "b"]) == nil)
    }
}

import ArgumentParser
import Blockwise
import Foundation

struct Analyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Analyse a finished run's backbone block by block.",
        subcommands: [Correlation.self, Corruptions.self])

    /// The options of the analyses beyond those of every evaluation.
    struct AnalysisOptions: ParsableArguments {
        @Option(help: "Blocks to analyse, e.g. 1,2,3,4 (default: every block).")
        var blocks: String?

        @Option(help: "Dataset spec replacing the run's data.dataset, e.g. fashion-mnist or cifar10:/data/cifar.")
        var dataset: String?

        @Option(help: "Seed of the random views or corruptions.")
        var seed: UInt64 = 0

        func validate() throws {
            _ = try chosenBlocks()
        }

        /// The blocks named, or all four.
        func chosenBlocks() throws -> [Int] {
            try blocks.map { try parseBlocks($0, option: "--blocks") } ?? Array(FeatureExtractor.blockRange)
        }

        /// The dataset named, or nil for the run's.
        func data() throws -> DatasetSpec? { try dataset.map { try DatasetSpec(parsing: $0) } }
    }

    struct Correlation: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cross-correlation between two augmented views of each block's pooled output (Fig. 8); writes RUN/correlation.json.")

        @OptionGroup var options: EvaluationOptions
        @OptionGroup var analysis: AnalysisOptions

        @Option(help: "Use only the first N test images.")
        var limit: Int?

        func validate() throws {
            if let limit, limit < 2 { throw ValidationError("--limit must be at least 2, got \(limit)") }
        }

        func run() throws {
            let evaluation = try options.open()
            let result = try CorrelationAnalysis.run(evaluation, data: analysis.data(), blocks: try analysis.chosenBlocks(),
                                                     seed: analysis.seed, limit: limit)
            print("block   on-diagonal mean  median    off-diagonal mean  median")
            for block in result.blocks {
                print(String(format: "B%-6d %12.4f %9.4f %18.4f %9.4f", block.block, block.onDiagonal.mean,
                             block.onDiagonal.quantile(0.5) ?? .nan, block.offDiagonal.mean, block.offDiagonal.quantile(0.5) ?? .nan))
            }
            print("wrote \(evaluation.run.correlationPath)")
        }
    }

    struct Corruptions: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Error under ImageNet-C-style corruptions at 5 severities, per block (App. C); writes RUN/corruptions.json.")

        @OptionGroup var options: EvaluationOptions
        @OptionGroup var analysis: AnalysisOptions

        @Option(name: .customLong("corruption"),
                help: "A corruption to apply (repeatable; default: all): \(Corruption.allCases.map(\.rawValue).joined(separator: ", ")).")
        var corruptions: [String] = []

        @Option(help: "Fit the classifiers on the first N training images only.")
        var trainLimit: Int?

        @Option(help: "Evaluate on the first N test images only.")
        var testLimit: Int?

        func validate() throws {
            for name in corruptions where Corruption(rawValue: name) == nil {
                throw ValidationError("unknown corruption '\(name)'; expected one of \(Corruption.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            for (flag, value) in [("--train-limit", trainLimit), ("--test-limit", testLimit)] {
                if let value, value < 1 { throw ValidationError("\(flag) must be positive, got \(value)") }
            }
        }

        func run() throws {
            let evaluation = try options.open()
            let chosen = corruptions.isEmpty ? Corruption.allCases : corruptions.compactMap(Corruption.init(rawValue:))
            let robustness = RobustnessEvaluation(corruptions: chosen, seed: analysis.seed, trainLimit: trainLimit,
                                                  testLimit: testLimit)
            let result = try robustness.run(evaluation, data: analysis.data(), blocks: try analysis.chosenBlocks()) { print($0) }
            print("block   clean error   mean corruption error")
            for block in result.blocks {
                print(String(format: "B%-6d %11.4f %23.4f", block.block, block.cleanError, block.meanError))
            }
            print("wrote \(evaluation.run.corruptionsPath)")
        }
    }
}

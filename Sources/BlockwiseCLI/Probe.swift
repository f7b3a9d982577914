import ArgumentParser
import Blockwise

struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Evaluate a run's frozen backbone at each block with a linear probe or kNN; writes RUN/probe.json.")

    @OptionGroup var options: EvaluationOptions

    @Option(help: "Dataset spec (default: the run's data.dataset).")
    var data: String?

    @Option(help: "Blocks to probe, e.g. 1,2,3,4.")
    var blocks = "1,2,3,4"

    @Option(help: "linear (Barlow Twins' protocol) or knn (cosine similarity, temperature-weighted votes).")
    var method: Probe.Method = .linear

    @Option(help: "Epochs of the linear probe.")
    var epochs = 100

    @Option(help: "Neighbours of the kNN probe.")
    var k = 200

    @Flag(help: "Also probe all the blocks' features concatenated.")
    var concatenate = false

    @Option(help: "Split the probe is fitted on.")
    var trainSplit: DatasetSplit = .train

    @Option(help: "Split the probe is scored on.")
    var split: DatasetSplit = .test

    func validate() throws {
        _ = try parseBlocks(blocks, option: "--blocks")
        guard epochs > 0 else { throw ValidationError("--epochs must be positive, got \(epochs)") }
        guard k > 0 else { throw ValidationError("--k must be positive, got \(k)") }
    }

    func run() throws {
        let evaluation = try options.open()
        let dataset = try data.map { try DatasetSpec(parsing: $0) }
        let probe = Probe(method: method, blocks: try parseBlocks(blocks, option: "--blocks"), concatenate: concatenate,
                          linear: LinearProbe(epochs: epochs), knn: KNNClassifier(k: k, temperature: 0.07))
        let report = try probe.run(evaluation, data: dataset, trainSplit: trainSplit, testSplit: split)
        print(report.table)
        print("wrote \(evaluation.run.probePath)")
    }
}

import ArgumentParser
import Blockwise
import Foundation

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The main job: blockwise vs end-to-end vs random, probed at every block, on Fashion-MNIST.")

    @Option(help: "The demo's configuration.")
    var config = "configs/demo.yaml"

    @OptionGroup var overrides: ConfigOverrides

    @Option(help: "Folder of the demo's runs and report.")
    var out = "runs/demo"

    @Option(help: "Epochs of each linear probe.")
    var probeEpochs = 20

    func run() throws {
        try Doctor().run()
        print("")
        let base = try MainJob.withInstalledData(try Config(contentsOf: config)) { print($0) }
        let result = try MainJob(base: try overrides.apply(to: base), root: out, probeEpochs: probeEpochs)
            .run { print($0) }
        print("\nLinear-probe top-1 accuracy on the test split, per block:\n")
        print(result.table)
        print("\nreport: \(result.reportPath)")
    }
}

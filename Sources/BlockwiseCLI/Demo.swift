import ArgumentParser
import Blockwise
import Foundation

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The main job: blockwise vs end-to-end vs random, probed at every block, on Fashion-MNIST.")

    @Option(help: "The demo's configuration.")
    var config = "configs/demo.yaml"

    @Option(name: .customLong("set"), help: "Override one key: path=value (repeatable).")
    var overrides: [String] = []

    @Option(help: "Folder of the demo's runs and report.")
    var out = "runs/demo"

    @Option(help: "Epochs of each linear probe.")
    var probeEpochs = 20

    func run() throws {
        try Doctor().run()
        print("")
        var base = try Config(contentsOf: config)
        let fashion = DatasetPresence.scan().first { $0.name == "fashion-mnist" }
        if base.string("data.dataset").hasPrefix("fashion-mnist"), fashion?.installed != true {
            print("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist): using the synthetic shapes")
            try base.set("data.dataset=synthetic:shapes?size=28&count=12000")
        }
        for assignment in overrides { try base.set(assignment) }
        let result = try MainJob(base: base, root: out, probeEpochs: probeEpochs).run { print($0) }
        print("\nLinear-probe top-1 accuracy on the test split, per block:\n")
        print(result.table)
        print("\nreport: \(result.reportPath)")
    }
}

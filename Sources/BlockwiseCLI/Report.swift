import ArgumentParser
import Blockwise
import Foundation

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write one self-contained HTML page comparing runs (and, with --tensorboard, event files).")

    @Option(name: .customLong("run"), help: "A run directory (repeatable: the runs are compared on one page).")
    var runs: [String] = []

    @Option(help: "The page to write (default: RUN/report.html of the first run).")
    var out: String?

    @Flag(help: "Also write each run's scalars as TensorBoard event files under RUN/tensorboard.")
    var tensorboard = false

    func validate() throws {
        guard !runs.isEmpty else { throw ValidationError("name at least one run: --run RUN") }
    }

    func run() throws {
        let data = try runs.map { try RunReportData(run: RunDirectory($0)) }
        let path = out ?? data[0].run.reportPath
        try HTMLReport(runs: data).write(to: path)
        print("wrote \(path)")
        if tensorboard {
            for run in data { print("wrote \(try run.run.exportTensorBoard())") }
        }
    }
}

import ArgumentParser
import Blockwise
import Foundation

struct Pretrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pretrain a network in any of the paper's modes; resume an interrupted run.")

    @Argument(help: "A YAML configuration (see `blockwise config keys`); defaults only when left out.")
    var config: String?

    @Option(name: .customLong("set"), help: "Override one key: path=value (repeatable).")
    var overrides: [String] = []

    @Option(help: "The run directory (default: runs/<run.name>).")
    var out: String?

    @Option(help: "Continue the run in this directory from its last checkpoint.")
    var resume: String?

    func validate() throws {
        if resume != nil, config != nil || !overrides.isEmpty || out != nil {
            throw ValidationError("--resume continues a run with its own config.yaml: give no config, --set or --out with it")
        }
    }

    func run() throws {
        var resolved = try config.map { try Config(contentsOf: $0) } ?? Config()
        for assignment in overrides { try resolved.set(assignment) }
        let directory = RunDirectory(resume ?? out ?? "runs/\(resolved.string("run.name"))")
        StopSignal.install()
        let trainer = try Trainer(config: resolved, run: directory, resume: resume != nil)
        let summary = try trainer.train { StopSignal.requested }
        if summary.stoppedEarly { throw ExitCode(130) }
        print("finished \(summary.steps) steps; backbone: \(directory.backbonePath)")
    }
}

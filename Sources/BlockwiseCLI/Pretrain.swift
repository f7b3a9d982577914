import ArgumentParser
import Blockwise
import Foundation

struct Pretrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pretrain a network in any of the paper's modes; resume an interrupted run.")

    @Argument(help: "A YAML configuration (see `blockwise config keys`); defaults only when left out.")
    var config: String?

    @OptionGroup var overrides: ConfigOverrides

    @Option(help: "The run directory (default: runs/<run.name>).")
    var out: String?

    @Option(help: "Continue the run in this directory from its last checkpoint.")
    var resume: String?

    func validate() throws {
        if resume != nil, config != nil || !overrides.assignments.isEmpty || out != nil {
            throw ValidationError("--resume continues a run with its own config.yaml: give no config, --set or --out with it")
        }
    }

    func run() throws {
        StopSignal.install()
        let trainer: Trainer
        if let resume {
            trainer = try Trainer.resume(run: RunDirectory(resume))
        } else {
            let resolved = try overrides.resolve(file: config)
            trainer = try Trainer(config: resolved, run: RunDirectory(out ?? "runs/\(resolved.run.name)"))
        }
        let directory = trainer.run
        let summary = try trainer.train { StopSignal.requested }
        if summary.stoppedEarly { throw ExitCode(130) }
        print("finished \(summary.steps) steps; backbone: \(directory.backbonePath)")
    }
}

import ArgumentParser
import Blockwise
import Foundation

struct Pretrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pretrain a network in any of the paper's modes; resume an interrupted run.",
        discussion: """
            Several processes train data-parallel when a launcher starts them (torchrun --no_python, \
            SLURM's srun with MASTER_ADDR set) or with --nproc-per-node N on one machine; with \
            --set distributed.strategy=blocks each trains one block. A resumed run may change \
            how its processes share the work: --resume RUN --set distributed.strategy=...
            """)

    @Argument(help: "A YAML configuration (see `blockwise config keys`); defaults only when left out.")
    var config: String?

    @OptionGroup var overrides: ConfigOverrides

    @Option(help: "The run directory (default: runs/<run.name>).")
    var out: String?

    @Option(help: "Continue the run in this directory from its last checkpoint.")
    var resume: String?

    @Option(help: "Start N worker processes on this machine (as torchrun --nproc-per-node N).")
    var nprocPerNode: Int?

    func validate() throws {
        if resume != nil, config != nil || out != nil {
            throw ValidationError("--resume continues a run with its own config.yaml: give no config or --out with it")
        }
        if resume != nil {
            do {
                try ConfigSchema.checkResumable(overrides.assignments)
            } catch {
                throw ValidationError("\(error)")
            }
        }
        if let nprocPerNode {
            guard nprocPerNode >= 1 else { throw ValidationError("--nproc-per-node must be at least 1, got \(nprocPerNode)") }
            if ProcessInfo.processInfo.environment["RANK"] != nil {
                throw ValidationError("--nproc-per-node starts its own workers: RANK is already set by another launcher")
            }
        }
    }

    func run() throws {
        if let nprocPerNode, nprocPerNode > 1 {
            let timeout = try resume.map { try overrides.apply(to: try RunDirectory($0).config()) }?.run.timeoutSeconds
                ?? overrides.resolve(file: config).run.timeoutSeconds
            let status = try LocalLauncher.run(processes: nprocPerNode, arguments: LocalLauncher.workerArguments(CommandLine.arguments),
                                               grace: timeout + 10)
            if status != 0 { throw ExitCode(status) }
            return
        }
        let launch = try Launch.fromEnvironment()
        StopSignal.install()
        let trainer: Trainer
        if let resume {
            trainer = try Trainer.resume(run: RunDirectory(resume), launch: launch, placement: overrides.assignments)
        } else {
            let resolved = try overrides.resolve(file: config)
            trainer = try Trainer(config: resolved, run: RunDirectory(out ?? "runs/\(resolved.run.name)"), launch: launch)
        }
        let summary = try trainer.train { StopSignal.requested }
        if summary.stoppedEarly { throw ExitCode(130) }
        if launch.isLeader { print("finished \(summary.steps) steps; backbone: \(trainer.run.backbonePath)") }
    }
}

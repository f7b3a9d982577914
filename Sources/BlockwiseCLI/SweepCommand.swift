import ArgumentParser
import Blockwise
import Foundation
import Torch

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Pretrain and probe every (variant, seed) of a sweep file; summarise top-1 per block as mean ± std.",
        discussion: """
            Writes OUT/VARIANT/seed-N/ (a run directory each), then OUT/results.json, results.md and \
            report.html. Finished runs are skipped and interrupted ones resume, so the same command \
            continues a stopped sweep.
            """)

    @Argument(help: "A sweep file: base, set, seeds, probe_epochs, variants (see configs/sweeps/).")
    var file: String

    @Option(help: "The sweep's folder (default: runs/sweeps/<file name>).")
    var out: String?

    @Flag(help: "List the runs and where each stands, and run nothing.")
    var dryRun = false

    @Option(help: "Run N sweep workers at once: one per GPU where there are N, else sharing the cores.")
    var parallel = 1

    func validate() throws {
        guard (1...64).contains(parallel) else { throw ValidationError("--parallel must be from 1 to 64, got \(parallel)") }
    }

    func run() throws {
        let plan = try SweepPlan(contentsOf: file)
        let name = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
        let sweep = Sweep(plan: plan, folder: out ?? "runs/sweeps/\(name)")
        if dryRun {
            print("\(plan.runs.count) runs (\(plan.variants.count) variants × \(plan.seeds.count) seeds) in \(sweep.folder):")
            for line in sweep.listing() { print("  " + line) }
            return
        }
        StopSignal.install()
        if let worker = try Sweep.worker() {
            // One of --parallel N: a GPU each where there are enough, else a share of the cores.
            let gpus = Runtime.cudaDeviceCount
            let device: DeviceRequest? = gpus >= worker.count ? .cuda(worker.index) : nil
            let threads = device == nil ? max(1, Runtime.coreCount / worker.count) : nil
            let finished = try sweep.run(threads: threads, device: device, shouldStop: { StopSignal.requested }) {
                print("[\(worker.index)] " + $0)
            }
            if !finished { throw ExitCode(130) }
            return
        }
        if parallel > 1 {
            let arguments = LocalLauncher.workerArguments(CommandLine.arguments, dropping: "--parallel")
            let status = try Sweep.runWorkers(parallel, arguments: arguments) { print($0) }
            if status != 0 { throw ExitCode(status) }
        } else if try !sweep.run(shouldStop: { StopSignal.requested }, log: { print($0) }) {
            print("stopped; continue with the same command")
            throw ExitCode(130)
        }
        let results = SweepResults(sweep)
        try results.write(to: sweep.folder, title: "Sweep \(name)")
        print(results.table())
        print("wrote \(sweep.folder)/results.json, results.md and report.html")
    }
}

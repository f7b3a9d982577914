import Foundation
import Torch

/// Runs a `SweepPlan` into a folder: `FOLDER/VARIANT/seed-N/` is each run's directory, with its
/// outcome in `sweep-run.json` once it has been pretrained and probed; then `results.json`,
/// `results.md` and `report.html` summarise the sweep (`SweepResults`).
///
/// It is resumable: a run with an outcome is skipped, a run interrupted in training resumes from
/// its checkpoint. Several workers (`--parallel N`) share the runs: each claims a run with a
/// lock file before training it, and takes a run only once the runs it reads are done.
public struct Sweep {
    public let plan: SweepPlan
    public let folder: String

    public init(plan: SweepPlan, folder: String) {
        self.plan = plan
        self.folder = folder
    }

    /// What one finished run gave.
    public struct Outcome: Codable, Sendable, Equatable {
        public var variant: String
        public var seed: Int
        /// Linear-probe top-1 accuracy at each block (1…4).
        public var top1: [Double]
        /// Seconds of pretraining in the process that finished it (a resumed run counts its last part).
        public var pretrainSeconds: Double
        public var peakMemoryMB: Double
    }

    public func path(of run: SweepPlan.Run) -> String { folder + "/" + run.name }
    func outcomePath(of run: SweepPlan.Run) -> String { path(of: run) + "/sweep-run.json" }

    public func outcome(of run: SweepPlan.Run) -> Outcome? {
        guard let data = FileManager.default.contents(atPath: outcomePath(of: run)) else { return nil }
        return try? JSONDecoder().decode(Outcome.self, from: data)
    }

    /// Where a run stands: done, begun (interrupted or training elsewhere), or new.
    public func state(of run: SweepPlan.Run) -> String {
        if outcome(of: run) != nil { return "done" }
        return FileManager.default.fileExists(atPath: RunDirectory(path(of: run)).configPath) ? "begun" : "new"
    }

    /// The lines of `--dry-run`: each run, its state and its overrides.
    public func listing() -> [String] {
        plan.runs.map { run in
            let variant = plan.variants.first { $0.name == run.variant }!
            let overrides = (variant.overrides + ["run.seed=\(run.seed)"]).joined(separator: " ")
            return "\(run.name.padding(toLength: 34, withPad: " ", startingAt: 0)) \(state(of: run).padding(toLength: 6, withPad: " ", startingAt: 0)) \(overrides)"
        }
    }

    /// Trains and probes every run not done yet, as one of `workers` workers (`threads` and
    /// `device` set for each run when given). Returns false when stopped by `shouldStop`.
    public func run(threads: Int? = nil, device: DeviceRequest? = nil, shouldStop: @escaping () -> Bool = { false },
                    log: @escaping (String) -> Void) throws -> Bool {
        try FileManager.default.createDirectory(atPath: folder + "/.claims", withIntermediateDirectories: true)
        while true {
            let open = plan.runs.filter { outcome(of: $0) == nil }
            if open.isEmpty { return true }
            var progressed = false
            for run in open where plan.dependencies(of: run).allSatisfy({ outcome(of: $0) != nil }) {
                // Another worker may hold it, or may have finished it since the list was made.
                guard let claim = try SweepClaim(folder + "/.claims/" + run.name.replacingOccurrences(of: "/", with: "--")),
                      outcome(of: run) == nil else { continue }
                defer { withExtendedLifetime(claim) {} }
                guard try train(run, threads: threads, device: device, shouldStop: shouldStop, log: log) else { return false }
                progressed = true
            }
            if shouldStop() { return false }
            // What is left is claimed by other workers or waits for their runs.
            if !progressed { Thread.sleep(forTimeInterval: 1) }
        }
    }

    /// Pretrains (or resumes) and probes one run, then writes its outcome.
    private func train(_ run: SweepPlan.Run, threads: Int?, device: DeviceRequest?, shouldStop: @escaping () -> Bool,
                       log: @escaping (String) -> Void) throws -> Bool {
        let directory = RunDirectory(path(of: run))
        var config = try plan.config(of: run, runPath: { path(of: $0) })
        if let threads, config.run.threads == 0 { config.run.threads = threads }
        if let device { config.run.device = device }
        let start = Date()
        ProcessMemory.resetPeak()
        let trainer: Trainer
        if FileManager.default.fileExists(atPath: directory.configPath) {
            log("== \(run.name): resuming")
            trainer = try Trainer.resume(run: directory, log: { log("   " + $0) })
        } else {
            log("== \(run.name): pretraining")
            trainer = try Trainer(config: config, run: directory, log: { log("   " + $0) })
        }
        let summary = try trainer.train(shouldStop: shouldStop)
        if summary.stoppedEarly { return false }
        let seconds = Date().timeIntervalSince(start)
        let memory = ProcessMemory.peakMB()
        log("== \(run.name): probing every block (\(plan.probeEpochs) epochs)")
        let report = try Probe(method: .linear, linear: LinearProbe(epochs: plan.probeEpochs)).run(try RunEvaluation(run: directory))
        let outcome = Outcome(variant: run.variant, seed: run.seed, top1: report.blocks.map(\.top1), pretrainSeconds: seconds,
                              peakMemoryMB: memory)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(outcome).write(to: URL(fileURLWithPath: outcomePath(of: run)), options: .atomic)
        log(String(format: "== %@: top-1 %@ in %.0f s", run.name, outcome.top1.map { String(format: "%.1f%%", 100 * $0) }.joined(separator: " "), seconds))
        return true
    }
}

/// A worker's claim on a run: a `flock` on a file of the sweep's `.claims` folder, released
/// when the value goes or the process ends, however it ends.
final class SweepClaim {
    private let descriptor: Int32

    /// Nil when another worker holds it.
    init?(_ path: String) throws {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw RunError("cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            return nil
        }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }
}

extension Sweep {
    /// The environment variable that makes a `blockwise sweep` process a worker of `--parallel N`:
    /// "I/N" (worker I from 0 of N).
    public static let workerVariable = "BLOCKWISE_SWEEP_WORKER"

    /// `--parallel N`: runs N workers of this same command (`arguments`, without `--parallel`),
    /// which share the runs through their claims, and waits for them. Returns the first
    /// failure's exit status, or 0. Signals are passed on, so Ctrl-C checkpoints every run.
    public static func runWorkers(_ count: Int, arguments: [String], log: (String) -> Void) throws -> Int32 {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var workers: [Process] = []
        for index in 0..<count {
            let worker = Process()
            worker.executableURL = executable
            worker.arguments = arguments
            worker.environment = ProcessInfo.processInfo.environment.merging([workerVariable: "\(index)/\(count)"]) { _, new in new }
            do {
                try worker.run()
            } catch {
                for started in workers { kill(started.processIdentifier, SIGKILL) }
                throw RunError("cannot start sweep worker \(index) (\(executable.path)): \(error.localizedDescription)")
            }
            workers.append(worker)
        }
        // A failed run stops the sweep: the others would wait on it.
        return LocalLauncher.supervise(workers, grace: 0, log: log)
    }

    /// This process's place among `--parallel` workers, from `workerVariable`; nil for a lone sweep.
    public static func worker(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> (index: Int, count: Int)? {
        guard let text = environment[workerVariable] else { return nil }
        let parts = text.split(separator: "/").compactMap { Int($0) }
        guard parts.count == 2, parts[1] >= 1, (0..<parts[1]).contains(parts[0]) else {
            throw RunError("\(workerVariable)=\(text): expected I/N with 0 ≤ I < N")
        }
        return (parts[0], parts[1])
    }
}

import Foundation

/// `--nproc-per-node N`: runs N workers of this same command on this machine, each with
/// torchrun's environment (`RANK`, `WORLD_SIZE`, `LOCAL_RANK`, `LOCAL_WORLD_SIZE`,
/// `MASTER_ADDR`, `MASTER_PORT`), so a user on one machine needs no Python.
///
/// The launcher waits for its workers. When one fails, the others find out on their next
/// exchange and stop with an error naming it; those still running after `grace` seconds are
/// killed. SIGINT and SIGTERM are passed on, so Ctrl-C checkpoints every rank.
public enum LocalLauncher {
    /// Runs the workers and returns the launch's exit status: 0 when every worker succeeded,
    /// else the first failure's.
    public static func run(processes: Int, arguments: [String], grace: Double,
                           log: (String) -> Void = { print($0) }) throws -> Int32 {
        let environment = ProcessInfo.processInfo.environment
        let port = try environment["MASTER_PORT"].map { text -> Int in
            guard let port = Int(text), (1...65535).contains(port) else { throw LaunchError("MASTER_PORT=\(text) is not a TCP port (1–65535)") }
            return port
        } ?? freeLocalPort()
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var workers: [Process] = []
        for rank in 0..<processes {
            let worker = Process()
            worker.executableURL = executable
            worker.arguments = arguments
            worker.environment = environment.merging([
                "RANK": "\(rank)", "WORLD_SIZE": "\(processes)", "LOCAL_RANK": "\(rank)",
                "LOCAL_WORLD_SIZE": "\(processes)", "MASTER_ADDR": environment["MASTER_ADDR"] ?? "127.0.0.1",
                "MASTER_PORT": "\(port)",
            ]) { _, new in new }
            do {
                try worker.run()
            } catch {
                for started in workers { kill(started.processIdentifier, SIGKILL) }
                throw LaunchError("cannot start worker \(rank) (\(executable.path)): \(error.localizedDescription)")
            }
            workers.append(worker)
        }
        return supervise(workers, grace: grace, log: log)
    }

    /// Waits for the workers, passing signals on; after the first failure, waits `grace`
    /// seconds for the rest, then kills them.
    static func supervise(_ workers: [Process], grace: Double, log: (String) -> Void) -> Int32 {
        StopSignal.install()
        var forwarded = false
        var failure: (rank: Int, status: Int32, at: Date)?
        while workers.contains(where: \.isRunning) {
            if StopSignal.requested, !forwarded {
                for worker in workers where worker.isRunning { kill(worker.processIdentifier, SIGTERM) }
                forwarded = true
            }
            if failure == nil, let rank = workers.firstIndex(where: { !$0.isRunning && $0.terminationStatus != 0 }) {
                failure = (rank, exitStatus(workers[rank]), Date())
            }
            if let failure, Date().timeIntervalSince(failure.at) > grace {
                for (rank, worker) in workers.enumerated() where worker.isRunning {
                    log("rank \(rank) still runs \(Int(grace)) s after rank \(failure.rank) failed: killing it")
                    kill(worker.processIdentifier, SIGKILL)
                }
            }
            usleep(50_000)
        }
        if let failure { return failure.status }
        return workers.map(exitStatus).first { $0 != 0 } ?? 0
    }

    /// A worker's exit code, or 128 + the signal that ended it, as a shell reports it.
    static func exitStatus(_ worker: Process) -> Int32 {
        worker.terminationReason == .uncaughtSignal ? 128 + worker.terminationStatus : worker.terminationStatus
    }

    /// The command line of each worker: this one without `--nproc-per-node N` (or the option
    /// `dropping` names).
    public static func workerArguments(_ arguments: [String], dropping option: String = "--nproc-per-node") -> [String] {
        var result: [String] = []
        var skipNext = false
        for argument in arguments.dropFirst() {
            if skipNext {
                skipNext = false
            } else if argument == option {
                skipNext = true
            } else if !argument.hasPrefix(option + "=") {
                result.append(argument)
            }
        }
        return result
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
public func freeLocalPort() -> Int {
    let (fd, port) = bindLocalPort()
    close(fd)
    return port
}

/// A socket bound to a free TCP port of 127.0.0.1, and the port; the caller closes the socket.
func bindLocalPort() -> (socket: Int32, port: Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}

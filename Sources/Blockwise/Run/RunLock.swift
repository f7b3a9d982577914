import Foundation

/// The right to write a run directory, held by the one process that writes it (a pretraining
/// run, new or resumed; with several processes, rank 0) for as long as the value lives.
///
/// It is a `flock` on RUN/.lock, so the kernel releases it when the process ends, however it
/// ends: a killed run leaves nothing to remove by hand. The holder writes its pid into the file
/// for the error the next process gets. Commands that only add their own file to a run
/// (`probe`, `analyze`, `report`) take no lock: each writes its file atomically, and they may
/// run while the run trains.
public final class RunLock {
    private let descriptor: Int32

    /// Takes the lock of `run`, creating its folder if needed.
    fileprivate init(_ run: RunDirectory) throws {
        do {
            try FileManager.default.createDirectory(atPath: run.path, withIntermediateDirectories: true)
        } catch {
            throw RunError("cannot create the run directory \(run.path): \(error.localizedDescription)")
        }
        let descriptor = open(run.lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw RunError("cannot open \(run.lockPath): \(String(cString: strerror(errno)))") }
        do {
            try Self.lock(descriptor, of: run)
            // Only the holder changes the file, so a refused process leaves the run as it found it.
            let pid = Array("\(getpid())\n".utf8)
            guard ftruncate(descriptor, 0) == 0, pwrite(descriptor, pid, pid.count, 0) == pid.count else {
                throw RunError("cannot write \(run.lockPath): \(String(cString: strerror(errno)))")
            }
        } catch {
            close(descriptor)
            throw error
        }
        self.descriptor = descriptor
    }

    // Closing the descriptor releases the lock.
    deinit { close(descriptor) }

    /// Throws, naming the holder, when a process holds the lock of `run`; writes nothing.
    fileprivate static func requireFree(_ run: RunDirectory) throws {
        let descriptor = open(run.lockPath, O_RDONLY | O_CLOEXEC)
        // No lock file: no run was ever started here.
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        try lock(descriptor, of: run)
    }

    /// Locks `descriptor`, the lock file of `run`, or throws naming the process that holds it.
    private static func lock(_ descriptor: Int32, of run: RunDirectory) throws {
        guard flock(descriptor, LOCK_EX | LOCK_NB) != 0 else { return }
        guard errno == EWOULDBLOCK else { throw RunError("cannot lock \(run.lockPath): \(String(cString: strerror(errno)))") }
        // The holder writes its pid just after taking the lock: the file can still be empty.
        let pid = (try? String(contentsOfFile: run.lockPath, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        let holder = pid.flatMap(Int32.init).map { "process \($0)" } ?? "another process"
        throw RunError("\(run.path) is in use: \(holder) is training it (it holds \(run.lockPath)); "
            + "wait for that run to end, or stop it, before starting or resuming this one")
    }
}

extension RunDirectory {
    /// The name of the file whose `flock` marks the run's one writer (`RunLock`).
    static let lockName = ".lock"

    /// RUN/.lock (`RunLock`).
    public var lockPath: String { path + "/" + Self.lockName }

    /// Takes the run's exclusive write lock, creating the folder if needed: the caller alone
    /// writes the run while the returned value lives. Throws, naming the holder's pid, when
    /// another process writes the run.
    public func lock() throws -> RunLock { try RunLock(self) }

    /// Checks that a new run may start here, writing nothing: no process writes the folder
    /// (named if one does, rather than its half-made run judged), and it is new, or empty but
    /// for a lock file. A folder of other files is refused, so that a mistyped --out never
    /// mixes a run into them.
    public func requireNoRun() throws {
        try RunLock.requireFree(self)
        try requireEmpty()
    }

    /// Takes the lock of a new run's folder, checking again that it is empty: another process
    /// may have started a run here since `requireNoRun`.
    public func lockNewRun() throws -> RunLock {
        let lock = try lock()
        try requireEmpty()
        return lock
    }

    private func requireEmpty() throws {
        if FileManager.default.fileExists(atPath: configPath) {
            throw RunError("\(path) already holds a run: resume it with --resume \(path), or choose another --out")
        }
        if let names = try? FileManager.default.contentsOfDirectory(atPath: path), names.contains(where: { $0 != Self.lockName }) {
            throw RunError("\(path) is not empty and holds no run (no config.yaml): choose a new or empty folder for --out")
        }
    }
}

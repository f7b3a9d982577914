#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a file so that, even across a crash or power loss, `path` holds either its old
/// contents or the complete new ones — never a torn checkpoint. The data goes to a temporary
/// file in the same folder (so the rename cannot cross file systems), is flushed with
/// `fsync`, renamed over `path`, and the folder is flushed so that the rename itself lasts.
enum AtomicFile {
    /// Sends bytes to the temporary file.
    struct Writer {
        fileprivate let descriptor: Int32
        fileprivate let path: String

        func append(_ bytes: UnsafeRawBufferPointer) throws(SafeTensorsError) {
            var done = 0
            while done < bytes.count {
                let n = systemWrite(descriptor, bytes.baseAddress! + done, bytes.count - done)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw SafeTensorsError(file: path, .io("cannot write: \(systemError())")) }
                done += n
            }
        }
    }

    static func write(to path: String, _ body: (Writer) throws -> Void) throws {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let temporary = (folder == "/" ? "" : folder) + "/.\(base).tmp-\(getpid())-\(UInt32.random(in: .min ... .max))"

        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw SafeTensorsError(file: path, .io("cannot create \(temporary): \(systemError())"))
        }
        var closed = false
        do {
            try body(Writer(descriptor: descriptor, path: path))
            guard fsync(descriptor) == 0 else { throw SafeTensorsError(file: path, .io("cannot fsync: \(systemError())")) }
            closed = true
            guard close(descriptor) == 0 else { throw SafeTensorsError(file: path, .io("cannot close: \(systemError())")) }
            guard rename(temporary, path) == 0 else {
                throw SafeTensorsError(file: path, .io("cannot rename \(temporary) to it: \(systemError())"))
            }
        } catch {
            if !closed { close(descriptor) }
            unlink(temporary)
            throw error
        }
        // Best effort: some file systems cannot fsync a folder, and the data is already safe.
        let folderDescriptor = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folderDescriptor >= 0 {
            _ = fsync(folderDescriptor)
            close(folderDescriptor)
        }
    }
}

/// POSIX `write`, under a name that no method shadows.
private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, buffer, count)
}

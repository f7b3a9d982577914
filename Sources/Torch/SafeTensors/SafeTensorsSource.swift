#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the bytes of a safetensors file come from. The reader asks only for ranges it has
/// checked against `size`, so a file is never read whole and no range is taken on trust.
protocol SafeTensorsSource {
    var size: Int { get }
    /// Calls `body` with the `count` bytes at `offset`.
    func withBytes<R>(at offset: Int, count: Int, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R
}

/// Bytes already in memory: ranges are handed out without copying.
struct MemorySource: SafeTensorsSource {
    let bytes: UnsafeRawBufferPointer
    var size: Int { bytes.count }

    func withBytes<R>(at offset: Int, count: Int, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        try body(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count]))
    }
}

/// An open file read with `pread`, one range at a time, so that reading a checkpoint takes
/// the memory of its tensors plus that of the largest one, not twice the file.
final class FileSource: SafeTensorsSource {
    let path: String
    let size: Int
    private let descriptor: Int32

    init(path: String) throws(SafeTensorsError) {
        self.path = path
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw SafeTensorsError(file: path, .io("cannot open: \(systemError())")) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            let message = systemError()
            close(descriptor)
            throw SafeTensorsError(file: path, .io("cannot stat: \(message)"))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            throw SafeTensorsError(file: path, .io("not a regular file"))
        }
        size = Int(info.st_size)
    }

    deinit { close(descriptor) }

    func withBytes<R>(at offset: Int, count: Int, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 64)
        defer { buffer.deallocate() }
        var done = 0
        while done < count {
            let n = pread(descriptor, buffer.baseAddress! + done, count - done, off_t(offset + done))
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw SafeTensorsError(file: path, .io("cannot read: \(systemError())")) }
            guard n > 0 else {
                throw SafeTensorsError(file: path, .io("the file ended at byte \(offset + done) while reading; "
                    + "it was \(size) bytes when opened (changed while being read?)"))
            }
            done += n
        }
        return try body(UnsafeRawBufferPointer(buffer))
    }
}

/// The message of the current `errno`.
func systemError() -> String { String(cString: strerror(errno)) }

import CZlib
import Foundation

/// A file read through zlib: gzip-compressed or raw alike (zlib passes raw bytes through),
/// so `train-images-idx3-ubyte` and `train-images-idx3-ubyte.gz` read the same way.
final class GzipFile {
    let path: String
    private let file: gzFile

    init(path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DataError(path, "no such file")
        }
        guard !isDirectory.boolValue else { throw DataError(path, "is a folder, expected a file") }
        guard let file = gzopen(path, "rb") else { throw DataError(path, "cannot open for reading") }
        self.path = path
        self.file = file
        gzbuffer(file, 1 << 20)
    }

    deinit { gzclose(file) }

    /// Reads up to `buffer.count` bytes; returns how many were read (fewer at end of file).
    /// A damaged gzip stream is an error naming the file and zlib's diagnosis.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var done = 0
        while done < buffer.count {
            let chunk = UInt32(min(buffer.count - done, 1 << 30))
            let n = gzread(file, buffer.baseAddress! + done, chunk)
            if n < 0 {
                var code: Int32 = 0
                let message = String(cString: gzerror(file, &code))
                throw DataError(path, "corrupt or truncated compressed data (zlib: \(message))")
            }
            if n == 0 {
                // zlib reports a gzip stream cut short only through gzerror.
                var code: Int32 = 0
                let message = String(cString: gzerror(file, &code))
                if code != Z_OK { throw DataError(path, "corrupt or truncated compressed data (zlib: \(message))") }
                break
            }
            done += Int(n)
        }
        return done
    }

    /// Reads exactly `count` bytes, or fails saying how many were missing and what they were for.
    func readExactly(_ count: Int, what: String) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let n = try bytes.withUnsafeMutableBytes { try read(into: $0) }
        if n < count { throw DataError(path, "truncated: \(what) needs \(count) bytes, the file ends after \(n)") }
        return bytes
    }

    /// An upper bound on the bytes left to read, known without reading them (valid after the
    /// first read): exact for a file that is not compressed; for a gzip file, deflate's greatest
    /// expansion (1032:1) of its whole compressed size.
    func remainingBytesBound() throws -> (bytes: Int, exact: Bool) {
        var status = stat()
        guard stat(path, &status) == 0 else { throw DataError(path, "cannot read its size: \(String(cString: strerror(errno)))") }
        let size = Int(status.st_size)
        if gzdirect(file) != 0 { return (max(0, size - Int(gztell(file))), true) }
        return (size * 1032, false)
    }

    /// True when nothing is left to read.
    func atEnd() throws -> Bool {
        var byte: UInt8 = 0
        return try withUnsafeMutableBytes(of: &byte) { try read(into: $0) } == 0
    }
}

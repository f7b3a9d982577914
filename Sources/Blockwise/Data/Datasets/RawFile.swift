import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Plain binary files read straight into memory that the caller owns (a tensor's storage).
enum RawFile {
    /// The size of the file in bytes; fails clearly when it is missing or a folder.
    static func size(_ path: String) throws -> Int {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DataError(path, "no such file")
        }
        guard !isDirectory.boolValue else { throw DataError(path, "is a folder, expected a file") }
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return (attributes[.size] as? NSNumber)?.intValue ?? 0
    }

    /// Fills `buffer` from the start of the file; fails unless all of it could be read.
    static func read(_ path: String, into buffer: UnsafeMutableRawBufferPointer) throws {
        guard let file = fopen(path, "rb") else { throw DataError(path, "cannot open for reading") }
        defer { fclose(file) }
        guard buffer.count > 0 else { return }
        let n = fread(buffer.baseAddress, 1, buffer.count, file)
        if n < buffer.count { throw DataError(path, "truncated: expected \(buffer.count) bytes, read \(n)") }
    }

    /// The whole file.
    static func bytes(_ path: String) throws -> [UInt8] {
        let count = try size(path)
        var bytes = [UInt8](repeating: 0, count: count)
        try bytes.withUnsafeMutableBytes { try read(path, into: $0) }
        return bytes
    }
}

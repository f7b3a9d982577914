import CZlib
import Foundation

/// What identifies a file's contents for a cache: its size and the CRC-32 of its bytes
/// (zlib's, a few hundred MB/s), e.g. "46827520-1a2b3c4d". Rewriting a backbone with other
/// weights changes it even when the size and the time stamp do not.
enum FileFingerprint {
    static func of(_ path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw RunError("cannot read \(path)") }
        defer { try? handle.close() }
        var crc = crc32(0, nil, 0)
        var size = 0
        while true {
            let chunk = try handle.read(upToCount: 1 << 24) ?? Data()
            if chunk.isEmpty { break }
            size += chunk.count
            crc = chunk.withUnsafeBytes { crc32(crc, $0.bindMemory(to: Bytef.self).baseAddress, uInt($0.count)) }
        }
        return "\(size)-" + String(crc, radix: 16)
    }

    /// The fingerprint of a file's contents already read: the same as `of(path)` for that file.
    static func of(bytes: [UInt8]) -> String {
        let crc = bytes.withUnsafeBufferPointer { crc32(crc32(0, nil, 0), $0.baseAddress, uInt($0.count)) }
        return "\(bytes.count)-" + String(crc, radix: 16)
    }
}

import Foundation
import Torch

/// Paths and builders shared by the safetensors tests.
enum SafeTensorsFixtures {
    /// Tests/Fixtures/safetensors, found from this source file so tests run from any folder.
    static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/safetensors")

    static func url(_ name: String) -> URL { folder.appendingPathComponent(name) }

    static func bytes(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: url(name))) }

    /// A file made of an 8-byte header size, the header text and the data, as the format lays it out.
    static func file(header: String, data: [UInt8] = [], declaredSize: UInt64? = nil) -> [UInt8] {
        let json = Array(header.utf8)
        return littleEndian(declaredSize ?? UInt64(json.count)) + json + data
    }

    static func littleEndian(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }

    /// A fresh empty folder under the system's temporary folder.
    static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("safetensors-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Same names, metadata and tensors, in any order. The tensors' raw bytes are the only
    /// equality that holds for NaNs and tells -0 from +0.
    static func sameTensors(_ a: SafeTensorsFile, _ b: SafeTensorsFile) -> Bool {
        a.names.sorted() == b.names.sorted() && a.metadata == b.metadata && a.names.allSatisfy { name in
            let (x, y) = (a[name]!, b[name]!)
            return x.dtype == y.dtype && x.shape == y.shape && x.bytes() == y.bytes()
        }
    }
}

/// SplitMix64: a tiny seeded generator, so that every run of the fuzz loop sees the same cases
/// on every platform.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

import Foundation

/// RUN/metrics.jsonl: one JSON object per line, appended and flushed as training goes, so a
/// crash loses at most the line being written and a resumed run continues the same file.
public final class MetricsLog: @unchecked Sendable {
    public let path: String
    private let handle: FileHandle

    public init(path: String) throws {
        self.path = path
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw RunError("cannot create \(path)")
            }
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw RunError("cannot open \(path) for writing") }
        self.handle = handle
        handle.seekToEndOfFile()
    }

    deinit { try? handle.close() }

    /// Appends one record. Values must be JSON-representable (numbers, strings, bools, arrays, dictionaries).
    public func append(_ record: [String: Any]) throws {
        let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
        handle.write(data + Data("\n".utf8))
    }

    /// Keeps the whole records with `step` ≤ `step` and drops the rest (a resumed run logs those
    /// steps again) along with any line a crash left torn. Rewritten atomically.
    public static func rewind(path: String, throughStep step: Int) throws {
        guard let data = FileManager.default.contents(atPath: path) else { return }
        let kept = data.split(separator: UInt8(ascii: "\n")).filter { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                  let recorded = object["step"] as? Int else { return false }
            return recorded <= step
        }
        let text = kept.map { Data($0) + Data("\n".utf8) }.reduce(Data(), +)
        do {
            try text.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw RunError("cannot rewrite \(path): \(error.localizedDescription)")
        }
    }

    /// Every record of a metrics file, in order.
    public static func read(path: String) throws -> [[String: Any]] {
        guard let data = FileManager.default.contents(atPath: path) else { throw RunError("cannot read \(path)") }
        return try data.split(separator: UInt8(ascii: "\n")).enumerated().map { index, line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                throw RunError("\(path):\(index + 1): not a JSON object")
            }
            return object
        }
    }
}

/// A problem with a run directory or its files, naming the file.
public struct RunError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

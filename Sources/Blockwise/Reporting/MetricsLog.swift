import Foundation

/// RUN/metrics.jsonl: one `MetricsRecord` per line, appended and flushed as training goes, so a
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

    /// Appends one record as a line.
    public func append(_ record: MetricsRecord) throws {
        handle.write(try Self.encoder.encode(record) + Data("\n".utf8))
    }

    /// Keeps the whole records with `step` ≤ `step` and drops the rest (a resumed run logs those
    /// steps again) along with any line a crash left torn. Rewritten atomically.
    public static func rewind(path: String, throughStep step: Int) throws {
        guard let data = FileManager.default.contents(atPath: path) else { return }
        let decoder = JSONDecoder()
        let kept = data.split(separator: UInt8(ascii: "\n")).filter { line in
            guard let record = try? decoder.decode(MetricsRecord.self, from: Data(line)) else { return false }
            return record.step <= step
        }
        let text = kept.map { Data($0) + Data("\n".utf8) }.reduce(Data(), +)
        do {
            try text.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw RunError("cannot rewrite \(path): \(error.localizedDescription)")
        }
    }

    /// Every record of a metrics file, in order.
    public static func read(path: String) throws -> [MetricsRecord] {
        guard let data = FileManager.default.contents(atPath: path) else { throw RunError("cannot read \(path)") }
        let decoder = JSONDecoder()
        return try data.split(separator: UInt8(ascii: "\n")).enumerated().map { index, line in
            guard let record = try? decoder.decode(MetricsRecord.self, from: Data(line)) else {
                throw RunError("\(path):\(index + 1): not a metrics record")
            }
            return record
        }
    }

    /// Sorted keys, as the lines have always been written: a line reads the same from run to run.
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }()
}

/// A problem with a run directory or its files, naming the file.
public struct RunError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

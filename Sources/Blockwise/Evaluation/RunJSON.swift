import Foundation

/// Writes a result as sorted, indented JSON: the one writer of RUN/probe.json,
/// RUN/correlation.json and RUN/corruptions.json.
public func writeJSON<T: Encodable>(_ value: T, to path: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    do {
        try encoder.encode(value).write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
        throw RunError("cannot write \(path): \(error.localizedDescription)")
    }
}

/// Reads a RUN/*.json file written by `writeJSON` (or by hand in the same form).
public func readJSON<T: Decodable>(_ type: T.Type, from path: String) throws -> T {
    guard let data = FileManager.default.contents(atPath: path) else { throw RunError("cannot read \(path)") }
    do {
        return try JSONDecoder().decode(type, from: data)
    } catch {
        throw RunError("\(path): not the expected JSON: \(error)")
    }
}

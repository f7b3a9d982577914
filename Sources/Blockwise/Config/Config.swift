import Foundation
import Yams

/// A complete, checked configuration: every key of `ConfigSchema` with a valid value.
///
/// Built from the defaults, then a YAML file, then `--set path=value` overrides; each
/// unknown key or bad value is rejected with its key path, what was expected and, for a
/// misspelt key, the nearest valid one.
public struct Config: Equatable, Sendable {
    public private(set) var values: [String: ConfigValue]

    /// The defaults of every key.
    public init() {
        values = Dictionary(uniqueKeysWithValues: ConfigSchema.keys.map { ($0.path, $0.defaultValue) })
    }

    /// Defaults overridden by the YAML file at `path`.
    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(source: path, message: "cannot read the file (missing or not readable)")
        }
        try self.init(yaml: String(decoding: data, as: UTF8.self), source: path)
    }

    /// Defaults overridden by YAML text; `source` names it in errors.
    public init(yaml: String, source: String = "<config>") throws {
        self.init()
        let node: Node?
        do {
            node = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigError(source: source, message: "not valid YAML: \(error)")
        }
        guard let node else { return }
        guard case .mapping(let root) = node else {
            throw ConfigError(source: source, message: "expected a mapping of sections (run:, data:, model:, …) at the top")
        }
        try merge(root, prefix: "", source: source)
    }

    private mutating func merge(_ mapping: Node.Mapping, prefix: String, source: String) throws {
        for (keyNode, valueNode) in mapping {
            let name = keyNode.string ?? "\(keyNode)"
            let path = prefix.isEmpty ? name : prefix + "." + name
            let at = keyNode.mark.map { "\(source):\($0.line)" } ?? source
            if case .mapping(let inner) = valueNode {
                guard ConfigSchema.keys.contains(where: { $0.path.hasPrefix(path + ".") }) else {
                    throw ConfigError.unknownKey(path, source: at)
                }
                try merge(inner, prefix: path, source: source)
                continue
            }
            if ConfigSchema.keys.contains(where: { $0.path.hasPrefix(path + ".") }) {
                throw ConfigError(source: at, message: "\(path): expected a mapping of its keys (\(path).…), got \"\(valueNode.string ?? "\(valueNode)")\"")
            }
            guard let key = ConfigSchema.byPath[path] else { throw ConfigError.unknownKey(path, source: at) }
            let value: ConfigValue?
            let shown: String
            switch valueNode {
            case .scalar(let scalar):
                value = key.parse(scalar.string)
                shown = scalar.string
            case .sequence(let items):
                let texts = items.map { $0.string ?? "\($0)" }
                value = key.parse(items: texts)
                shown = "[" + texts.joined(separator: ", ") + "]"
            default:
                value = nil
                shown = "\(valueNode)"
            }
            guard let value else { throw ConfigError.badValue(key, shown, source: at) }
            values[path] = value
        }
    }

    /// Applies one `path=value` override (the CLI's `--set`).
    public mutating func set(_ assignment: String) throws {
        guard let equals = assignment.firstIndex(of: "=") else {
            throw ConfigError(source: "--set", message: "expected path=value, got \"\(assignment)\"")
        }
        let path = String(assignment[..<equals]).trimmingCharacters(in: .whitespaces)
        let text = String(assignment[assignment.index(after: equals)...]).trimmingCharacters(in: .whitespaces)
        guard let key = ConfigSchema.byPath[path] else { throw ConfigError.unknownKey(path, source: "--set") }
        guard let value = key.parse(text) else { throw ConfigError.badValue(key, text, source: "--set") }
        values[path] = value
    }

    /// The resolved configuration as YAML, every key written out, each with its documentation.
    public func yaml() -> String {
        var lines: [String] = []
        var section = ""
        for key in ConfigSchema.keys {
            let parts = key.path.split(separator: ".", maxSplits: 1).map(String.init)
            if parts[0] != section {
                section = parts[0]
                lines.append(lines.isEmpty ? "\(section):" : "\n\(section):")
            }
            lines.append("  # \(key.doc)")
            lines.append("  \(parts[1]): \(values[key.path]!.yaml)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    // Typed access; the schema guarantees each key exists with its kind's type.

    public func string(_ path: String) -> String {
        guard case .string(let v) = value(path) else { preconditionFailure("\(path) is not a string key") }
        return v
    }

    public func int(_ path: String) -> Int {
        guard case .int(let v) = value(path) else { preconditionFailure("\(path) is not an integer key") }
        return v
    }

    public func double(_ path: String) -> Double {
        switch value(path) {
        case .double(let v): return v
        case .int(let v): return Double(v)
        default: preconditionFailure("\(path) is not a number key")
        }
    }

    public func bool(_ path: String) -> Bool {
        guard case .bool(let v) = value(path) else { preconditionFailure("\(path) is not a boolean key") }
        return v
    }

    public func ints(_ path: String) -> [Int] {
        guard case .list(let items) = value(path) else { preconditionFailure("\(path) is not a list key") }
        return items.map { if case .int(let v) = $0 { return v } else { preconditionFailure("\(path) holds a non-integer") } }
    }

    /// A per-block number for each of `blocks` blocks; a list must have exactly one per block.
    public func perBlock(_ path: String, blocks: Int) throws -> [Double] {
        switch value(path) {
        case .double(let v): return Array(repeating: v, count: blocks)
        case .int(let v): return Array(repeating: Double(v), count: blocks)
        case .list(let items):
            guard items.count == blocks else {
                throw ConfigError(source: path, message: "has \(items.count) values but the partition has \(blocks) blocks")
            }
            return items.map { if case .double(let v) = $0 { return v } else { return 0 } }
        default: preconditionFailure("\(path) is not a per-block key")
        }
    }

    private func value(_ path: String) -> ConfigValue {
        guard let v = values[path] else { preconditionFailure("no configuration key \(path)") }
        return v
    }
}

/// A configuration problem, saying where and what to change.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public var source: String
    public var message: String

    public var description: String { "\(source): \(message)" }

    static func unknownKey(_ path: String, source: String) -> ConfigError {
        var message = "unknown key \"\(path)\""
        if let near = nearestKey(to: path) { message += "; did you mean \"\(near)\"?" }
        return ConfigError(source: source, message: message)
    }

    static func badValue(_ key: ConfigKey, _ shown: String, source: String) -> ConfigError {
        ConfigError(source: source, message: "\(key.path): expected \(key.expected), got \"\(shown)\"")
    }

    /// The valid key (or section) closest in edit distance, if close enough to be a typo.
    static func nearestKey(to path: String) -> String? {
        let sections = Set(ConfigSchema.keys.map { String($0.path.split(separator: ".")[0]) })
        let candidates = ConfigSchema.keys.map(\.path) + sections
        let scored = candidates.map { ($0, editDistance($0, path)) }.min { $0.1 < $1.1 }
        guard let (best, distance) = scored, distance <= max(2, path.count / 3) else { return nil }
        return best
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for i in 1...max(1, a.count) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(1, b.count) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return a.isEmpty ? b.count : previous[b.count]
    }
}

import Foundation
import Yams

/// The one decoder of configurations: YAML files and `--set path=value` overrides become a
/// typed `Config`, key by key through `ConfigSchema`. Each unknown key or bad value is
/// rejected with its file and line (or `--set`), what was expected and, for a misspelt key,
/// the nearest valid one.
extension Config {
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
                guard ConfigSchema.isSection(path) else { throw ConfigError.unknownKey(path, source: at) }
                try merge(inner, prefix: path, source: source)
                continue
            }
            if ConfigSchema.isSection(path) {
                throw ConfigError(source: at, message: "\(path): expected a mapping of its keys (\(path).…), got \"\(valueNode.string ?? "\(valueNode)")\"")
            }
            guard let key = ConfigSchema.key(at: path) else { throw ConfigError.unknownKey(path, source: at) }
            let input: ConfigInput
            switch valueNode {
            case .scalar(let scalar): input = .scalar(scalar.string)
            case .sequence(let items): input = .list(items.map { $0.string ?? "\($0)" })
            default: throw ConfigError.badValue(key, "\(valueNode)", reason: nil, source: at)
            }
            try assign(key, input, source: at)
        }
    }

    /// Applies one `path=value` override (the CLI's `--set`).
    public mutating func set(_ assignment: String) throws {
        guard let equals = assignment.firstIndex(of: "=") else {
            throw ConfigError(source: "--set", message: "expected path=value, got \"\(assignment)\"")
        }
        let path = String(assignment[..<equals]).trimmingCharacters(in: .whitespaces)
        let text = String(assignment[assignment.index(after: equals)...]).trimmingCharacters(in: .whitespaces)
        guard let key = ConfigSchema.key(at: path) else { throw ConfigError.unknownKey(path, source: "--set") }
        try assign(key, .scalar(text), source: "--set")
    }

    private mutating func assign(_ key: ConfigKey, _ input: ConfigInput, source: String) throws {
        do {
            try key.assign(&self, input)
        } catch let rejected as ConfigValueRejected {
            throw ConfigError.badValue(key, input.shown, reason: rejected.reason, source: source)
        }
    }

    /// Every key's value as YAML writes it, in the schema's order.
    public var keyValues: [(path: String, text: String)] {
        ConfigSchema.keys.map { ($0.path, $0.text(self)) }
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
            lines.append("  \(parts[1]): \(key.text(self))")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension ConfigSchema {
    /// Whether `path` names a section (a mapping of keys) rather than a key.
    static func isSection(_ path: String) -> Bool {
        (keys.map(\.path) + renamed.keys).contains { $0.hasPrefix(path + ".") }
    }
}

/// A configuration problem, saying where and what to change.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public var source: String
    public var message: String

    public init(source: String, message: String) {
        self.source = source
        self.message = message
    }

    public var description: String { "\(source): \(message)" }

    static func unknownKey(_ path: String, source: String) -> ConfigError {
        var message = "unknown key \"\(path)\""
        if let near = nearestKey(to: path) { message += "; did you mean \"\(near)\"?" }
        return ConfigError(source: source, message: message)
    }

    static func badValue(_ key: ConfigKey, _ shown: String, reason: String?, source: String) -> ConfigError {
        ConfigError(source: source, message: "\(key.path): expected \(key.expected), got \"\(shown)\"" + (reason.map { " (\($0))" } ?? ""))
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

/// A documented configuration key: its dotted path, what values it takes, its default.
public struct ConfigKey: Sendable {
    public enum Kind: Sendable {
        case int(min: Int)
        case double(min: Double)
        case bool
        case string
        case choice([String])
        /// One number for every block, or a list with one number per block.
        case perBlock(min: Double)
        /// A list of positive integers (e.g. block indices).
        case ints
    }

    public var path: String
    public var kind: Kind
    public var defaultValue: ConfigValue
    public var doc: String

    /// What the key accepts, for error messages and the key reference.
    public var expected: String {
        switch kind {
        case .int(let min): return "an integer ≥ \(min)"
        case .double(let min): return "a number ≥ \(ConfigValue.double(min))"
        case .bool: return "true or false"
        case .string: return "a string"
        case .choice(let options): return "one of " + options.joined(separator: ", ")
        case .perBlock(let min): return "a number ≥ \(ConfigValue.double(min)) or a list of them, one per block"
        case .ints: return "a list of positive integers"
        }
    }

    /// Checks a value given as YAML text (from a file or `--set`), converting it to this key's kind.
    func parse(_ scalar: String) -> ConfigValue? {
        switch kind {
        case .int(let min):
            guard let v = Int(scalar), v >= min else { return nil }
            return .int(v)
        case .double(let min):
            guard let v = Double(scalar), v.isFinite, v >= min else { return nil }
            return .double(v)
        case .bool:
            switch scalar.lowercased() {
            case "true", "yes", "on": return .bool(true)
            case "false", "no", "off": return .bool(false)
            default: return nil
            }
        case .string:
            return .string(scalar)
        case .choice(let options):
            return options.contains(scalar) ? .string(scalar) : nil
        case .perBlock(let min):
            if let v = Double(scalar), v.isFinite, v >= min { return .double(v) }
            return parseList(scalar) { Double($0).flatMap { $0.isFinite && $0 >= min ? .double($0) : nil } }
        case .ints:
            return parseList(scalar) { Int($0).flatMap { $0 >= 1 ? .int($0) : nil } }
        }
    }

    /// Checks a list given as YAML items.
    func parse(items: [String]) -> ConfigValue? {
        switch kind {
        case .perBlock, .ints: return parse("[" + items.joined(separator: ",") + "]")
        default: return nil
        }
    }

    private func parseList(_ text: String, _ item: (String) -> ConfigValue?) -> ConfigValue? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("["), trimmed.hasSuffix("]") else { return nil }
        let inner = trimmed.dropFirst().dropLast()
        if inner.trimmingCharacters(in: .whitespaces).isEmpty { return .list([]) }
        var values: [ConfigValue] = []
        for part in inner.split(separator: ",") {
            guard let v = item(part.trimmingCharacters(in: .whitespaces)) else { return nil }
            values.append(v)
        }
        return .list(values)
    }
}

import Foundation

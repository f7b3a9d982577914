import Foundation

/// A type whose values a configuration key chooses among by name: the key's choice list and
/// its documentation come from the type itself.
public protocol ConfigChoice: Equatable, Sendable {
    /// Every value, in the order the documentation lists them.
    static var choices: [Self] { get }
    /// The name a configuration uses.
    var configName: String { get }
    /// What the choice means, for `blockwise config keys`.
    var summary: String { get }
}

extension ConfigChoice where Self: CaseIterable & RawRepresentable, RawValue == String {
    public static var choices: [Self] { Array(allCases) }
    public var configName: String { rawValue }
}

/// A value as a configuration gives it: one scalar (YAML or `--set`), or a YAML list.
enum ConfigInput {
    case scalar(String)
    case list([String])

    /// The value as the user wrote it, for error messages.
    var shown: String {
        switch self {
        case .scalar(let text): return text
        case .list(let items): return "[" + items.joined(separator: ", ") + "]"
        }
    }

    /// The items of a list, given as a YAML list, as "[a, b]", or as "a,b".
    var items: [String] {
        switch self {
        case .list(let items): return items
        case .scalar(let text):
            var inner = Substring(text.trimmingCharacters(in: .whitespaces))
            if inner.hasPrefix("["), inner.hasSuffix("]") { inner = inner.dropFirst().dropLast() }
            if inner.trimmingCharacters(in: .whitespaces).isEmpty { return [] }
            return inner.split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
        }
    }
}

/// A value the key does not take; `reason` says why when there is more to say than `expected`.
struct ConfigValueRejected: Error {
    var reason: String?
}

/// A documented configuration key: its dotted path, the field of `Config` it sets, what it
/// accepts, and its meaning. Keys are made by the typed constructors below, so a key's
/// parser, printer and field always agree.
public struct ConfigKey: @unchecked Sendable {
    // @unchecked: the closures capture only key paths into `Config` and constants.
    public let path: String
    public let doc: String
    /// What the key accepts, for error messages and the key reference.
    public let expected: String
    /// Each choice with its meaning, for keys that choose among named values.
    public let choices: [(name: String, summary: String)]
    /// The key's value in a configuration, as YAML writes it.
    public let text: (Config) -> String
    let assign: (inout Config, ConfigInput) throws -> Void

    /// The key's default, as YAML writes it.
    public var defaultText: String { text(Config()) }

    static func field<T>(_ path: String, _ field: WritableKeyPath<Config, T>, expected: String,
                         choices: [(name: String, summary: String)] = [], _ doc: String,
                         parse: @escaping (ConfigInput) throws -> T, show: @escaping (T) -> String) -> ConfigKey {
        ConfigKey(path: path, doc: doc, expected: expected, choices: choices,
                  text: { show($0[keyPath: field]) },
                  assign: { config, input in config[keyPath: field] = try parse(input) })
    }

    /// A scalar parsed by `parse`, which returns nil for a value the key does not take.
    static func scalar<T>(_ path: String, _ field: WritableKeyPath<Config, T>, expected: String, _ doc: String,
                          parse: @escaping (String) -> T?, show: @escaping (T) -> String) -> ConfigKey {
        self.field(path, field, expected: expected, doc, parse: { input in
            guard case .scalar(let text) = input, let value = parse(text) else { throw ConfigValueRejected() }
            return value
        }, show: show)
    }

    static func integer(_ path: String, _ field: WritableKeyPath<Config, Int>, in range: ClosedRange<Int>,
                        _ doc: String) -> ConfigKey {
        let expected = range.upperBound == .max ? "an integer ≥ \(range.lowerBound)"
            : "an integer from \(range.lowerBound) to \(range.upperBound)"
        return scalar(path, field, expected: expected, doc, parse: { Int($0).flatMap { range.contains($0) ? $0 : nil } },
                      show: String.init)
    }

    static func number(_ path: String, _ field: WritableKeyPath<Config, Double>, in range: ClosedRange<Double>,
                       _ doc: String) -> ConfigKey {
        scalar(path, field, expected: ConfigText.expectedNumber(range), doc,
               parse: { Double($0).flatMap { $0.isFinite && range.contains($0) ? $0 : nil } }, show: ConfigText.number)
    }

    static func flag(_ path: String, _ field: WritableKeyPath<Config, Bool>, _ doc: String) -> ConfigKey {
        scalar(path, field, expected: "true or false", doc, parse: { text in
            switch text.lowercased() {
            case "true", "yes", "on": return true
            case "false", "no", "off": return false
            default: return nil
            }
        }, show: String.init)
    }

    static func text(_ path: String, _ field: WritableKeyPath<Config, String>, _ doc: String) -> ConfigKey {
        scalar(path, field, expected: "a string", doc, parse: { $0 }, show: ConfigText.quoted)
    }

    static func choice<T: ConfigChoice>(_ path: String, _ field: WritableKeyPath<Config, T>, _ doc: String) -> ConfigKey {
        let names = T.choices.map(\.configName)
        return self.field(path, field, expected: "one of " + names.joined(separator: ", "),
                          choices: T.choices.map { ($0.configName, $0.summary) }, doc,
                          parse: { input in
                              guard case .scalar(let text) = input, let value = T.choices.first(where: { $0.configName == text })
                              else { throw ConfigValueRejected() }
                              return value
                          }, show: \.configName)
    }

    /// A choice, or `none` for nil.
    static func optionalChoice<T: ConfigChoice>(_ path: String, _ field: WritableKeyPath<Config, T?>,
                                                none: String, _ doc: String) -> ConfigKey {
        let names = [none] + T.choices.map(\.configName)
        return self.field(path, field, expected: "one of " + names.joined(separator: ", "),
                          choices: [(none, "nothing")] + T.choices.map { ($0.configName, $0.summary) }, doc,
                          parse: { input in
                              guard case .scalar(let text) = input else { throw ConfigValueRejected() }
                              if text == none { return nil }
                              guard let value = T.choices.first(where: { $0.configName == text }) else {
                                  throw ConfigValueRejected()
                              }
                              return value
                          }, show: { $0?.configName ?? none })
    }

    /// One number for every block, or a list with one per block.
    static func perBlock(_ path: String, _ field: WritableKeyPath<Config, PerBlock>, in range: ClosedRange<Double>,
                         _ doc: String) -> ConfigKey {
        let number = { (text: String) in Double(text).flatMap { $0.isFinite && range.contains($0) ? $0 : nil } }
        return self.field(path, field, expected: ConfigText.expectedNumber(range) + ", or a list of them, one per block", doc,
                          parse: { input in
                              if case .scalar(let text) = input, let value = number(text) { return .all(value) }
                              let values = input.items.map(number)
                              guard !values.isEmpty, values.allSatisfy({ $0 != nil }) else { throw ConfigValueRejected() }
                              return .each(values.map { $0! })
                          }, show: \.description)
    }

    /// A list of block numbers (from 1), written `[1, 2]` or `1,2`.
    static func blockList(_ path: String, _ field: WritableKeyPath<Config, [Int]>, _ doc: String) -> ConfigKey {
        self.field(path, field, expected: "a list of block numbers from 1, e.g. [1, 2]", doc,
                   parse: { input in
                       do { return try BlockList.parse(input.items) } catch let error as BlockListError {
                           throw ConfigValueRejected(reason: error.description)
                       }
                   }, show: BlockList.text)
    }
}

/// How configuration values are written in YAML and described in messages.
enum ConfigText {
    /// A number as YAML writes it: integral values keep a ".0" so they read back as numbers.
    static func number(_ value: Double) -> String {
        value == value.rounded() && Swift.abs(value) < 1e15 ? String(format: "%.1f", value) : String(value)
    }

    /// A string, quoted when YAML would read it as something else.
    static func quoted(_ text: String) -> String {
        let plain = text.allSatisfy { $0.isLetter || $0.isNumber || "-_./:+".contains($0) }
        let ambiguous = Double(text) != nil || ["true", "false", "yes", "no", "null", "~", ""].contains(text.lowercased())
        return plain && !ambiguous ? text : "\"" + text.replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    static func expectedNumber(_ range: ClosedRange<Double>) -> String {
        range.upperBound == .greatestFiniteMagnitude ? "a number ≥ \(number(range.lowerBound))"
            : "a number from \(number(range.lowerBound)) to \(number(range.upperBound))"
    }
}

/// One value of a configuration: what YAML scalars and lists become once checked.
public enum ConfigValue: Equatable, Sendable, CustomStringConvertible {
    case int(Int)
    case double(Double)
    case bool(Bool)
    case string(String)
    case list([ConfigValue])

    public var description: String {
        switch self {
        case .int(let v): return String(v)
        case .double(let v): return v == v.rounded() && Swift.abs(v) < 1e15 ? String(format: "%.1f", v) : String(v)
        case .bool(let v): return String(v)
        case .string(let v): return v
        case .list(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
        }
    }

    /// The value as YAML: strings quoted when YAML would read them as something else.
    var yaml: String {
        switch self {
        case .string(let s):
            let plain = s.allSatisfy { $0.isLetter || $0.isNumber || "-_./:+".contains($0) }
            let ambiguous = Double(s) != nil || ["true", "false", "yes", "no", "null", "~", ""].contains(s.lowercased())
            return plain && !ambiguous ? s : "\"" + s.replacingOccurrences(of: "\"", with: "\\\"") + "\""
        case .list(let items): return "[" + items.map(\.yaml).joined(separator: ", ") + "]"
        default: return description
        }
    }
}

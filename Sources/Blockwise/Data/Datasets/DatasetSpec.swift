import Foundation

/// A dataset named as configs and the CLI name it: `KIND[:PATH][?key=value&…]`.
///
/// ```
/// fashion-mnist                   /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist)
/// mnist:/data/mnist               any MNIST-family IDX folder (also `idx:/path`)
/// cifar10  cifar100  stl10        binary versions, found in the default locations or at :PATH
/// folder:/data/imagenet/train     class subfolders of JPEG/PNG (size=224, skip-unreadable=true)
/// imagenet:/data/imagenet         a folder with train/ and val/ subfolders
/// synthetic:shapes?count=2000&size=32&seed=1
/// ```
/// Default locations, searched in order: `$BLOCKWISE_DATA`, `~/.cache/blockwise/data`,
/// `/usr/share/datasets`, each holding the dataset under its usual folder name.
public struct DatasetSpec: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable {
        case mnist, fashionMNIST = "fashion-mnist", idx, cifar10, cifar100, stl10, folder, imagenet, synthetic
    }

    public var kind: Kind
    /// The path after the colon (for `synthetic`, the generator's name).
    public var argument: String?
    public var options: [String: String]

    /// The real dataset every machine of the project can install: the default for real runs.
    public static let defaultReal = DatasetSpec(kind: .fashionMNIST, argument: nil, options: [:])
    /// The embedded dataset, for tests and machines with no data.
    public static let defaultSynthetic = DatasetSpec(kind: .synthetic, argument: "shapes", options: [:])

    public init(kind: Kind, argument: String? = nil, options: [String: String] = [:]) {
        self.kind = kind
        self.argument = argument
        self.options = options
    }

    /// Options each kind takes; every kind also takes `limit=N` (a seeded subset of N images).
    static let knownOptions: [Kind: Set<String>] = [
        .mnist: ["limit"], .fashionMNIST: ["limit"], .idx: ["classes", "limit"], .cifar10: ["limit"],
        .cifar100: ["coarse", "limit"], .stl10: ["limit"],
        .folder: ["size", "skip-unreadable", "test", "limit"], .imagenet: ["size", "skip-unreadable", "limit"],
        .synthetic: ["count", "size", "seed", "limit"],
    ]

    /// Parses `text`; errors name the spec and what was expected.
    public init(parsing text: String) throws {
        var body = Substring(text.trimmingCharacters(in: .whitespaces))
        var options: [String: String] = [:]
        if let q = body.firstIndex(of: "?") {
            for pair in body[body.index(after: q)...].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, !parts[0].isEmpty else {
                    throw DataError(text, "option '\(pair)' is not key=value")
                }
                options[String(parts[0])] = String(parts[1])
            }
            body = body[..<q]
        }
        let name: Substring, argument: String?
        if let colon = body.firstIndex(of: ":") {
            name = body[..<colon]
            let rest = body[body.index(after: colon)...]
            argument = rest.isEmpty ? nil : String(rest)
        } else {
            name = body
            argument = nil
        }
        guard let kind = Kind(rawValue: name.lowercased()) else {
            throw DataError(text, "unknown dataset '\(name)'; expected one of \(Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if [.idx, .folder].contains(kind), argument == nil {
            throw DataError(text, "'\(kind.rawValue)' needs a path, e.g. \(kind.rawValue):/data/train")
        }
        if kind == .synthetic, let argument, argument != "shapes" {
            throw DataError(text, "unknown synthetic dataset '\(argument)'; expected 'shapes'")
        }
        for key in options.keys where !(DatasetSpec.knownOptions[kind] ?? []).contains(key) {
            let known = (DatasetSpec.knownOptions[kind] ?? []).sorted()
            throw DataError(text, "unknown option '\(key)' for \(kind.rawValue)" +
                            (known.isEmpty ? " (it takes none)" : "; expected \(known.joined(separator: ", "))"))
        }
        self.init(kind: kind, argument: argument, options: options)
    }

    public var description: String {
        var text = kind.rawValue
        if let argument { text += ":" + argument }
        if !options.isEmpty { text += "?" + options.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "&") }
        return text
    }

    /// The side of the augmented views the paper's recipe uses for this dataset: 28 for the
    /// MNIST family, 32 for CIFAR-like and synthetic images, 96 for STL-10, 224 for ImageNet-like folders.
    public var imageSize: Int {
        get throws {
            switch kind {
            case .mnist, .fashionMNIST, .idx: return 28
            case .cifar10, .cifar100: return 32
            case .stl10: return 96
            case .folder, .imagenet: return try integer("size", default: 224)
            case .synthetic: return try integer("size", default: 32)
            }
        }
    }

    func integer(_ key: String, default value: Int) throws -> Int {
        guard let text = options[key] else { return value }
        guard let number = Int(text), number > 0 else { throw DataError(description, "option \(key)=\(text) is not a positive integer") }
        return number
    }

    func flag(_ key: String) throws -> Bool {
        guard let text = options[key] else { return false }
        switch text.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw DataError(description, "option \(key)=\(text) is not true or false")
        }
    }
}

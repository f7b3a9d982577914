import Foundation
import Yams

/// A sweep file (`blockwise sweep FILE.yaml`): a grid of pretraining runs, every named variant
/// with every seed, each run then probed at every block, to compare modes with error bars.
///
/// ```yaml
/// base: ../demo.yaml            # the configuration of every run (relative to this file)
/// set: [training.epochs=2]      # overrides of every run, as --set (optional)
/// seeds: [0, 1, 2]
/// probe_epochs: 20              # the linear probe's epochs (optional)
/// variants:
///   end-to-end: [training.mode=end-to-end]
///   simultaneous: []
///   block1-from-e2e: [training.mode=simultaneous, "training.init_from={end-to-end}"]
/// ```
///
/// A variant is a list of `--set` overrides. `{name}` in a value stands for the run directory
/// of variant `name` with the same seed, which must come earlier in the file: that run is
/// finished before this one starts.
public struct SweepPlan: Sendable {
    public struct Variant: Sendable {
        public var name: String
        public var overrides: [String]
        /// Variants whose runs this one's read (`{name}`).
        public var dependencies: [String]
    }

    /// One (variant, seed) pair.
    public struct Run: Sendable, Equatable {
        public var variant: String
        public var seed: Int
        /// The run directory's path inside the sweep's folder.
        public var name: String { "\(variant)/seed-\(seed)" }
    }

    public var source: String
    public var base: Config
    public var seeds: [Int]
    public var probeEpochs: Int
    public var variants: [Variant]

    /// Every run, seed by seed, variants in the file's order: an interrupted sweep has whole
    /// comparisons for its first seeds.
    public var runs: [Run] { seeds.flatMap { seed in variants.map { Run(variant: $0.name, seed: seed) } } }

    public static let defaultProbeEpochs = 20

    /// Reads and checks a sweep file: every variant's overrides are applied to the base once,
    /// so a bad key or value is an error naming the variant before any run starts.
    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(source: path, message: "cannot read the sweep file (missing or not readable)")
        }
        source = path
        let node: Node?
        do {
            node = try Yams.compose(yaml: String(decoding: data, as: UTF8.self))
        } catch {
            throw ConfigError(source: path, message: "not valid YAML: \(error)")
        }
        guard case .mapping(let root)? = node else {
            throw ConfigError(source: path, message: "expected a mapping with base, seeds and variants")
        }
        let allowed = ["base", "set", "seeds", "probe_epochs", "variants"]
        for key in root.keys.compactMap(\.string) where !allowed.contains(key) {
            throw ConfigError(source: path, message: "unknown key \"\(key)\" (a sweep file has \(allowed.joined(separator: ", ")))")
        }
        let folder = (path as NSString).deletingLastPathComponent
        var base = try root["base"].map { node -> Config in
            guard let file = node.string, !file.isEmpty else { throw ConfigError(source: path, message: "base: expected a configuration file's path") }
            return try Config(contentsOf: file.hasPrefix("/") ? file : (folder.isEmpty ? file : folder + "/" + file))
        } ?? Config()
        for assignment in try Self.list(root["set"], key: "set", path: path) {
            do {
                try base.set(assignment)
            } catch let error as ConfigError {
                throw ConfigError(source: path, message: "set: \(error)")
            }
        }
        self.base = base
        guard let seedNode = root["seeds"] else { throw ConfigError(source: path, message: "seeds: missing (e.g. seeds: [0, 1, 2])") }
        seeds = try Self.list(seedNode, key: "seeds", path: path).map { text in
            guard let seed = Int(text), seed >= 0 else { throw ConfigError(source: path, message: "seeds: \"\(text)\" is not a non-negative integer") }
            return seed
        }
        guard !seeds.isEmpty, Set(seeds).count == seeds.count else {
            throw ConfigError(source: path, message: "seeds: expected one or more different seeds, got \(seeds)")
        }
        probeEpochs = try root["probe_epochs"].map { node in
            guard let epochs = node.string.flatMap(Int.init), (1...10_000).contains(epochs) else {
                throw ConfigError(source: path, message: "probe_epochs: expected an integer from 1 to 10000, got \(node.string ?? "\(node)")")
            }
            return epochs
        } ?? Self.defaultProbeEpochs
        guard case .mapping(let variantNodes)? = root["variants"], !variantNodes.isEmpty else {
            throw ConfigError(source: path, message: "variants: expected a mapping of names to lists of key=value overrides")
        }
        var variants: [Variant] = []
        for (nameNode, overridesNode) in variantNodes {
            let name = nameNode.string ?? "\(nameNode)"
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }), !name.hasPrefix(".") else {
                throw ConfigError(source: path, message: "variant \"\(name)\": a name of letters, digits, - _ and . (it names a folder)")
            }
            let overrides = try Self.list(overridesNode, key: "variant \(name)", path: path)
            let dependencies = Self.placeholders(in: overrides)
            for dependency in dependencies where !variants.contains(where: { $0.name == dependency }) {
                throw ConfigError(source: path, message: "variant \(name): {\(dependency)} names no variant before it")
            }
            let variant = Variant(name: name, overrides: overrides, dependencies: dependencies)
            do {
                _ = try Self.config(base: base, variant: variant, seed: seeds[0], runPath: { "\($0.variant)/seed-\($0.seed)" })
            } catch let error as ConfigError {
                throw ConfigError(source: path, message: "variant \(name): \(error)")
            }
            variants.append(variant)
        }
        self.variants = variants
    }

    /// The configuration of one run: the base, the variant's overrides with `{name}` replaced
    /// by that variant's run path (`runPath`), and the seed.
    public func config(of run: Run, runPath: (Run) -> String) throws -> Config {
        let variant = variants.first { $0.name == run.variant }!
        return try Self.config(base: base, variant: variant, seed: run.seed, runPath: runPath)
    }

    static func config(base: Config, variant: Variant, seed: Int, runPath: (Run) -> String) throws -> Config {
        var config = base
        config.run.name = variant.name
        config.run.seed = seed
        for assignment in variant.overrides {
            var text = assignment
            for dependency in variant.dependencies {
                text = text.replacingOccurrences(of: "{\(dependency)}", with: runPath(Run(variant: dependency, seed: seed)))
            }
            try config.set(text)
        }
        return config
    }

    /// The run of `run`'s seed in each variant it depends on.
    public func dependencies(of run: Run) -> [Run] {
        variants.first { $0.name == run.variant }!.dependencies.map { Run(variant: $0, seed: run.seed) }
    }

    /// The names in `{name}` placeholders, in order of first appearance.
    static func placeholders(in overrides: [String]) -> [String] {
        var names: [String] = []
        for text in overrides {
            var rest = Substring(text)
            while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
                let name = String(rest[rest.index(after: open)..<close])
                if !names.contains(name) { names.append(name) }
                rest = rest[rest.index(after: close)...]
            }
        }
        return names
    }

    /// A YAML list of scalars (or one scalar), each as text.
    private static func list(_ node: Node?, key: String, path: String) throws -> [String] {
        switch node {
        case nil: return []
        case .scalar(let scalar)?: return ["", "~", "null"].contains(scalar.string) ? [] : [scalar.string]
        case .sequence(let items)?:
            return try items.map { item in
                guard let text = item.string else { throw ConfigError(source: path, message: "\(key): expected key=value items, got \(item)") }
                return text
            }
        default: throw ConfigError(source: path, message: "\(key): expected a list")
        }
    }
}

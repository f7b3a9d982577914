import ArgumentParser
import Blockwise

/// `--set path=value`, the one way every command overrides configuration keys.
struct ConfigOverrides: ParsableArguments {
    @Option(name: .customLong("set"),
            help: "Override one configuration key: path=value (repeatable; `blockwise config keys` lists them).")
    var assignments: [String] = []

    /// The configuration of `file` (the defaults when nil) with the overrides applied in order.
    func resolve(file: String?) throws -> Config {
        try apply(to: try file.map { try Config(contentsOf: $0) } ?? Config())
    }

    /// `config` with the overrides applied in order.
    func apply(to config: Config) throws -> Config {
        var config = config
        for assignment in assignments { try config.set(assignment) }
        return config
    }
}

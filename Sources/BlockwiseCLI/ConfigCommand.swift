import ArgumentParser
import Blockwise

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Show the configuration keys, or resolve a configuration file.",
        subcommands: [Keys.self, Show.self])

    struct Keys: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every configuration key with its default and meaning.")

        func run() {
            for key in ConfigSchema.keys {
                print("\(key.path) = \(key.defaultValue)  (\(key.expected))\n    \(key.doc)")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the resolved configuration, every default written out.")

        @Argument(help: "A YAML configuration file (defaults only when left out).")
        var file: String?

        @Option(name: .customLong("set"), help: "Override one key: path=value (repeatable).")
        var overrides: [String] = []

        func run() throws {
            var config = try file.map { try Config(contentsOf: $0) } ?? Config()
            for assignment in overrides { try config.set(assignment) }
            print(config.yaml(), terminator: "")
        }
    }
}

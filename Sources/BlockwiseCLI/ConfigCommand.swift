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
                print("\(key.path) = \(key.defaultText)  (\(key.expected))\n    \(key.doc)")
                for choice in key.choices { print("      \(choice.name): \(choice.summary)") }
            }
            for (old, new) in ConfigSchema.renamed.sorted(by: { $0.key < $1.key }) {
                print("\(old): renamed \(new), still read")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the resolved configuration, every default written out.")

        @Argument(help: "A YAML configuration file (defaults only when left out).")
        var file: String?

        @OptionGroup var overrides: ConfigOverrides

        func run() throws {
            print(try overrides.resolve(file: file).yaml(), terminator: "")
        }
    }
}

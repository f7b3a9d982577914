import ArgumentParser

@main
struct BlockwiseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blockwise",
        abstract: "Blockwise self-supervised learning at scale, in Swift over libtorch.",
        subcommands: [Doctor.self, Bench.self, Demo.self, ConfigCommand.self, Analyze.self, Report.self])
}

import ArgumentParser

@main
struct BlockwiseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blockwise",
        abstract: "Blockwise self-supervised learning at scale, in Swift over libtorch.",
        subcommands: [Doctor.self, Pretrain.self, ProbeCommand.self, Features.self, Analyze.self, Report.self,
                      Export.self, Bench.self, Demo.self, ConfigCommand.self])
}

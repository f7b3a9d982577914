import ArgumentParser
// Glibc's `stdout` is a C global that Swift 6 cannot prove safe; it is set once, before any thread starts.
@preconcurrency import Glibc

@main
struct BlockwiseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blockwise",
        abstract: "Blockwise self-supervised learning at scale, in Swift over libtorch.",
        subcommands: [Doctor.self, Pretrain.self, ProbeCommand.self, Features.self, Analyze.self, Report.self,
                      Export.self, Bench.self, SweepCommand.self, Demo.self, ConfigCommand.self])

    /// Runs the command with standard output written line by line. Redirected to a file, it
    /// would otherwise be written in blocks of 4 KiB, and a run killed with SIGKILL (an
    /// out-of-memory kill, a scheduler's) would lose its last log lines, such as where it resumed.
    static func main() {
        setvbuf(stdout, nil, _IOLBF, 0)
        main(nil)
    }
}

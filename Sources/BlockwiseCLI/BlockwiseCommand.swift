import ArgumentParser
// Glibc's `stdout` is a C global that Swift 6 cannot prove safe; it is set once, before any thread starts.
@preconcurrency import Glibc
import Torch

@main
struct BlockwiseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blockwise",
        abstract: "Blockwise self-supervised learning at scale, in Swift over libtorch.",
        subcommands: [Doctor.self, Pretrain.self, ProbeCommand.self, Features.self, Analyze.self, Report.self,
                      Export.self, Bench.self, SweepCommand.self, Demo.self, ConfigCommand.self])

    /// Runs the command with standard output written line by line, and malloc keeping freed
    /// memory (`HostAllocator.retain`), before the first tensor.
    ///
    /// Redirected to a file, output would otherwise be written in blocks of 4 KiB, and a run
    /// killed with SIGKILL (an out-of-memory kill, a scheduler's) would lose its last log lines,
    /// such as where it resumed. With glibc's malloc defaults each training step maps, faults in
    /// and unmaps its large tensors again, which cost the bench configuration's step a quarter
    /// of its speed (9.6 against 12.5 images/s); `BLOCKWISE_MALLOC=system` keeps the defaults.
    static func main() {
        setvbuf(stdout, nil, _IOLBF, 0)
        Runtime.configureHostAllocator()
        main(nil)
    }
}

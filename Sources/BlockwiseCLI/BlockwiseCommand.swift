import ArgumentParser
import Torch

@main
struct BlockwiseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blockwise",
        abstract: "Blockwise self-supervised learning at scale, in Swift over libtorch.",
        subcommands: [Doctor.self, Pretrain.self, ProbeCommand.self, Features.self, Analyze.self, Report.self,
                      Export.self, Bench.self, Demo.self, ConfigCommand.self])

    /// Every command starts with malloc keeping freed memory (`HostAllocator.retain`), before
    /// the first tensor: with glibc's defaults each training step maps, faults in and unmaps its
    /// large tensors again, which cost the bench configuration's step a quarter of its speed
    /// (9.6 against 12.5 images/s). `BLOCKWISE_MALLOC=system` keeps glibc's defaults.
    static func main() {
        Runtime.configureHostAllocator()
        main(nil)
    }
}

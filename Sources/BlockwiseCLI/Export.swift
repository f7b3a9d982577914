import ArgumentParser
import Blockwise

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a run's backbone with torchvision's names, for torchvision.models.resnet*.")

    @Option(name: .customLong("run"), help: "The run directory.")
    var runPath: String

    @Option(help: "The output .safetensors file.")
    var out: String

    func run() throws {
        let summary = try BackboneExport.write(run: RunDirectory(runPath), to: out)
        print("wrote \(out): \(summary.tensors) tensors of a \(summary.architecture) (stem \(summary.stem), width \(summary.width))")
        if let note = summary.torchvisionNote { print("note: " + note) }
    }
}

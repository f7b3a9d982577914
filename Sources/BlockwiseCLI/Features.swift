import ArgumentParser
import Blockwise

struct Features: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write one block's embeddings (GSP of its output) and labels of a dataset split to a safetensors file.")

    @OptionGroup var options: EvaluationOptions

    @Option(help: "Dataset spec (default: the run's data.dataset).")
    var data: String?

    @Option(help: "train, test, unlabeled or pretrain (unlabelled images get label -1).")
    var split: DatasetSplit = .test

    @Option(help: "The block (1-4).")
    var block: Int

    @Option(help: "The output .safetensors file (tensors `embeddings` [N, C] and `labels` [N]).")
    var out: String

    func validate() throws {
        _ = try parseBlocks("\(block)", option: "--block")
    }

    func run() throws {
        let evaluation = try options.open()
        let dataset = try data.map { try DatasetSpec(parsing: $0) } ?? evaluation.trainingDataset
        let set = try evaluation.writeFeatures(data: dataset, split: split, block: block, to: out)
        print("wrote \(out): \(set.count) embeddings of dimension \(set.dimension) (\(dataset)/\(split.rawValue), block \(block))")
    }
}

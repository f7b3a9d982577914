import ArgumentParser
import Blockwise
import Torch

/// The options every command that evaluates a run's backbone shares (`probe`, `features`,
/// `analyze correlation|corruptions`).
struct EvaluationOptions: ParsableArguments {
    @Option(help: "The run directory (made by `blockwise pretrain`).")
    var run: String

    @Option(help: "cpu, cuda, cuda:N or auto (default: the run's run.device).")
    var device: String?

    @Option(help: "Images per forward pass.")
    var batchSize = 256

    @Option(help: "libtorch CPU threads (default: every core).")
    var threads: Int?

    func validate() throws {
        if let device, Device(device) == nil {
            throw ValidationError("--device \(device): expected cpu, cuda, cuda:N or auto")
        }
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive, got \(batchSize)") }
        if let threads, threads <= 0 { throw ValidationError("--threads must be positive, got \(threads)") }
    }

    /// Sets the thread count and opens the run.
    func open() throws -> RunEvaluation {
        Runtime.threads = threads ?? Runtime.coreCount
        return try RunEvaluation(run: RunDirectory(run), device: device.flatMap(Device.init), batchSize: batchSize)
    }
}

/// "1,2,3,4" → [1, 2, 3, 4], checked against the backbone's blocks.
func parseBlocks(_ text: String, option: String) throws -> [Int] {
    let blocks = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard !blocks.isEmpty, blocks.allSatisfy({ $0 != nil }) else {
        throw ValidationError("\(option) \(text): expected block numbers separated by commas, e.g. 1,2,3,4")
    }
    try validateBlocks(blocks.map { $0! }, option: option)
    return blocks.map { $0! }
}

/// Checks block numbers against the backbone's blocks (its four stages).
func validateBlocks(_ blocks: [Int], option: String) throws {
    do {
        try FeatureExtractor.validate(blocks: blocks)
    } catch let error as RunError {
        throw ValidationError("\(option): \(error)")
    }
}

extension DatasetSplit: ExpressibleByArgument {}
extension Probe.Method: ExpressibleByArgument {}

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

/// "1,2,3,4" → [1, 2, 3, 4] (the syntax of block lists everywhere, `BlockList`), checked
/// against the backbone's blocks (its four stages).
func parseBlocks(_ text: String, option: String) throws -> [Int] {
    do {
        let blocks = try BlockList.parse(text)
        try FeatureExtractor.validate(blocks: blocks)
        return blocks
    } catch let error as BlockListError {
        throw ValidationError("\(option) \(text): \(error)")
    } catch let error as RunError {
        throw ValidationError("\(option): \(error)")
    }
}

extension DatasetSplit: ExpressibleByArgument {}
extension Probe.Method: ExpressibleByArgument {}

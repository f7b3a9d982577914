import Foundation
import Torch

/// Where training stands, beyond the tensors: enough to continue exactly where it stopped.
public struct TrainingState: Codable, Equatable, Sendable {
    /// The phase (sequential mode: the block being trained) and its step count, which drives
    /// the learning-rate schedule.
    public var phase = 0
    public var phaseStep = 0
    /// Steps over all phases: the step of metrics and event files.
    public var globalStep = 0
    /// The next batch to train on.
    public var position = DataPosition()
    /// Sums for the current epoch's means, so a resumed epoch reports the same means.
    public var lossSums: [Double] = []
    public var lossCounts: [Int] = []
    public var probeCorrect: [Int] = []
    public var probeSeen: [Int] = []

    public init() {}
}

/// One checkpoint file: `checkpoints/step-NNNNNNNN.safetensors`, written atomically, with
/// `checkpoints/last.safetensors` a hard link to the newest. Tensors are named by their
/// owner: `model.*` (the network's state dict), `optimizer.*`, `probe.*`,
/// `probe_optimizer.*`, `rng.noise`; the rest is JSON in the metadata.
public enum Checkpoint {
    public static let format = "blockwise-checkpoint/1"

    public struct Contents {
        public var tensors: [String: Tensor]
        public var state: TrainingState
        public var optimizer: OptimizerState
        public var probeOptimizer: OptimizerState
    }

    /// Writes a checkpoint and returns its path; keeps the newest `keep` numbered files.
    @discardableResult
    public static func write(run: RunDirectory, state: TrainingState, setup: TrainingSetup, keep: Int) throws -> String {
        var tensors: [(String, Tensor)] = setup.network.orderedStateDict().map { ("model." + $0.name, $0.tensor) }
        let optimizerState = setup.optimizer.stateDict()
        tensors += optimizerState.tensors.sorted { $0.key < $1.key }.map { ("optimizer." + $0.key, $0.value) }
        if let probe = setup.probe { tensors += probe.orderedStateDict().map { ("probe." + $0.name, $0.tensor) } }
        let probeState = setup.probe?.optimizer.stateDict() ?? OptimizerState()
        tensors += probeState.tensors.sorted { $0.key < $1.key }.map { ("probe_optimizer." + $0.key, $0.value) }
        tensors.append(("rng.noise", setup.noiseGenerator.state))
        let metadata = [
            "format": format,
            "state": try json(state),
            "optimizer_scalars": try json(optimizerState.scalars),
            "probe_optimizer_scalars": try json(probeState.scalars),
        ]
        let name = String(format: "step-%08d.safetensors", state.globalStep)
        let path = run.checkpointsPath + "/" + name
        try SafeTensors.write(tensors, metadata: metadata, to: path)
        try link(path, as: run.checkpointsPath + "/last.safetensors")
        try prune(run.checkpointsPath, keep: keep)
        return path
    }

    /// Reads `checkpoints/last.safetensors` of a run, nil when there is none.
    public static func readLast(run: RunDirectory) throws -> Contents? {
        let path = run.checkpointsPath + "/last.safetensors"
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let file = try SafeTensors.read(contentsOf: path)
        guard file.metadata["format"] == format else {
            throw RunError("\(path): not a Blockwise checkpoint (format \(file.metadata["format"] ?? "missing"), expected \(format))")
        }
        func decode<T: Decodable>(_ key: String, _ type: T.Type) throws -> T {
            guard let text = file.metadata[key], let value = try? JSONDecoder().decode(T.self, from: Data(text.utf8)) else {
                throw RunError("\(path): metadata \"\(key)\" is missing or unreadable")
            }
            return value
        }
        return Contents(
            tensors: file.tensors,
            state: try decode("state", TrainingState.self),
            optimizer: OptimizerState(tensors: owned(file.tensors, prefix: "optimizer."), scalars: try decode("optimizer_scalars", [String: Double].self)),
            probeOptimizer: OptimizerState(tensors: owned(file.tensors, prefix: "probe_optimizer."),
                                           scalars: try decode("probe_optimizer_scalars", [String: Double].self)))
    }

    /// Puts a checkpoint's weights, optimizer states and noise stream into a set-up built from
    /// the run's configuration, and returns where training stood.
    public static func restore(_ contents: Contents, into setup: TrainingSetup, run: RunDirectory) throws -> TrainingState {
        do {
            _ = try setup.network.load(stateDict: owned(contents.tensors, prefix: "model."))
            try setup.optimizer.load(stateDict: contents.optimizer)
            if let probe = setup.probe {
                _ = try probe.load(stateDict: owned(contents.tensors, prefix: "probe."))
                try probe.optimizer.load(stateDict: contents.probeOptimizer)
            }
            if let noise = contents.tensors["rng.noise"] { setup.noiseGenerator.state = noise }
        } catch {
            throw RunError("\(run.checkpointsPath)/last.safetensors does not fit this run: \(error)")
        }
        return contents.state
    }

    private static func owned(_ tensors: [String: Tensor], prefix: String) -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: tensors.filter { $0.key.hasPrefix(prefix) }
            .map { (String($0.key.dropFirst(prefix.count)), $0.value) })
    }

    private static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Points `target` at `source` atomically: a hard link under a temporary name, then rename.
    private static func link(_ source: String, as target: String) throws {
        let temporary = target + ".tmp"
        unlink(temporary)
        guard Foundation.link(source, temporary) == 0, rename(temporary, target) == 0 else {
            throw RunError("cannot point \(target) at \(source): \(String(cString: strerror(errno)))")
        }
    }

    private static func prune(_ folder: String, keep: Int) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder)
            .filter { $0.hasPrefix("step-") && $0.hasSuffix(".safetensors") }.sorted()
        for name in names.dropLast(keep) { try FileManager.default.removeItem(atPath: folder + "/" + name) }
    }
}

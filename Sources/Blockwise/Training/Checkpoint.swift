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
/// `probe_optimizer.*`, `rng.noise.K` (block K's noise stream); the rest is JSON in the metadata.
public enum Checkpoint {
    public static let format = "blockwise-checkpoint/1"

    public struct Contents {
        /// The file read.
        public var path: String
        public var tensors: [String: Tensor]
        public var state: TrainingState
        public var optimizer: OptimizerState
        public var probeOptimizer: OptimizerState
    }

    /// Writes a checkpoint and returns its path; keeps the newest `keep` numbered files.
    @discardableResult
    /// `replicaNoise` holds the other data-parallel replicas' noise streams (by replica, then block).
    public static func write(run: RunDirectory, state: TrainingState, setup: TrainingSetup, keep: Int,
                             replicaNoise: [[Tensor]] = []) throws -> String {
        var tensors: [(String, Tensor)] = setup.network.orderedStateDict().map { ("model." + $0.name, $0.tensor) }
        let optimizerState = setup.optimizer.stateDict()
        tensors += optimizerState.tensors.sorted { $0.key < $1.key }.map { ("optimizer." + $0.key, $0.value) }
        if let probe = setup.probe { tensors += probe.orderedStateDict().map { ("probe." + $0.name, $0.tensor) } }
        let probeState = setup.probe?.optimizer.stateDict() ?? OptimizerState()
        tensors += probeState.tensors.sorted { $0.key < $1.key }.map { ("probe_optimizer." + $0.key, $0.value) }
        tensors += setup.noise.generators.indices.map { (NoiseStreams.key(block: $0), setup.noise[$0].state) }
        for (replica, streams) in replicaNoise.enumerated() where replica > 0 {
            tensors += streams.enumerated().map { (NoiseStreams.key(block: $0.offset, replica: replica), $0.element) }
        }
        tensors += setup.routing?.checkpointTensors ?? []
        let metadata = [
            "format": format,
            "state": try json(state),
            "optimizer_scalars": try json(optimizerState.scalars),
            "probe_optimizer_scalars": try json(probeState.scalars),
        ]
        let name = String(format: "step-%08d.safetensors", state.globalStep)
        let path = run.checkpointsPath + "/" + name
        try SafeTensors.write(tensors, metadata: metadata, to: path)
        try link(path, as: lastPath(run))
        try prune(run.checkpointsPath, keep: keep)
        return path
    }

    /// Reads `checkpoints/last.safetensors` of a run, nil when there is none.
    public static func readLast(run: RunDirectory) throws -> Contents? {
        FileManager.default.fileExists(atPath: lastPath(run)) ? try read(lastPath(run)) : nil
    }

    /// The checkpoint a run resumes from: `last.safetensors`, or, when that is missing, does
    /// not read whole (a crash, a full disk, a file copied in part) or holds what no run of
    /// `setup` writes (`validate`: a damaged or edited file), the newest step file that reads and
    /// fits. Each file passed over is logged with why. Nil when the run has no checkpoint file;
    /// an error when it has some and none serves, rather than a silent restart from step 0.
    public static func readNewest(run: RunDirectory, for setup: TrainingSetup, log: (String) -> Void) throws -> Contents? {
        let steps = try stepFiles(run.checkpointsPath).reversed().map { run.checkpointsPath + "/" + $0 }
        let hasLast = FileManager.default.fileExists(atPath: lastPath(run))
        guard hasLast || !steps.isEmpty else { return nil }
        var problems = hasLast ? [] : ["\(lastPath(run)) is missing"]
        // `last` is a hard link to the newest step file: when one is damaged, so is the other.
        for path in (hasLast ? [lastPath(run)] : []) + steps {
            let contents: Contents
            do {
                contents = try read(path)
            } catch {
                problems.append("\(path) does not read: \(error)")
                continue
            }
            do {
                try validate(contents, for: setup)
            } catch {
                // The refusal names the file already.
                problems.append("\(error)")
                continue
            }
            for problem in problems { log(problem + ": passed over") }
            return contents
        }
        throw RunError("\(run.path) has no readable checkpoint:\n  " + problems.joined(separator: "\n  ")
            + "\nto start the run again from step 0, remove \(run.checkpointsPath)")
    }

    /// Renames the step files numbered after `step` (the one resumed from) to
    /// `step-N.safetensors.set-aside-PID`, so that the resumed run neither prunes nor overwrites
    /// them: they may be newer than the run can read (another version's format, a file still
    /// arriving over the network) and are left for a person to judge. Returns the new paths.
    @discardableResult
    public static func setAside(after step: Int, run: RunDirectory, log: (String) -> Void) throws -> [String] {
        try stepFiles(run.checkpointsPath).filter { stepNumber($0).map { $0 > step } ?? false }.map { name in
            let path = run.checkpointsPath + "/" + name
            let aside = path + ".set-aside-\(getpid())"
            guard rename(path, aside) == 0 else {
                throw RunError("cannot set \(path) aside as \(aside): \(String(cString: strerror(errno)))")
            }
            log("set aside \(path), newer than the checkpoint resumed from, as \(aside)")
            return aside
        }
    }

    /// Reads one checkpoint file whole: every tensor and the metadata.
    private static func read(_ path: String) throws -> Contents {
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
            path: path,
            tensors: file.tensors,
            state: try decode("state", TrainingState.self),
            optimizer: OptimizerState(tensors: owned(file.tensors, prefix: "optimizer."), scalars: try decode("optimizer_scalars", [String: Double].self)),
            probeOptimizer: OptimizerState(tensors: owned(file.tensors, prefix: "probe_optimizer."),
                                           scalars: try decode("probe_optimizer_scalars", [String: Double].self)))
    }

    /// Puts a checkpoint's weights, optimizer states and noise stream into a set-up built from
    /// the run's configuration, and returns where training stood.
    public static func restore(_ contents: Contents, into setup: TrainingSetup) throws -> TrainingState {
        try validate(contents, for: setup)
        do {
            _ = try setup.network.load(stateDict: owned(contents.tensors, prefix: "model."))
            try setup.optimizer.load(stateDict: contents.optimizer)
            if let probe = setup.probe {
                _ = try probe.load(stateDict: owned(contents.tensors, prefix: "probe."))
                try probe.optimizer.load(stateDict: contents.probeOptimizer)
            }
            // Checkpoints before the streams were per block hold one, `rng.noise`: its stream
            // cannot be split, so such a run resumes with fresh streams.
            // Each data-parallel replica takes its own streams where the checkpoint has them (a run
            // of as many processes or more); one it lacks keeps its fresh streams.
            let replica = setup.placement?.replica ?? setup.launch.rank
            for k in setup.noise.generators.indices {
                if let stream = contents.tensors[NoiseStreams.key(block: k, replica: replica)] { setup.noise[k].state = stream }
            }
            try setup.routing?.restore(contents.tensors, path: contents.path)
        } catch {
            throw RunError("\(contents.path) does not fit this run: \(error)")
        }
        return contents.state
    }

    /// Refuses a checkpoint that reads whole but that no run of `setup` writes: a state out of
    /// range, a tensor of another dtype. The error names the file.
    private static func validate(_ contents: Contents, for setup: TrainingSetup) throws {
        try check(contents.state, plan: setup.plan, blocks: setup.network.partition.count, path: contents.path)
        try checkDTypes(contents.tensors, of: setup.network, prefix: "model.", path: contents.path)
        if let probe = setup.probe { try checkDTypes(contents.tensors, of: probe, prefix: "probe.", path: contents.path) }
    }

    /// Refuses a state no run of this plan reaches (a damaged or edited file), which would
    /// otherwise train from a negative step, skip phases silently, or index past the sums.
    private static func check(_ state: TrainingState, plan: TrainingPlan, blocks: Int, path: String) throws {
        func refusal(_ problem: String) -> RunError { RunError("\(path): the training state \(problem)") }
        guard state.globalStep >= 0, (0...state.globalStep).contains(state.phaseStep) else {
            throw refusal("counts \(state.globalStep) steps, \(state.phaseStep) of them in its phase: neither can be negative, nor the phase's exceed the run's")
        }
        // A finished run's last checkpoint stands one past its last phase.
        guard (0...plan.phases.count).contains(state.phase) else {
            throw refusal("is in phase \(state.phase) (from 0) of a plan of \(plan.phases.count)")
        }
        guard state.position.epoch >= 0, state.position.index >= 0 else {
            throw refusal("is at a negative data position (\(state.position))")
        }
        let sums = [state.lossSums.count, state.lossCounts.count, state.probeCorrect.count, state.probeSeen.count]
        guard sums.allSatisfy({ $0 == 0 || $0 == blocks }) else {
            throw refusal("holds epoch sums for \(sums) blocks, the network has \(blocks)")
        }
    }

    /// A checkpoint holds each tensor in its module's dtype: another one means a damaged or
    /// edited file, whose bytes `load` would convert into other numbers without a word.
    private static func checkDTypes(_ tensors: [String: Tensor], of module: Module, prefix: String, path: String) throws {
        for (name, own) in module.stateDict() {
            if let saved = tensors[prefix + name], saved.dtype != own.dtype {
                throw RunError("\(path): \(prefix + name) is stored as \(saved.dtype), the model holds it as \(own.dtype)")
            }
        }
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

    private static func lastPath(_ run: RunDirectory) -> String { run.checkpointsPath + "/last.safetensors" }

    /// Points `target` at `source` atomically: a hard link under a temporary name, then rename.
    /// The temporary is named as `RunDirectory.removeTemporaries` expects.
    private static func link(_ source: String, as target: String) throws {
        let temporary = (target as NSString).deletingLastPathComponent + "/." + (target as NSString).lastPathComponent
            + ".tmp-\(getpid())"
        unlink(temporary)
        guard Foundation.link(source, temporary) == 0, rename(temporary, target) == 0 else {
            throw RunError("cannot point \(target) at \(source): \(String(cString: strerror(errno)))")
        }
    }

    private static func prune(_ folder: String, keep: Int) throws {
        for name in try stepFiles(folder).dropLast(keep) { try FileManager.default.removeItem(atPath: folder + "/" + name) }
    }

    /// The names of the numbered checkpoint files in `folder`, oldest first.
    private static func stepFiles(_ folder: String) throws -> [String] {
        guard FileManager.default.fileExists(atPath: folder) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: folder).filter { stepNumber($0) != nil }.sorted()
    }

    /// N of `step-N.safetensors`.
    private static func stepNumber(_ name: String) -> Int? {
        guard name.hasPrefix("step-"), name.hasSuffix(".safetensors") else { return nil }
        return Int(name.dropFirst("step-".count).dropLast(".safetensors".count))
    }
}

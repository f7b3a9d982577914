import Foundation
import Torch

/// The files a pretraining run leaves behind (DESIGN.md, "Run directory"):
///
///     RUN/config.yaml            resolved configuration (every default written out)
///     RUN/metrics.jsonl          one JSON object per logged step or epoch
///     RUN/checkpoints/           model + optimizer + schedule + RNG + data position
///     RUN/backbone.safetensors   backbone weights with torchvision's names
///     RUN/probe.json             per-block evaluation (after `blockwise probe`)
///     RUN/report.html            plots and tables (after `blockwise report`)
///     RUN/.lock                  locked by the process that writes the run (`RunLock`)
public struct RunDirectory: Sendable {
    public let path: String

    public init(_ path: String) { self.path = path }

    public var configPath: String { path + "/config.yaml" }
    public var metricsPath: String { path + "/metrics.jsonl" }
    public var checkpointsPath: String { path + "/checkpoints" }
    public var backbonePath: String { path + "/backbone.safetensors" }
    public var probePath: String { path + "/probe.json" }
    public var correlationPath: String { path + "/correlation.json" }
    public var corruptionsPath: String { path + "/corruptions.json" }
    public var reportPath: String { path + "/report.html" }
    public var tensorboardPath: String { path + "/tensorboard" }

    /// Creates the folder (and its checkpoints folder) if needed.
    public func create() throws {
        do {
            try FileManager.default.createDirectory(atPath: checkpointsPath, withIntermediateDirectories: true)
        } catch {
            throw RunError("cannot create the run directory \(path): \(error.localizedDescription)")
        }
    }

    /// Starts a run here: the folders and the resolved config.yaml, every default written out.
    public func create(config: Config) throws {
        try create()
        do {
            try config.yaml().write(toFile: configPath, atomically: true, encoding: .utf8)
        } catch {
            throw RunError("cannot write \(configPath): \(error.localizedDescription)")
        }
    }

    /// Removes the temporary files of atomic writes that a killed process left in the run and
    /// its checkpoints folder, and returns their paths. Every atomic write of a run names its
    /// temporary `.NAME.tmp-…` beside NAME (`SafeTensors.write`; `Checkpoint`'s link to the
    /// last checkpoint). Only the run's writer, holding its lock, may call this: another
    /// writer's temporaries would be files being written.
    @discardableResult
    public func removeTemporaries() throws -> [String] {
        var removed: [String] = []
        for folder in [path, checkpointsPath] {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            for name in names where name.hasPrefix(".") && name.contains(".tmp-") {
                do {
                    try FileManager.default.removeItem(atPath: folder + "/" + name)
                } catch {
                    throw RunError("cannot remove \(folder)/\(name), left by an interrupted write: \(error.localizedDescription)")
                }
                removed.append(folder + "/" + name)
            }
        }
        return removed
    }

    /// Drops what metrics.jsonl and the TensorBoard event files hold of the steps after `step`:
    /// a run resumed from the checkpoint of `step` logs those steps again.
    public func rewindLogs(throughStep step: Int) throws {
        try MetricsLog.rewind(path: metricsPath, throughStep: step)
        try TensorBoardWriter.rewind(directory: tensorboardPath, throughStep: step)
    }

    /// Checks that this is a run directory: it has a config.yaml.
    public func requireExisting() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw RunError("\(path): no such run directory")
        }
        guard FileManager.default.fileExists(atPath: configPath) else {
            throw RunError("\(path): not a run directory (no config.yaml; runs are made by `blockwise pretrain`)")
        }
    }

    /// The run's resolved configuration.
    public func config() throws -> Config {
        try requireExisting()
        return try Config(contentsOf: configPath)
    }

    /// The trained backbone: the architecture of config.yaml with the weights of backbone.safetensors.
    /// Weights that are not all finite are refused, naming the file and the first such tensor:
    /// every feature would be NaN, and a probe would score chance without a word.
    public func loadBackbone() throws -> ResNet { try loadFingerprintedBackbone().backbone }

    /// The backbone and the fingerprint of the file it was read from, both from one read: a
    /// training run replaces backbone.safetensors each epoch, and two reads could see two files,
    /// caching one epoch's features under the next one's key.
    func loadFingerprintedBackbone() throws -> (backbone: ResNet, fingerprint: String) {
        let config = try self.config()
        guard let data = FileManager.default.contents(atPath: backbonePath) else {
            throw RunError("\(path): no backbone.safetensors yet (the run has not finished an epoch)")
        }
        let bytes = [UInt8](data)
        let backbone = ResNet(config.model)
        do {
            _ = try backbone.load(stateDict: try SafeTensors.read(bytes: bytes, name: backbonePath).tensors)
        } catch {
            throw RunError("\(backbonePath): \(error)")
        }
        let nonFinite = backbone.orderedStateDict().first { $0.tensor.dtype.isFloatingPoint && $0.tensor.isFinite().all().item() == 0 }
        if let nonFinite {
            throw RunError("\(backbonePath): \(nonFinite.name) holds NaN or infinite values; the weights are unusable "
                + "(a diverged run, or a damaged file)")
        }
        return (backbone, FileFingerprint.of(bytes: bytes))
    }
}

extension Module {
    /// Loads weights from a safetensors file with strict name and shape checks.
    public func load(safetensors path: String, strict: Bool = true) throws {
        let file = try SafeTensors.read(contentsOf: path)
        do {
            _ = try load(stateDict: file.tensors, strict: strict)
        } catch {
            throw RunError("\(path): \(error)")
        }
    }

    /// Writes the state dict (PyTorch's names and order) atomically to a safetensors file.
    public func save(safetensors path: String, metadata: [String: String]? = nil) throws {
        try SafeTensors.write(orderedStateDict().map { ($0.name, $0.tensor) }, metadata: metadata, to: path)
    }
}

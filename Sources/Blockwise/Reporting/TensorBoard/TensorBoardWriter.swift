import Foundation

/// Scalars in a TensorBoard event file, RUN/tensorboard/events.out.tfevents.<seconds>.<host>,
/// that `tensorboard --logdir RUN/tensorboard` reads. The file is a TFRecord stream: each
/// record is its length (uint64), the masked CRC-32C of the length, an `Event` protobuf and
/// the masked CRC-32C of the event, all little-endian. Records are flushed as written.
public final class TensorBoardWriter: @unchecked Sendable {
    public let path: String
    private let handle: FileHandle

    /// Starts a new event file in `directory` (created if needed).
    public init(directory: String, wallTime: Double = Date().timeIntervalSince1970,
                host: String = ProcessInfo.processInfo.hostName) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw RunError("cannot create \(directory): \(error.localizedDescription)")
        }
        path = directory + "/events.out.tfevents.\(Int(wallTime)).\(host)"
        guard FileManager.default.createFile(atPath: path, contents: nil),
              let handle = FileHandle(forWritingAtPath: path) else { throw RunError("cannot create \(path)") }
        self.handle = handle
        write(EventProtobuf.fileVersion(wallTime: wallTime))
    }

    deinit { try? handle.close() }

    /// Writes scalars (tag, value) logged at one step.
    public func add(_ scalars: [(tag: String, value: Double)], step: Int, wallTime: Double = Date().timeIntervalSince1970) {
        guard !scalars.isEmpty else { return }
        write(EventProtobuf.scalars(scalars.map { ($0.tag, Float($0.value)) }, step: step, wallTime: wallTime))
    }

    /// Writes the scalars of one RUN/metrics.jsonl record (see `TensorBoardWriter.scalars(of:)`).
    public func add(record: [String: Any], wallTime: Double = Date().timeIntervalSince1970) {
        guard let step = (record["step"] as? NSNumber)?.intValue else { return }
        add(Self.scalars(of: record), step: step, wallTime: wallTime)
    }

    /// The scalars of a metrics record: step records give `loss/block_K`, `lr`,
    /// `images_per_second` and `peak_memory_mb`; epoch records give `epoch_loss/block_K` and
    /// `online_probe_top1/block_K`. Null entries (a block without a loss) are left out.
    public static func scalars(of record: [String: Any]) -> [(tag: String, value: Double)] {
        var scalars: [(tag: String, value: Double)] = []
        func perBlock(_ key: String, _ tag: String) {
            guard let values = record[key] as? [Any] else { return }
            for (index, value) in values.enumerated() {
                if let number = value as? NSNumber { scalars.append(("\(tag)/block_\(index + 1)", number.doubleValue)) }
            }
        }
        func single(_ key: String) {
            if let number = record[key] as? NSNumber { scalars.append((key, number.doubleValue)) }
        }
        if record["kind"] as? String == "epoch" {
            perBlock("loss", "epoch_loss")
            perBlock("online_probe_top1", "online_probe_top1")
        } else {
            perBlock("loss", "loss")
            single("lr")
            single("images_per_second")
            single("peak_memory_mb")
        }
        return scalars
    }

    private func write(_ event: [UInt8]) {
        let length = littleEndian(UInt64(event.count))
        let record = length + littleEndian(CRC32C.masked(length)) + event + littleEndian(CRC32C.masked(event))
        handle.write(Data(record))
    }
}

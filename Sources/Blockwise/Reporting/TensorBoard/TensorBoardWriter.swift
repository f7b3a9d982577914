import Foundation

/// Scalars in a TensorBoard event file, RUN/tensorboard/events.out.tfevents.<seconds>.<host>
/// (with `.N` added when that file exists), that `tensorboard --logdir RUN/tensorboard` reads.
/// The file is a TFRecord stream (`TFRecord`): each record is its length (uint64), the masked
/// CRC-32C of the length, an `Event` protobuf and the masked CRC-32C of the event, all
/// little-endian. Records are flushed as written.
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
        // A run resumed within the second it stopped must not truncate the file it stopped in:
        // the suffix sorts after it, and TensorBoard reads a folder's files in name order.
        let base = directory + "/" + Self.fileNamePrefix + "\(Int(wallTime)).\(host)"
        var path = base
        var descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        var suffix = 0
        while descriptor < 0 && errno == EEXIST {
            suffix += 1
            path = base + ".\(suffix)"
            descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        }
        guard descriptor >= 0 else { throw RunError("cannot create \(path): \(String(cString: strerror(errno)))") }
        self.path = path
        handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        write(EventProtobuf.fileVersion(wallTime: wallTime))
    }

    /// What every event file's name starts with: TensorBoard reads the files named so.
    static let fileNamePrefix = "events.out.tfevents."

    deinit { try? handle.close() }

    /// Writes scalars (tag, value) logged at one step.
    public func add(_ scalars: [(tag: String, value: Double)], step: Int, wallTime: Double = Date().timeIntervalSince1970) {
        guard !scalars.isEmpty else { return }
        write(EventProtobuf.scalars(scalars.map { ($0.tag, Float($0.value)) }, step: step, wallTime: wallTime))
    }

    /// Writes the scalars of one RUN/metrics.jsonl record (see `TensorBoardWriter.scalars(of:)`).
    public func add(record: MetricsRecord, wallTime: Double = Date().timeIntervalSince1970) {
        add(Self.scalars(of: record), step: record.step, wallTime: wallTime)
    }

    /// The scalars of a metrics record: step records give `loss/E`, `lr`, `images_per_second`
    /// and `peak_memory_mb`; epoch records give `epoch_loss/E`, `online_probe_top1/E` and
    /// `skipped_images` (with `skip-unreadable`), where
    /// E is `block_K` or `network` (the record's `entryName`). Null entries (a block without a
    /// loss) are left out.
    public static func scalars(of record: MetricsRecord) -> [(tag: String, value: Double)] {
        func perEntry(_ tag: String, _ values: [Double?]?) -> [(tag: String, value: Double)] {
            (values ?? []).enumerated().compactMap { index, value in
                value.map { ("\(tag)/\(record.entryName(index, separator: "_"))", $0) }
            }
        }
        func single(_ tag: String, _ value: Double?) -> [(tag: String, value: Double)] {
            value.map { [(tag, $0)] } ?? []
        }
        switch record.kind {
        case .step:
            return perEntry("loss", record.loss) + single("lr", record.lr)
                + single("images_per_second", record.imagesPerSecond) + single("peak_memory_mb", record.peakMemoryMB)
        case .epoch:
            return perEntry("epoch_loss", record.loss) + perEntry("online_probe_top1", record.onlineProbeTop1)
                + single("skipped_images", record.skippedImages.map(Double.init))
        }
    }

    private func write(_ event: [UInt8]) {
        let length = littleEndian(UInt64(event.count))
        let record = length + littleEndian(CRC32C.masked(length)) + event + littleEndian(CRC32C.masked(event))
        handle.write(Data(record))
    }
}

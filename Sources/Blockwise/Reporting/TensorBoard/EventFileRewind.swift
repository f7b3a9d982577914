import Foundation

extension TensorBoardWriter {
    /// Drops the events of steps after `step` from every event file in `directory`, as
    /// `MetricsLog.rewind` drops records: a resumed run logs those steps again, in a new file.
    /// TensorBoard reads every event file of a run's folder in name order and would otherwise
    /// show the repeated steps twice (its Python reader purges them only after a `SessionLog`
    /// restart event, which RustBoard ignores; rewinding serves every reader). A record whose
    /// length or checksum does not hold (torn by a crash) ends its file, as it ends TensorBoard's
    /// reading. A file that changes is rewritten atomically.
    public static func rewind(directory: String, throughStep step: Int) throws {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names where name.hasPrefix(fileNamePrefix) {
            let path = directory + "/" + name
            guard let data = FileManager.default.contents(atPath: path) else { throw RunError("cannot read \(path)") }
            let bytes = [UInt8](data)
            let records = TFRecord.records(in: bytes)
            let kept = records.filter { EventProtobuf.step(of: bytes[$0.event]).map { $0 <= step } ?? false }
            guard kept.count < records.count || records.last?.whole.upperBound ?? 0 < bytes.count else { continue }
            let text = kept.reduce(into: Data()) { $0.append(contentsOf: bytes[$1.whole]) }
            do {
                try text.write(to: URL(fileURLWithPath: path), options: .atomic)
            } catch {
                throw RunError("cannot rewrite \(path): \(error.localizedDescription)")
            }
        }
    }
}

/// The framing of an event file (TFRecord): each record is its length (uint64), the masked
/// CRC-32C of the length, the data, and the masked CRC-32C of the data, all little-endian.
enum TFRecord {
    /// One record: its bytes from length to last checksum, and those of its data.
    struct Record {
        var whole: Range<Int>
        var event: Range<Int>
    }

    /// The records of `bytes` in order, up to the first whose length or checksums do not hold.
    static func records(in bytes: [UInt8]) -> [Record] {
        var records: [Record] = []
        var offset = 0
        while bytes.count - offset >= 12 {
            let length = bytes[offset..<offset + 8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            guard checksum(bytes, at: offset + 8) == CRC32C.masked(bytes[offset..<offset + 8]),
                  length <= UInt64(bytes.count - offset - 16) else { break }
            let event = offset + 12..<offset + 12 + Int(length)
            guard checksum(bytes, at: event.upperBound) == CRC32C.masked(bytes[event]) else { break }
            records.append(Record(whole: offset..<event.upperBound + 4, event: event))
            offset = event.upperBound + 4
        }
        return records
    }

    private static func checksum(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        bytes[offset..<offset + 4].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }
}

extension EventProtobuf {
    /// The `step` of an encoded `Event` (0 when absent, as protobuf reads it: the file-version
    /// event), or nil when the bytes are not a protobuf message.
    static func step(of event: ArraySlice<UInt8>) -> Int? {
        var index = event.startIndex
        func varint() -> UInt64? {
            var value: UInt64 = 0
            for shift in stride(from: 0, to: 64, by: 7) {
                guard index < event.endIndex else { return nil }
                let byte = event[index]
                index += 1
                value |= UInt64(byte & 0x7F) << UInt64(shift)
                if byte & 0x80 == 0 { return value }
            }
            return nil
        }
        var step = 0
        while index < event.endIndex {
            guard let key = varint() else { return nil }
            switch key & 7 {
            case 0:
                guard let value = varint() else { return nil }
                if key >> 3 == 2 { step = Int(truncatingIfNeeded: value) }
            case 1: index += 8
            case 2:
                guard let length = varint(), length <= UInt64(event.endIndex - index) else { return nil }
                index += Int(length)
            case 5: index += 4
            default: return nil
            }
        }
        return index == event.endIndex ? step : nil
    }
}

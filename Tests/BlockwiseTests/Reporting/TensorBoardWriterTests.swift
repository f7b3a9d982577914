import Foundation
import Testing
@testable import Blockwise

/// An independent reader of TFRecord event files: checks both masked CRC-32C of every record
/// (bit by bit, not with the writer's table) and decodes the `Event` protobuf fields.
enum EventFileReader {
    struct Event: Equatable {
        var wallTime: Double?
        var step: Int64 = 0
        var fileVersion: String?
        var scalars: [String: Float] = [:]
    }

    struct Corrupt: Error, CustomStringConvertible { var description: String }

    static func crc32c(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        return ~crc
    }

    static func masked(_ bytes: some Sequence<UInt8>) -> UInt32 {
        let crc = crc32c(bytes)
        return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }

    static func read(_ path: String) throws -> [Event] {
        let bytes = [UInt8](FileManager.default.contents(atPath: path)!)
        var events: [Event] = []
        var offset = 0
        func integer<T: FixedWidthInteger>(_ type: T.Type, at position: Int) -> T {
            (0..<MemoryLayout<T>.size).reduce(T(0)) { $0 | T(bytes[position + $1]) << (8 * $1) }
        }
        while offset < bytes.count {
            guard offset + 12 <= bytes.count else { throw Corrupt(description: "truncated header at \(offset)") }
            let length = Int(integer(UInt64.self, at: offset))
            guard integer(UInt32.self, at: offset + 8) == masked(bytes[offset..<offset + 8]) else {
                throw Corrupt(description: "bad length CRC at \(offset)")
            }
            let data = Array(bytes[offset + 12..<offset + 12 + length])
            guard integer(UInt32.self, at: offset + 12 + length) == masked(data) else {
                throw Corrupt(description: "bad data CRC at \(offset)")
            }
            events.append(try decodeEvent(data))
            offset += 12 + length + 4
        }
        return events
    }

    /// Fields as (number, wire type, payload): varints as their value, others as bytes.
    static func fields(_ data: [UInt8]) throws -> [(Int, Int, UInt64, [UInt8])] {
        var out: [(Int, Int, UInt64, [UInt8])] = []
        var i = 0
        func varint() -> UInt64 {
            var value: UInt64 = 0, shift: UInt64 = 0
            while true {
                let byte = data[i]; i += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
        }
        while i < data.count {
            let key = varint()
            let (field, wire) = (Int(key >> 3), Int(key & 7))
            switch wire {
            case 0: out.append((field, wire, varint(), []))
            case 1: out.append((field, wire, 0, Array(data[i..<i + 8]))); i += 8
            case 2: let n = Int(varint()); out.append((field, wire, 0, Array(data[i..<i + n]))); i += n
            case 5: out.append((field, wire, 0, Array(data[i..<i + 4]))); i += 4
            default: throw Corrupt(description: "unexpected wire type \(wire)")
            }
        }
        return out
    }

    static func decodeEvent(_ data: [UInt8]) throws -> Event {
        var event = Event()
        for (field, wire, value, payload) in try fields(data) {
            switch (field, wire) {
            case (1, 1): event.wallTime = Double(bitPattern: payload.reversed().reduce(0) { $0 << 8 | UInt64($1) })
            case (2, 0): event.step = Int64(bitPattern: value)
            case (3, 2): event.fileVersion = String(decoding: payload, as: UTF8.self)
            case (5, 2):
                for (valueField, _, _, valueBytes) in try fields(payload) where valueField == 1 {
                    var tag = "", number: Float?
                    for (f, w, _, p) in try fields(valueBytes) {
                        if f == 1, w == 2 { tag = String(decoding: p, as: UTF8.self) }
                        if f == 2, w == 5 { number = Float(bitPattern: p.reversed().reduce(0) { $0 << 8 | UInt32($1) }) }
                    }
                    event.scalars[tag] = number
                }
            default: throw Corrupt(description: "unexpected field \(field) of wire type \(wire)")
            }
        }
        return event
    }
}

@Suite struct TensorBoardWriterTests {
    @Test func crc32cOfTheStandardCheckString() {
        // RFC 3720's check value for "123456789".
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(EventFileReader.crc32c(Array("123456789".utf8)) == 0xE306_9283)
    }

    @Test func eventsReadBackWithValidChecksumsAndFields() throws {
        let folder = TemporaryFolder()
        let writer = try TensorBoardWriter(directory: folder.path + "/tb", wallTime: 1_700_000_000, host: "testhost")
        writer.add([("loss/block_1", 0.5), ("lr", 0.1)], step: 7, wallTime: 1_700_000_001.25)
        writer.add([("loss/block_1", 0.25)], step: 300_000_000_000, wallTime: 1_700_000_002)
        #expect(writer.path == folder.path + "/tb/events.out.tfevents.1700000000.testhost")
        let events = try EventFileReader.read(writer.path)
        #expect(events.count == 3)
        #expect(events[0].fileVersion == "brain.Event:2")
        #expect(events[0].wallTime == 1_700_000_000)
        #expect(events[1] == EventFileReader.Event(wallTime: 1_700_000_001.25, step: 7, scalars: ["loss/block_1": 0.5, "lr": 0.1]))
        #expect(events[2].step == 300_000_000_000)
        #expect(events[2].scalars == ["loss/block_1": 0.25])
    }

    @Test func aFlippedByteFailsTheChecksum() throws {
        let folder = TemporaryFolder()
        let writer = try TensorBoardWriter(directory: folder.path, wallTime: 1, host: "h")
        writer.add([("x", 1)], step: 1)
        var bytes = [UInt8](FileManager.default.contents(atPath: writer.path)!)
        bytes[bytes.count - 6] ^= 0x01
        FileManager.default.createFile(atPath: writer.path, contents: Data(bytes))
        #expect(throws: EventFileReader.Corrupt.self) { try EventFileReader.read(writer.path) }
    }

    @Test func aSecondWriterInTheSameSecondStartsAFileSortedAfterTheFirstAndLeavesItWhole() throws {
        let folder = TemporaryFolder()
        let first = try TensorBoardWriter(directory: folder.path, wallTime: 1_700_000_000, host: "h")
        first.add([("x", 1)], step: 1)
        let second = try TensorBoardWriter(directory: folder.path, wallTime: 1_700_000_000, host: "h")
        second.add([("x", 2)], step: 2)
        #expect(second.path == first.path + ".1")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted().map { folder.path + "/" + $0 }
            == [first.path, second.path])
        #expect(try EventFileReader.read(first.path).map(\.step) == [0, 1])
        #expect(try EventFileReader.read(second.path).map(\.step) == [0, 2])
    }

    @Test func rewindingKeepsEachFilesEventsThroughTheStepAndDropsATornEnd() throws {
        let folder = TemporaryFolder()
        let old = try TensorBoardWriter(directory: folder.path, wallTime: 1_700_000_000, host: "h")
        for step in 1...5 { old.add([("loss", Double(step))], step: step, wallTime: 1_700_000_000 + Double(step)) }
        let later = try TensorBoardWriter(directory: folder.path, wallTime: 1_700_000_100, host: "h")
        for step in 2...3 { later.add([("loss", Double(step))], step: step) }
        // A crash in the middle of a record.
        let torn = try #require(FileHandle(forWritingAtPath: later.path))
        try torn.seekToEnd()
        try torn.write(contentsOf: Data([0x20, 0, 0, 0, 0, 0, 0, 0, 0xAB]))
        try torn.close()
        try TensorBoardWriter.rewind(directory: folder.path, throughStep: 2)
        let kept = try EventFileReader.read(old.path)
        #expect(kept.map(\.step) == [0, 1, 2])
        #expect(kept[0].fileVersion == "brain.Event:2")
        #expect(kept[2] == EventFileReader.Event(wallTime: 1_700_000_002, step: 2, scalars: ["loss": 2]))
        #expect(try EventFileReader.read(later.path).map(\.step) == [0, 2])
    }

    static func scalars(_ record: MetricsRecord) -> [String: Double] {
        Dictionary(uniqueKeysWithValues: TensorBoardWriter.scalars(of: record).map { ($0.tag, $0.value) })
    }

    @Test func aBlockwiseRecordBecomesScalarsPerBlock() {
        let step = MetricsRecord.step(phase: 0, epoch: 0, step: 3, owner: .blocks, loss: [1.5, nil, 0.5], lr: 0.2,
                                      imagesPerSecond: 100, peakMemoryMB: 12.5)
        #expect(Self.scalars(step) == ["loss/block_1": 1.5, "loss/block_3": 0.5, "lr": 0.2, "images_per_second": 100,
                                       "peak_memory_mb": 12.5])
        let epoch = MetricsRecord.epoch(phase: 0, epoch: 1, step: 10, owner: .blocks, loss: [1.0, nil], onlineProbeTop1: [0.25, nil])
        #expect(Self.scalars(epoch) == ["epoch_loss/block_1": 1.0, "online_probe_top1/block_1": 0.25])
    }

    @Test func anEndToEndRecordsScalarsAreTheNetworksNotBlockOnes() {
        let step = MetricsRecord.step(phase: 0, epoch: 0, step: 3, owner: .network, loss: [0.75], lr: 0.2,
                                      imagesPerSecond: 100, peakMemoryMB: 12.5)
        #expect(Self.scalars(step) == ["loss/network": 0.75, "lr": 0.2, "images_per_second": 100, "peak_memory_mb": 12.5])
        let epoch = MetricsRecord.epoch(phase: 0, epoch: 1, step: 10, owner: .network, loss: [0.5], onlineProbeTop1: [0.25])
        #expect(Self.scalars(epoch) == ["epoch_loss/network": 0.5, "online_probe_top1/network": 0.25])
    }

    @Test func aRunExportsItsMetricsAndProbeAccuracies() throws {
        let fixture = try RunFixture(writeBackbone: false)
        try fixture.writeMetrics(steps: 20)
        try fixture.writeProbe([0.6, 0.7, 0.8, 0.9])
        let path = try fixture.run.exportTensorBoard()
        #expect(path.hasPrefix(fixture.run.tensorboardPath + "/events.out.tfevents."))
        let events = try EventFileReader.read(path)
        #expect(events.count == 1 + 20 + 2 + 1)
        let losses = events.compactMap { $0.scalars["loss/block_2"] }
        #expect(losses.count == 20)
        #expect(abs(Double(events[1].scalars["loss/block_2"]!) - 50) < 1e-4)
        #expect(events.last!.step == 20)
        #expect(events.last!.scalars["probe_top1/block_4"] == 0.9)
    }

    @Test func anEndToEndRunExportsItsLossAsTheNetworks() throws {
        let fixture = try RunFixture(overrides: ["training.mode=end-to-end"], writeBackbone: false)
        try fixture.writeMetrics(steps: 20, owner: .network)
        let events = try EventFileReader.read(try fixture.run.exportTensorBoard())
        #expect(events.compactMap { $0.scalars["loss/network"] }.count == 20)
        #expect(events.compactMap { $0.scalars["epoch_loss/network"] }.count == 2)
        #expect(!events.contains { $0.scalars.keys.contains { $0.contains("block") } })
    }
}

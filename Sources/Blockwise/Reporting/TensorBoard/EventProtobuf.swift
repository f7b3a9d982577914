import Foundation

/// The few fields of TensorFlow's `Event` protobuf (tensorflow/core/util/event.proto) that
/// scalar logs need, encoded by hand:
///
///     Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
///     Summary { repeated Value value = 1; }
///     Value   { string tag = 1; float simple_value = 2; }
enum EventProtobuf {
    /// The first event of every file: TensorBoard reads the version to know the format.
    static func fileVersion(wallTime: Double) -> [UInt8] {
        var event = double(field: 1, wallTime)
        event += bytes(field: 3, Array("brain.Event:2".utf8))
        return event
    }

    /// An event holding scalar summaries, all at one step.
    static func scalars(_ values: [(tag: String, value: Float)], step: Int, wallTime: Double) -> [UInt8] {
        let summary = values.flatMap { value in
            bytes(field: 1, bytes(field: 1, Array(value.tag.utf8)) + float(field: 2, value.value))
        }
        return double(field: 1, wallTime) + varint(field: 2, UInt64(bitPattern: Int64(step))) + bytes(field: 5, summary)
    }

    // Wire types: 0 varint, 1 64-bit, 2 length-delimited, 5 32-bit.
    static func key(_ field: Int, _ wireType: Int) -> [UInt8] { varint(UInt64(field << 3 | wireType)) }

    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value, out: [UInt8] = []
        repeat {
            let low = UInt8(value & 0x7F)
            value >>= 7
            out.append(value == 0 ? low : low | 0x80)
        } while value != 0
        return out
    }

    static func varint(field: Int, _ value: UInt64) -> [UInt8] { key(field, 0) + varint(value) }
    static func double(field: Int, _ value: Double) -> [UInt8] { key(field, 1) + littleEndian(value.bitPattern) }
    static func float(field: Int, _ value: Float) -> [UInt8] { key(field, 5) + littleEndian(value.bitPattern) }
    static func bytes(field: Int, _ value: [UInt8]) -> [UInt8] { key(field, 2) + varint(UInt64(value.count)) + value }
}

/// The bytes of an integer, least significant first.
func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.littleEndian) { Array($0) }
}

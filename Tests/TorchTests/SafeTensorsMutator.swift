/// Mutates safetensors files as a fuzzer would, but aware of the format's three parts
/// (size field, JSON header, data) so that most cases reach the deeper rules instead of
/// failing at the size field.
struct SafeTensorsMutator {
    var random: SplitMix64

    init(seed: UInt64) { random = SplitMix64(seed: seed) }

    /// One to three mutations of `file`, or now and then a header made from scratch.
    mutating func mutate(_ file: [UInt8]) -> [UInt8] {
        if Int.random(in: 0..<8, using: &random) == 0 { return randomFile() }
        var bytes = file
        for _ in 0..<Int.random(in: 1...3, using: &random) { bytes = mutateOnce(bytes) }
        return bytes
    }

    private mutating func mutateOnce(_ bytes: [UInt8]) -> [UInt8] {
        switch Int.random(in: 0..<9, using: &random) {
        case 0: return flipBit(bytes)
        case 1: return setByte(bytes)
        case 2: return bytes.isEmpty ? bytes : Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &random)))
        case 3: return bytes + (0..<Int.random(in: 1...16, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
        case 4: return editSizeField(bytes)
        case 5: return editHeader(bytes) { header, m in m.editNumber(header) }
        case 6: return editHeader(bytes) { header, m in m.editDType(header) }
        case 7: return editHeader(bytes) { header, m in m.splice(header) }
        default: return editData(bytes)
        }
    }

    // MARK: raw bytes

    /// Positions in the size field and header are favoured: that is where the rules are.
    private mutating func position(in bytes: [UInt8]) -> Int {
        let headerEnd = min(bytes.count, 8 + (Self.parts(bytes)?.header.count ?? bytes.count))
        if headerEnd > 0, Bool.random(using: &random) { return Int.random(in: 0..<headerEnd, using: &random) }
        return Int.random(in: 0..<bytes.count, using: &random)
    }

    private mutating func flipBit(_ bytes: [UInt8]) -> [UInt8] {
        guard !bytes.isEmpty else { return bytes }
        var bytes = bytes
        bytes[position(in: bytes)] ^= 1 << UInt8.random(in: 0..<8, using: &random)
        return bytes
    }

    private static let interestingBytes: [UInt8] = Array("\"{}[],:-09.e\\ ".utf8) + [0, 0x01, 0x7F, 0x80, 0xC3, 0xFF]

    private mutating func setByte(_ bytes: [UInt8]) -> [UInt8] {
        guard !bytes.isEmpty else { return bytes }
        var bytes = bytes
        bytes[position(in: bytes)] = Self.interestingBytes.randomElement(using: &random)!
        return bytes
    }

    private mutating func editSizeField(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.count >= 8 else { return bytes }
        let current = Self.size(bytes)
        let choices: [UInt64] = [
            current &+ UInt64(bitPattern: Int64.random(in: -9...9, using: &random)), 0, 1, UInt64(bytes.count - 8),
            UInt64(bytes.count), 100_000_000, 100_000_001, UInt64.max, UInt64(Int64.max), UInt64.random(in: 0...UInt64.max, using: &random),
        ]
        return SafeTensorsFixtures.littleEndian(choices.randomElement(using: &random)!) + bytes.dropFirst(8)
    }

    // MARK: header and data

    static func size(_ bytes: [UInt8]) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[$1]) << (8 * UInt64($1)) }
    }

    /// The header and data of a file whose size field fits it.
    static func parts(_ bytes: [UInt8]) -> (header: [UInt8], data: [UInt8])? {
        guard bytes.count >= 8 else { return nil }
        let size = size(bytes)
        guard size <= UInt64(bytes.count - 8) else { return nil }
        return (Array(bytes[8..<8 + Int(size)]), Array(bytes[(8 + Int(size))...]))
    }

    /// Applies `edit` to the header; the size field follows the new length most of the time.
    private mutating func editHeader(_ bytes: [UInt8], _ edit: ([UInt8], inout SafeTensorsMutator) -> [UInt8]) -> [UInt8] {
        guard let (header, data) = Self.parts(bytes) else { return flipBit(bytes) }
        let edited = edit(header, &self)
        let size = Int.random(in: 0..<4, using: &random) == 0 ? UInt64(header.count) : UInt64(edited.count)
        return SafeTensorsFixtures.littleEndian(size) + edited + data
    }

    private static let interestingNumbers = [
        "0", "1", "-1", "7", "8", "64", "1.5", "2.0", "1e3", "-0", "4294967296", "9223372036854775807",
        "9223372036854775808", "18446744073709551615", "18446744073709551616", "99999999999999999999999999",
    ]

    /// Replaces one run of digits (a shape entry or an offset, mostly) with an awkward number.
    private mutating func editNumber(_ header: [UInt8]) -> [UInt8] {
        var runs: [Range<Int>] = []
        var start: Int?
        for i in 0...header.count {
            let digit = i < header.count && header[i] >= UInt8(ascii: "0") && header[i] <= UInt8(ascii: "9")
            if digit, start == nil { start = i }
            if !digit, let s = start { runs.append(s..<i); start = nil }
        }
        guard let run = runs.randomElement(using: &random) else { return header }
        let number = Bool.random(using: &random)
            ? Self.interestingNumbers.randomElement(using: &random)!
            : String(Int.random(in: 0...300, using: &random))
        var edited = header
        edited.replaceSubrange(run, with: Array(number.utf8))
        return edited
    }

    private static let dtypeNames = ["F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL",
                                     "U16", "F8_E4M3", "F128", "f32", "", "F32 "]

    private mutating func editDType(_ header: [UInt8]) -> [UInt8] {
        let text = String(decoding: header, as: UTF8.self)
        let ranges = text.ranges(of: /"dtype":"[^"]*"/)
        guard let range = ranges.randomElement(using: &random) else { return splice(header) }
        let name = Self.dtypeNames.randomElement(using: &random)!
        return Array(text.replacingCharacters(in: range, with: "\"dtype\":\"\(name)\"").utf8)
    }

    /// Deletes a piece of the header, or repeats one.
    private mutating func splice(_ header: [UInt8]) -> [UInt8] {
        guard header.count > 1 else { return header }
        let start = Int.random(in: 0..<header.count, using: &random)
        let end = Int.random(in: start...min(header.count, start + 40), using: &random)
        var edited = header
        if Bool.random(using: &random) {
            edited.removeSubrange(start..<end)
        } else {
            edited.insert(contentsOf: header[start..<end], at: Int.random(in: 0...header.count, using: &random))
        }
        return edited
    }

    /// Cuts or extends the data, or replaces it with random bytes of the same length.
    private mutating func editData(_ bytes: [UInt8]) -> [UInt8] {
        guard let (header, data) = Self.parts(bytes) else { return setByte(bytes) }
        var newData = data
        switch Int.random(in: 0..<3, using: &random) {
        case 0: newData = Array(data.dropLast(Int.random(in: 1...8, using: &random)))
        case 1: newData += [UInt8](repeating: 0, count: Int.random(in: 1...8, using: &random))
        default: newData = data.map { _ in UInt8.random(in: 0...255, using: &random) }
        }
        return SafeTensorsFixtures.littleEndian(UInt64(header.count)) + header + newData
    }

    // MARK: from scratch

    /// A header of random entries; half of the time the offsets and data agree with the
    /// shapes, so the file is valid unless a dtype, shape or name says otherwise.
    private mutating func randomFile() -> [UInt8] {
        let consistent = Bool.random(using: &random)
        var entries: [String] = []
        var offset = 0
        for index in 0..<Int.random(in: 0...4, using: &random) {
            let dtype = Self.dtypeNames.randomElement(using: &random)!
            let rank = Int.random(in: 0...3, using: &random)
            let shape = (0..<rank).map { _ in
                Int.random(in: 0..<20, using: &random) == 0 ? Int.random(in: 0...Int.max, using: &random) : Int.random(in: 0...4, using: &random)
            }
            let elementSize = ["F64": 8, "I64": 8, "F32": 4, "I32": 4, "F16": 2, "BF16": 2, "I16": 2][dtype] ?? 1
            let (count, overflow) = shape.reduce((1, false)) { acc, d in
                let (p, o) = acc.0.multipliedReportingOverflow(by: d)
                return (p, acc.1 || o)
            }
            let length = overflow || count > 64 ? Int.random(in: 0...64, using: &random) : count * elementSize
            let begin = consistent ? offset : Int.random(in: 0...64, using: &random)
            // Even with a random begin, a right length often gets past the size rule to the gap
            // and overlap rules.
            let end = consistent || Bool.random(using: &random) ? begin + length : Int.random(in: 0...64, using: &random)
            offset = max(offset, end)
            let name = Int.random(in: 0..<6, using: &random) == 0 ? "t" : "t\(index)"
            entries.append("\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":[\(begin),\(end)]}")
        }
        let header = "{" + entries.joined(separator: ",") + "}"
        let dataLength = consistent ? offset : Int.random(in: 0...80, using: &random)
        // Bytes 0 and 1 only, so that BOOL tensors are valid too.
        let data = (0..<dataLength).map { _ in UInt8.random(in: 0...1, using: &random) }
        return SafeTensorsFixtures.file(header: header, data: data)
    }
}

/// The checked header of a safetensors file: what each tensor holds and where its bytes are.
/// The rules, and where they follow or tighten the Rust crate's `Metadata::validate`, are
/// listed on `SafeTensors`; BOOL bytes are checked later, on reading the data.
struct SafeTensorsHeader {
    struct Entry {
        let name: String
        let dtype: DType
        let shape: [Int]
        let begin: Int
        let end: Int
    }

    /// In the order of their data in the buffer.
    let entries: [Entry]
    let metadata: [String: String]

    /// Checks `header` (the JSON bytes) against a data buffer of `dataSize` bytes.
    static func parse(_ header: UnsafeRawBufferPointer, dataSize: Int, file: String) throws(SafeTensorsError)
        -> SafeTensorsHeader
    {
        guard String(validating: header, as: UTF8.self) != nil else { throw SafeTensorsError(file: file, .headerNotUTF8) }
        let json: JSONValue
        do {
            json = try SafeTensorsJSONParser.parse(header)
        } catch {
            switch error.kind {
            case .syntax(let message): throw SafeTensorsError(file: file, .invalidJSON(message, offset: error.offset))
            case .duplicateKey(let key): throw SafeTensorsError(file: file, .duplicateKey(key))
            }
        }
        guard case .object(let members) = json else { throw SafeTensorsError(file: file, .headerNotObject) }

        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        for (key, value) in members {
            if key == "__metadata__" {
                metadata = try parseMetadata(value, file: file)
            } else {
                entries.append(try parseEntry(key, value, dataSize: dataSize, file: file))
            }
        }
        entries.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        try checkCoverage(entries, dataSize: dataSize, file: file)
        return SafeTensorsHeader(entries: entries, metadata: metadata)
    }

    private static func parseMetadata(_ value: JSONValue, file: String) throws(SafeTensorsError) -> [String: String] {
        switch value {
        case .null:
            return [:]
        case .object(let members):
            var metadata: [String: String] = [:]
            for (key, value) in members {
                guard case .string(let text) = value else {
                    throw SafeTensorsError(file: file, .invalidMetadata("the value of \(quoted(key)) is \(value.kind)"))
                }
                metadata[key] = text
            }
            return metadata
        default:
            throw SafeTensorsError(file: file, .invalidMetadata("is \(value.kind)"))
        }
    }

    private static func parseEntry(_ name: String, _ value: JSONValue, dataSize: Int, file: String)
        throws(SafeTensorsError) -> Entry
    {
        func fail(_ problem: SafeTensorsError.Problem) -> SafeTensorsError {
            SafeTensorsError(file: file, tensor: name, problem)
        }
        guard case .object(let fields) = value else { throw fail(.invalidEntry("is \(value.kind), not an object")) }
        func field(_ key: String) throws(SafeTensorsError) -> JSONValue {
            guard let value = fields.first(where: { $0.key == key })?.value else { throw fail(.invalidEntry("no \(quoted(key))")) }
            return value
        }

        guard case .string(let dtypeName) = try field("dtype") else { throw fail(.invalidEntry("\"dtype\" is not a string")) }
        guard let dtype = SafeTensorsDType.byName[dtypeName] else {
            throw fail(SafeTensorsDType.unsupportedNames.contains(dtypeName) ? .unsupportedDType(dtypeName) : .unknownDType(dtypeName))
        }

        guard case .array(let dims) = try field("shape") else { throw fail(.invalidEntry("\"shape\" is not an array")) }
        var shape64: [UInt64] = []
        for dim in dims {
            switch integer(dim) {
            case .value(let n): shape64.append(n)
            case .invalid(let reason): throw fail(.invalidShape("\(listText(dims)): \(reason)"))
            }
        }
        guard let (shape, byteCount) = extent(shape64, elementSize: dtype.byteSize) else {
            throw fail(.shapeOverflow(shape: shape64))
        }

        guard case .array(let offsets) = try field("data_offsets"), offsets.count == 2 else {
            throw fail(.invalidEntry("\"data_offsets\" is not an array of two integers"))
        }
        var bounds: [Int] = []
        for offset in offsets {
            switch integer(offset) {
            case .value(let n) where n <= UInt64(Int.max): bounds.append(Int(n))
            case .value: throw fail(.invalidOffsets("\(listText(offsets)): \(offset.kind) is larger than any file"))
            case .invalid(let reason): throw fail(.invalidOffsets("\(listText(offsets)): \(reason)"))
            }
        }
        let (begin, end) = (bounds[0], bounds[1])
        guard begin <= end else { throw fail(.invalidOffsets("[\(begin), \(end)] end before they begin")) }
        guard end - begin == byteCount else {
            throw fail(.sizeMismatch(begin: begin, end: end, shape: shape, dtype: dtypeName, needed: byteCount))
        }
        guard end <= dataSize else { throw fail(.offsetsPastEnd(begin: begin, end: end, available: dataSize)) }
        return Entry(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }

    /// The shape as `Int`s and its byte count, or nil when either is beyond 64-bit
    /// arithmetic. Dimensions are also multiplied with zeros taken as ones, because libtorch
    /// computes strides that way and must not overflow on a shape like [0, 2^40, 2^40].
    private static func extent(_ shape: [UInt64], elementSize: Int) -> ([Int], Int)? {
        var elements = 1
        var strideSpan = 1
        var dims: [Int] = []
        for dim in shape {
            guard dim <= UInt64(Int.max) else { return nil }
            let n = Int(dim)
            let (e, o1) = elements.multipliedReportingOverflow(by: n)
            let (s, o2) = strideSpan.multipliedReportingOverflow(by: max(n, 1))
            guard !o1, !o2 else { return nil }
            (elements, strideSpan) = (e, s)
            dims.append(n)
        }
        let (bytes, overflow) = elements.multipliedReportingOverflow(by: elementSize)
        return overflow ? nil : (dims, bytes)
    }

    private enum Integer { case value(UInt64), invalid(String) }

    /// A JSON number that is a non-negative integer written without fraction or exponent,
    /// the only form serde_json accepts for the crate's `usize` fields.
    private static func integer(_ value: JSONValue) -> Integer {
        guard case .number(let text) = value else { return .invalid("\(value.kind) is not an integer") }
        if text.hasPrefix("-") { return .invalid("\(clipped(text)) is negative") }
        guard text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return .invalid("\(clipped(text)) is not an integer")
        }
        guard let n = UInt64(text) else { return .invalid("\(clipped(text)) is larger than 2^64 - 1") }
        return .value(n)
    }

    private static func listText(_ values: [JSONValue]) -> String {
        clipped("[" + values.map { value in
            if case .number(let text) = value { return clipped(text) }
            return value.kind
        }.joined(separator: ", ") + "]")
    }

    private static func checkCoverage(_ entries: [Entry], dataSize: Int, file: String) throws(SafeTensorsError) {
        var previous: Entry?
        for entry in entries {
            let previousEnd = previous?.end ?? 0
            if entry.begin > previousEnd {
                throw SafeTensorsError(file: file, tensor: entry.name, .gap(begin: entry.begin, previousEnd: previousEnd))
            }
            if let previous, entry.begin < previousEnd {
                throw SafeTensorsError(file: file, tensor: entry.name,
                                       .overlap(begin: entry.begin, previousEnd: previousEnd, previous: previous.name))
            }
            previous = entry
        }
        let covered = previous?.end ?? 0
        if covered != dataSize {
            throw SafeTensorsError(file: file, .trailingBytes(covered: covered, available: dataSize))
        }
    }
}

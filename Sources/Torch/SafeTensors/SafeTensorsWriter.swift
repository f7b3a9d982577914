/// Lays tensors out as the Rust crate's `serialize` does (and so Python's `save_file`):
/// sorted by dtype, widest first, then by name; offsets packed from 0; compact JSON with
/// `__metadata__` first; the header padded with spaces to a multiple of 8 bytes. Given the
/// same tensors and at most one metadata key, our file equals Python's byte for byte (the
/// crate writes several metadata keys in hash order; we sort them).
struct SafeTensorsWriter {
    /// The 8-byte header size followed by the padded JSON.
    let header: [UInt8]
    /// The tensors in data order.
    let tensors: [(name: String, tensor: Tensor)]

    init(_ tensors: [(String, Tensor)], metadata: [String: String]?, file: String) throws(SafeTensorsError) {
        var seen: Set<String> = []
        for (name, _) in tensors {
            guard name != "__metadata__" else {
                throw SafeTensorsError(file: file, tensor: name, .invalidName("the name is reserved for the metadata"))
            }
            guard seen.insert(name).inserted else {
                throw SafeTensorsError(file: file, tensor: name, .invalidName("the name is given twice"))
            }
        }
        let ordered = tensors.map { (name: $0.0, tensor: $0.1) }.sorted { a, b in
            let (ra, rb) = (SafeTensorsDType.writeRank(a.tensor.dtype), SafeTensorsDType.writeRank(b.tensor.dtype))
            // Names compare by UTF-8 bytes, as Rust's `String` does.
            return ra != rb ? ra > rb : a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
        }

        var json: [UInt8] = Array("{".utf8)
        var fields: [[UInt8]] = []
        if let metadata {
            let pairs = metadata.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
                .map { SafeTensorsJSONWriter.string($0.key) + Array(":".utf8) + SafeTensorsJSONWriter.string($0.value) }
            fields.append(Array("\"__metadata__\":{".utf8) + Array(pairs.joined(separator: Array(",".utf8))) + Array("}".utf8))
        }
        var offset = 0
        for (name, tensor) in ordered {
            let end = offset + tensor.byteCount
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            let info = "{\"dtype\":\"\(SafeTensorsDType.name(of: tensor.dtype))\",\"shape\":[\(shape)],"
                + "\"data_offsets\":[\(offset),\(end)]}"
            fields.append(SafeTensorsJSONWriter.string(name) + Array(":".utf8) + Array(info.utf8))
            offset = end
        }
        json += Array(fields.joined(separator: Array(",".utf8))) + Array("}".utf8)
        json += [UInt8](repeating: UInt8(ascii: " "), count: (8 - json.count % 8) % 8)

        let size = UInt64(json.count)
        header = (0..<8).map { UInt8(truncatingIfNeeded: size >> (8 * UInt64($0))) } + json
        self.tensors = ordered
    }

    /// Hands the file's bytes to `sink` in order, one tensor at a time.
    func emit(_ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try header.withUnsafeBytes { try sink($0) }
        for (_, tensor) in tensors {
            try tensor.bytes().withUnsafeBytes { try sink($0) }
        }
    }
}

/// Reads a safetensors file from any `SafeTensorsSource`, checking every header rule
/// before it allocates anything the header asks for.
enum SafeTensorsReader {
    static func read(_ source: some SafeTensorsSource, file: String) throws -> SafeTensorsFile {
        guard source.size >= 8 else { throw SafeTensorsError(file: file, .tooShort(size: source.size)) }
        let declared = try source.withBytes(at: 0, count: 8) { bytes in
            (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[$1]) << (8 * UInt64($1)) }
        }
        guard declared <= UInt64(SafeTensors.maxHeaderSize) else {
            throw SafeTensorsError(file: file, .headerTooLarge(declared: declared))
        }
        let headerSize = Int(declared)
        guard headerSize <= source.size - 8 else {
            throw SafeTensorsError(file: file, .headerPastEnd(declared: declared, available: source.size - 8))
        }
        let dataStart = 8 + headerSize
        let header = try source.withBytes(at: 8, count: headerSize) { bytes in
            try SafeTensorsHeader.parse(bytes, dataSize: source.size - dataStart, file: file)
        }

        var tensors: [String: Tensor] = [:]
        for entry in header.entries {
            tensors[entry.name] = try source.withBytes(at: dataStart + entry.begin, count: entry.end - entry.begin) { bytes in
                try tensor(entry, bytes, file: file)
            }
        }
        return SafeTensorsFile(names: header.entries.map(\.name), tensors: tensors, metadata: header.metadata)
    }

    private static func tensor(_ entry: SafeTensorsHeader.Entry, _ bytes: UnsafeRawBufferPointer, file: String) throws
        -> Tensor
    {
        // libtorch assumes a bool is stored as 0 or 1; any other byte would give wrong results.
        if entry.dtype == .bool, let index = bytes.firstIndex(where: { $0 > 1 }) {
            throw SafeTensorsError(file: file, tensor: entry.name, .invalidBool(index: index, value: bytes[index]))
        }
        do {
            return try withTorchErrors { Tensor(bytes: bytes, shape: entry.shape, dtype: entry.dtype) }
        } catch let error as TorchError {
            throw SafeTensorsError(file: file, tensor: entry.name, .torch(error.message))
        }
    }
}

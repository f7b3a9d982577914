import Foundation

/// Reading and writing the safetensors format of Hugging Face
/// (<https://github.com/huggingface/safetensors>), compatible both ways with Python's
/// `safetensors` package: an 8-byte little-endian header size N, N bytes of JSON naming each
/// tensor's dtype, shape and byte range, then the tensors' bytes.
///
/// Reading trusts nothing in the file: every rule is checked before any memory the header asks
/// for is allocated, and each violation throws a `SafeTensorsError` naming the file, the tensor
/// and what was expected. The rules are those of the Rust crate that Python uses: a header of at
/// most 100 MB of UTF-8 JSON holding an object; dtypes F64, F32, F16, BF16, I64, I32, I16, I8, U8,
/// BOOL; shapes of non-negative integers whose byte size fits 64 bits; each tensor's offsets
/// spanning exactly its element count times its dtype size; and, sorted by offset, the tensors
/// covering the data from its first byte to its last with no hole, overlap or trailing byte.
/// Two rules are stricter than the crate's: a key repeated in one JSON object is an error (the
/// crate keeps the last one), and BOOL bytes must be 0 or 1 (libtorch gives wrong answers on
/// others). Unknown fields of a tensor entry are ignored, as the crate ignores them.
public enum SafeTensors {
    /// The largest header accepted, the Rust crate's limit (100 MB).
    public static let maxHeaderSize = 100_000_000

    /// Reads the file at `path`. Throws `SafeTensorsError`.
    public static func read(contentsOf path: String) throws -> SafeTensorsFile {
        try SafeTensorsReader.read(try FileSource(path: path), file: path)
    }

    /// Reads the file at `url`. Throws `SafeTensorsError`.
    public static func read(contentsOf url: URL) throws -> SafeTensorsFile {
        try read(contentsOf: url.path)
    }

    /// Parses a whole file held in memory; `name` stands for the file in error messages.
    /// Throws `SafeTensorsError`.
    public static func read(bytes: [UInt8], name: String = "<memory>") throws -> SafeTensorsFile {
        try bytes.withUnsafeBytes { try SafeTensorsReader.read(MemorySource(bytes: $0), file: name) }
    }

    /// The bytes of a file holding `tensors` (any device, any layout) and `metadata`.
    /// Throws `SafeTensorsError` for a repeated or reserved name.
    public static func encode(_ tensors: [(String, Tensor)], metadata: [String: String]? = nil) throws -> [UInt8] {
        try withTensorErrors(file: "<memory>") {
            var bytes: [UInt8] = []
            try SafeTensorsWriter(tensors, metadata: metadata, file: "<memory>").emit { bytes.append(contentsOf: $0) }
            return bytes
        }
    }

    /// Writes `tensors` and `metadata` to `path` atomically: a reader of `path` sees the old file
    /// or the complete new one, even if the process dies mid-write. Throws `SafeTensorsError`.
    public static func write(_ tensors: [(String, Tensor)], metadata: [String: String]? = nil, to path: String) throws {
        try withTensorErrors(file: path) {
            let writer = try SafeTensorsWriter(tensors, metadata: metadata, file: path)
            try AtomicFile.write(to: path) { file in try writer.emit { try file.append($0) } }
        }
    }

    /// Writes `tensors` and `metadata` to `path` atomically.
    public static func write(_ tensors: [String: Tensor], metadata: [String: String]? = nil, to path: String) throws {
        try write(tensors.map { ($0.key, $0.value) }, metadata: metadata, to: path)
    }

    /// Writes `tensors` and `metadata` to `url` atomically.
    public static func write(_ tensors: [(String, Tensor)], metadata: [String: String]? = nil, to url: URL) throws {
        try write(tensors, metadata: metadata, to: url.path)
    }

    /// Writes `tensors` and `metadata` to `url` atomically.
    public static func write(_ tensors: [String: Tensor], metadata: [String: String]? = nil, to url: URL) throws {
        try write(tensors, metadata: metadata, to: url.path)
    }

    /// Turns a libtorch failure while reading tensors back (an undefined tensor, a device
    /// error) into a `SafeTensorsError` rather than a stopped process.
    private static func withTensorErrors<R>(file: String, _ body: () throws -> R) throws -> R {
        do {
            return try withTorchErrors(body)
        } catch let error as TorchError {
            throw SafeTensorsError(file: file, .torch(error.message))
        }
    }
}

/// Why a safetensors file could not be read or written. The message names the file, the
/// tensor when one is at fault, and what was expected, e.g.
/// `model.safetensors: tensor "conv1.weight": data offsets [0, 100] but shape [64, 3, 7, 7] of F32 needs 37632 bytes`.
public struct SafeTensorsError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file, as the caller named it (`<memory>` for bytes parsed in memory).
    public let file: String
    /// The tensor at fault, if the problem belongs to one.
    public let tensor: String?
    public let problem: Problem

    public init(file: String, tensor: String? = nil, _ problem: Problem) {
        self.file = file
        self.tensor = tensor
        self.problem = problem
    }

    public var description: String {
        "\(file): " + (tensor.map { "tensor \(quoted($0)): " } ?? "") + problem.description
    }

    /// What went wrong. Each case is one rule of the format (or one failure of the system).
    public enum Problem: Equatable, Sendable, CustomStringConvertible {
        /// The file could not be opened, read, written or renamed.
        case io(String)
        /// Fewer than the 8 bytes of the header size.
        case tooShort(size: Int)
        /// The header size is above `SafeTensors.maxHeaderSize`.
        case headerTooLarge(declared: UInt64)
        /// The header size runs past the end of the file.
        case headerPastEnd(declared: UInt64, available: Int)
        /// The header bytes are not UTF-8.
        case headerNotUTF8
        /// The header is not JSON (or nests deeper than any header needs).
        case invalidJSON(String, offset: Int)
        /// The header's JSON is not an object.
        case headerNotObject
        /// The same key appears twice in one JSON object of the header.
        case duplicateKey(String)
        /// `__metadata__` is not an object whose values are strings.
        case invalidMetadata(String)
        /// A tensor entry lacks a field or has one of the wrong JSON type.
        case invalidEntry(String)
        /// A dtype name the format does not define.
        case unknownDType(String)
        /// A dtype the format defines but `DType` has no counterpart for.
        case unsupportedDType(String)
        /// A shape entry that is not a non-negative integer.
        case invalidShape(String)
        /// More elements than a 64-bit integer can count.
        case shapeOverflow(shape: [UInt64])
        /// A data offset that is not a non-negative 64-bit integer, or an end before the begin.
        case invalidOffsets(String)
        /// The offsets span a different number of bytes than the shape and dtype need.
        case sizeMismatch(begin: Int, end: Int, shape: [Int], dtype: String, needed: Int)
        /// The offsets reach past the end of the data buffer.
        case offsetsPastEnd(begin: Int, end: Int, available: Int)
        /// The tensor begins after the previous one ends: the data buffer has a hole.
        case gap(begin: Int, previousEnd: Int)
        /// The tensor begins before the previous one ends.
        case overlap(begin: Int, previousEnd: Int, previous: String)
        /// Bytes after the last tensor's data.
        case trailingBytes(covered: Int, available: Int)
        /// A BOOL element holds a byte other than 0 or 1.
        case invalidBool(index: Int, value: UInt8)
        /// A name given to `write` twice, or the reserved `__metadata__`.
        case invalidName(String)
        /// libtorch failed to build a tensor from checked bytes (e.g. out of memory).
        case torch(String)

        /// A stable one-word name of the case, used by the regression corpus.
        public var code: String {
            switch self {
            case .io: return "io"
            case .tooShort: return "tooShort"
            case .headerTooLarge: return "headerTooLarge"
            case .headerPastEnd: return "headerPastEnd"
            case .headerNotUTF8: return "headerNotUTF8"
            case .invalidJSON: return "invalidJSON"
            case .headerNotObject: return "headerNotObject"
            case .duplicateKey: return "duplicateKey"
            case .invalidMetadata: return "invalidMetadata"
            case .invalidEntry: return "invalidEntry"
            case .unknownDType: return "unknownDType"
            case .unsupportedDType: return "unsupportedDType"
            case .invalidShape: return "invalidShape"
            case .shapeOverflow: return "shapeOverflow"
            case .invalidOffsets: return "invalidOffsets"
            case .sizeMismatch: return "sizeMismatch"
            case .offsetsPastEnd: return "offsetsPastEnd"
            case .gap: return "gap"
            case .overlap: return "overlap"
            case .trailingBytes: return "trailingBytes"
            case .invalidBool: return "invalidBool"
            case .invalidName: return "invalidName"
            case .torch: return "torch"
            }
        }

        public var description: String {
            switch self {
            case .io(let message):
                return message
            case .tooShort(let size):
                return "\(size) bytes, fewer than the 8 bytes of the header size: not a safetensors file"
            case .headerTooLarge(let declared):
                return "header size \(declared) is above the limit of \(SafeTensors.maxHeaderSize) bytes"
            case .headerPastEnd(let declared, let available):
                return "header size \(declared) but only \(available) bytes follow the size field (truncated file?)"
            case .headerNotUTF8:
                return "header is not valid UTF-8"
            case .invalidJSON(let message, let offset):
                return "header is not valid JSON: \(message) at byte \(offset) of the header"
            case .headerNotObject:
                return "header is not a JSON object"
            case .duplicateKey(let key):
                return "key \(quoted(key)) appears twice in the header"
            case .invalidMetadata(let message):
                return "__metadata__: \(message); expected an object of strings"
            case .invalidEntry(let message):
                return "\(message); expected {\"dtype\": string, \"shape\": [integers], \"data_offsets\": [begin, end]}"
            case .unknownDType(let name):
                return "unknown dtype \(quoted(name)); expected one of \(SafeTensorsDType.supportedNames)"
            case .unsupportedDType(let name):
                return "dtype \(name) has no Torch dtype; expected one of \(SafeTensorsDType.supportedNames)"
            case .invalidShape(let message):
                return "shape \(message); expected non-negative integers"
            case .shapeOverflow(let shape):
                return "shape \(clipped("\(shape)")) has more elements than a 64-bit integer can count"
            case .invalidOffsets(let message):
                return "data offsets \(message)"
            case .sizeMismatch(let begin, let end, let shape, let dtype, let needed):
                return "data offsets [\(begin), \(end)] but shape \(clipped("\(shape)")) of \(dtype) needs \(needed) bytes"
            case .offsetsPastEnd(let begin, let end, let available):
                return "data offsets [\(begin), \(end)] run past the end of the \(available)-byte data buffer (truncated file?)"
            case .gap(let begin, let previousEnd):
                return "data offsets begin at \(begin) but the previous tensor ends at \(previousEnd): "
                    + "tensors must cover the data buffer without holes"
            case .overlap(let begin, let previousEnd, let previous):
                return "data offsets begin at \(begin), inside tensor \(quoted(previous)) which ends at \(previousEnd)"
            case .trailingBytes(let covered, let available):
                return "tensors cover \(covered) bytes but the data buffer holds \(available): "
                    + "\(available - covered) trailing bytes belong to no tensor"
            case .invalidBool(let index, let value):
                return "BOOL element \(index) holds byte \(value); expected 0 or 1"
            case .invalidName(let message):
                return message
            case .torch(let message):
                return "libtorch: \(message)"
            }
        }
    }
}

/// A name as JSON would write it, so that odd characters stay visible in messages.
func quoted(_ text: String) -> String {
    "\"" + clipped(String(decoding: SafeTensorsJSONWriter.escaped(text), as: UTF8.self)) + "\""
}

/// At most 200 characters of `text`: a hostile header may hold megabyte-long names or numbers,
/// which would drown the message that quotes them.
func clipped(_ text: String) -> String {
    text.count <= 200 ? text : text.prefix(200) + "…"
}

import Foundation
import Torch

/// The IDX format of the MNIST family (LeCun's): a magic number giving the element type and
/// the number of dimensions, the sizes as big-endian int32, then the elements. Files may be
/// gzip-compressed. Only unsigned bytes (type 0x08), the type of every MNIST-family file, are read.
enum IDXFile {
    /// Reads an IDX file of unsigned bytes into a uint8 tensor of its shape.
    static func read(_ path: String) throws -> Tensor {
        let file = try GzipFile(path: path)
        let magic = try file.readExactly(4, what: "the IDX header")
        guard magic[0] == 0, magic[1] == 0 else {
            throw DataError(path, "not an IDX file (the first two bytes are \(magic[0]), \(magic[1]); expected 0, 0)")
        }
        guard magic[2] == 0x08 else {
            throw DataError(path, String(format: "IDX element type 0x%02x is not supported (expected 0x08, unsigned bytes)", magic[2]))
        }
        let rank = Int(magic[3])
        guard (1...4).contains(rank) else { throw DataError(path, "IDX rank \(rank) is not 1 to 4") }
        let header = try file.readExactly(4 * rank, what: "the sizes of \(rank) dimensions")
        let shape = (0..<rank).map { d in
            header[(4 * d)..<(4 * d + 4)].reduce(0) { $0 << 8 | Int($1) }
        }
        // A damaged header can claim sizes whose product overflows, or more data than the file
        // can hold: both are refused before anything is allocated.
        var total = 1
        for size in shape {
            let (product, overflow) = total.multipliedReportingOverflow(by: size)
            guard !overflow else { throw DataError(path, "IDX sizes \(shape) claim more than 2^63 bytes of data") }
            total = product
        }
        guard total <= 1 << 36 else { throw DataError(path, "IDX sizes \(shape) are implausibly large") }
        let available = try file.remainingBytesBound()
        if total > available.bytes {
            throw DataError(path, available.exact
                ? "truncated: sizes \(shape) need \(total) bytes of data, the file holds \(available.bytes)"
                : "IDX sizes \(shape) claim \(total) bytes of data, more than this compressed file can expand to (at most \(available.bytes))")
        }
        let tensor = Tensor.empty(shape, dtype: .uint8)
        let n = try tensor.withUnsafeMutableBytes { try file.read(into: $0) }
        if n < total {
            throw DataError(path, "truncated: sizes \(shape) need \(total) bytes of data, the file holds \(n)")
        }
        if try !file.atEnd() {
            throw DataError(path, "has data beyond the \(total) bytes its sizes \(shape) announce")
        }
        return tensor
    }
}

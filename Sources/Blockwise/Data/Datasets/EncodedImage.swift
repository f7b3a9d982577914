import CJPEG

/// An image file read into memory with the size its header gives, not yet decoded: enough to
/// draw a view's crop box on the whole image first, then decode only as large as the box needs.
public struct EncodedImage: Sendable {
    public enum Format: Sendable { case jpeg, png }

    public let path: String
    public let format: Format
    /// The full size, from the header.
    public let width: Int
    public let height: Int
    let bytes: [UInt8]

    /// Reads `path` and its header; the format is chosen by content, not by extension. A file
    /// that is not a JPEG or PNG, or whose header is damaged or claims more than
    /// `ImageDecoder.maximumPixels`, is an error naming it.
    public init(path: String) throws {
        let bytes = try RawFile.bytes(path)
        let size: (Int, Int)
        if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF {
            format = .jpeg
            size = try Self.jpegSize(bytes, path: path)
        } else if bytes.count >= 8, bytes[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            format = .png
            size = try Self.pngSize(bytes, path: path)
        } else if bytes.isEmpty {
            throw DataError(path, "empty file, expected a JPEG or PNG image")
        } else {
            throw DataError(path, "not a JPEG or PNG image (unrecognised first bytes)")
        }
        let name = format == .jpeg ? "JPEG" : "PNG"
        guard size.0 > 0, size.1 > 0 else { throw DataError(path, "unreadable \(name): the header gives an empty image") }
        try ImageDecoder.checkSize(width: size.0, height: size.1, format: name, path: path)
        self.path = path
        self.bytes = bytes
        (width, height) = size
    }

    /// The pixels, decoded at the smallest size of libjpeg-turbo's DCT scaling (1/8, 1/4, 1/2:
    /// `ImageDecoder.reducingFactors`) whose sides are still at least `minimumScale` times the
    /// full ones: the work and the memory of a 10000×10000 photo fall by up to 64. A PNG is
    /// always decoded at full size.
    public func decode(minimumScale: Double = 1) throws -> ImageDecoder.Pixels {
        switch format {
        case .jpeg:
            let (w, h) = ImageDecoder.scaledSize(width: width, height: height, minimumScale: minimumScale)
            return try ImageDecoder.decodeJPEG(bytes, path: path, width: w, height: h)
        case .png:
            return try ImageDecoder.decodePNG(bytes, path: path)
        }
    }

    static func jpegSize(_ bytes: [UInt8], path: String) throws -> (Int, Int) {
        guard let handle = tjInitDecompress() else { throw DataError(path, "cannot start the JPEG decoder") }
        defer { tjDestroy(handle) }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        let status = bytes.withUnsafeBufferPointer {
            tjDecompressHeader3(handle, $0.baseAddress, UInt($0.count), &width, &height, &subsampling, &colorspace)
        }
        guard status == 0 else {
            throw DataError(path, "unreadable JPEG: bad header: \(String(cString: tjGetErrorStr2(handle)))")
        }
        return (Int(width), Int(height))
    }

    /// The PNG's IHDR chunk, which the format puts first: width and height, big-endian.
    static func pngSize(_ bytes: [UInt8], path: String) throws -> (Int, Int) {
        guard bytes.count >= 24, bytes[12..<16].elementsEqual(Array("IHDR".utf8)) else {
            throw DataError(path, "unreadable PNG: no IHDR header chunk")
        }
        func word(_ at: Int) -> Int { bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        return (word(16), word(20))
    }
}

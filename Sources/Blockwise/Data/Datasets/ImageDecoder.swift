import CJPEG
import CPNG
import Foundation
import Torch

/// Decodes JPEG (libjpeg-turbo) and PNG (libpng) files to RGB pixels. A decoding failure is a
/// `DataError` naming the file and the library's diagnosis.
public enum ImageDecoder {
    /// An image as interleaved RGB bytes, row by row.
    public struct Pixels {
        public var width: Int
        public var height: Int
        public var rgb: [UInt8]
    }

    /// The most pixels an image may have: 2^28 (e.g. 16384×16384), far above any real photo and
    /// ImageNet's largest, yet 768 MiB of RGB at most. A header claiming more (a damaged file, or
    /// a decompression bomb) is an error before anything is allocated, as Pillow's
    /// `MAX_IMAGE_PIXELS` and libpng's user limits refuse them.
    public static let maximumPixels = 1 << 28

    /// Refuses an image whose header claims more than `maximumPixels`.
    static func checkSize(width: Int, height: Int, format: String, path: String) throws {
        guard width * height <= maximumPixels else {
            throw DataError(path, "\(format) header claims \(width)×\(height) pixels, more than the \(maximumPixels) (2^28) an image may have")
        }
    }

    /// Decodes `path`, chosen by its content (not its extension). For a JPEG, libjpeg-turbo's
    /// DCT scaling decodes at the smallest of 1/8, 1/4 and 1/2 of the size whose shorter side is
    /// still at least `minimumShorterSide`, which makes large photos several times cheaper to load.
    public static func decode(_ path: String, minimumShorterSide: Int = 0) throws -> Pixels {
        let image = try EncodedImage(path: path)
        guard minimumShorterSide > 0 else { return try image.decode() }
        return try image.decode(minimumScale: Double(minimumShorterSide) / Double(min(image.width, image.height)))
    }

    /// The DCT scaling factors below 1 that libjpeg-turbo decodes faster than at full size,
    /// smallest first: 1/8, 1/4 and 1/2, whose inverse DCTs are vectorised. Its other eighths
    /// are slower than a full-size decode, up to twice: on 640 photos of 500×375 here, 1/8 took
    /// 400–435 µs, 1/4 456–460, 3/8 598–605, 1/2 508–535, 5/8 875–938, 3/4 983–992, 7/8
    /// 1,307–1,506, and the full size 692–697.
    static let reducingFactors: [(num: Int, denom: Int)] = {
        var count: Int32 = 0
        guard let factors = tjGetScalingFactors(&count) else { return [] }
        return (0..<Int(count)).map { (Int(factors[$0].num), Int(factors[$0].denom)) }
            .filter { $0.num == 1 && [2, 4, 8].contains($0.denom) }
            .sorted { $0.num * $1.denom < $1.num * $0.denom }
    }()

    /// The size libjpeg-turbo decodes to at the smallest factor ≥ `minimumScale` (the full size
    /// when none below 1 is).
    static func scaledSize(width: Int, height: Int, minimumScale: Double) -> (Int, Int) {
        guard let factor = reducingFactors.first(where: { Double($0.num) / Double($0.denom) >= minimumScale }) else {
            return (width, height)
        }
        // TJSCALED: rounded up.
        return ((width * factor.num + factor.denom - 1) / factor.denom, (height * factor.num + factor.denom - 1) / factor.denom)
    }

    static func decodeJPEG(_ bytes: [UInt8], path: String, width: Int, height: Int) throws -> Pixels {
        guard let handle = tjInitDecompress() else { throw DataError(path, "cannot start the JPEG decoder") }
        defer { tjDestroy(handle) }
        func failure(_ what: String) -> DataError {
            DataError(path, "unreadable JPEG: \(what): \(String(cString: tjGetErrorStr2(handle)))")
        }
        var fullWidth: Int32 = 0, fullHeight: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        let header = bytes.withUnsafeBufferPointer {
            tjDecompressHeader3(handle, $0.baseAddress, UInt($0.count), &fullWidth, &fullHeight, &subsampling, &colorspace)
        }
        guard header == 0 else { throw failure("bad header") }
        let (w, h) = (width, height)
        let cmyk = colorspace == Int32(TJCS_CMYK.rawValue) || colorspace == Int32(TJCS_YCCK.rawValue)
        let channels = cmyk ? 4 : 3
        var out = [UInt8](repeating: 0, count: w * h * channels)
        let format = cmyk ? TJPF_CMYK : TJPF_RGB
        let status = bytes.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                tjDecompress2(handle, src.baseAddress, UInt(src.count), dst.baseAddress, Int32(w), 0, Int32(h),
                              Int32(format.rawValue), 0)
            }
        }
        if status != 0 {
            // Warnings leave a usable image, except a file cut short (the rest is grey).
            let message = String(cString: tjGetErrorStr2(handle))
            if tjGetErrorCode(handle) != Int32(TJERR_WARNING.rawValue) || message.contains("Premature end") {
                throw DataError(path, "unreadable JPEG: \(message)")
            }
        }
        if cmyk {
            // Adobe writes inverted CMYK; as Pillow does, R = C·K/255 and so on.
            var rgb = [UInt8](repeating: 0, count: w * h * 3)
            for p in 0..<(w * h) {
                let k = UInt32(out[4 * p + 3])
                for c in 0..<3 { rgb[3 * p + c] = UInt8(UInt32(out[4 * p + c]) * k / 255) }
            }
            out = rgb
        }
        return Pixels(width: w, height: h, rgb: out)
    }

    static func decodePNG(_ bytes: [UInt8], path: String) throws -> Pixels {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        defer { png_image_free(&image) }
        func message() -> String {
            withUnsafeBytes(of: image.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        let begun = bytes.withUnsafeBufferPointer { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
        guard begun != 0 else { throw DataError(path, "unreadable PNG: \(message())") }
        // A 16-bit file without gAMA or sRGB chunks holds sRGB values, as every other reader
        // (and Pillow's mode I) takes it; libpng would otherwise read them as linear light and
        // brighten the image.
        image.flags |= UInt32(PNG_IMAGE_FLAG_16BIT_sRGB)
        image.format = UInt32(PNG_FORMAT_RGB)
        let w = Int(image.width), h = Int(image.height)
        var out = [UInt8](repeating: 0, count: w * h * 3)
        // Transparent pixels are composited on black, as libpng does without a background.
        let finished = out.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
        guard finished != 0 else { throw DataError(path, "unreadable PNG: \(message())") }
        return Pixels(width: w, height: h, rgb: out)
    }
}

extension ImageDecoder.Pixels {
    /// The image resized so its shorter side is `side` (bilinear with antialiasing, as
    /// torchvision's `Resize`), then centre-cropped to `side`×`side`: uint8 [3, side, side].
    public func squareTensor(side: Int) -> Tensor {
        let hwc = Tensor(rgb, shape: [height, width, 3])
        var image = hwc.permute([2, 0, 1]).unsqueeze(0)
        if min(width, height) != side || width != height {
            let scale = Double(side) / Double(min(width, height))
            let newHeight = max(side, Int((Double(height) * scale).rounded()))
            let newWidth = max(side, Int((Double(width) * scale).rounded()))
            let resized = interpolate(image.to(.float32), size: [newHeight, newWidth], mode: .bilinear, antialias: true)
            let top = (newHeight - side) / 2, left = (newWidth - side) / 2
            image = resized.narrow(dim: 2, start: top, length: side).narrow(dim: 3, start: left, length: side)
                .round().clamp(min: 0, max: 255).to(.uint8)
        }
        return image.squeeze(dim: 0).contiguous()
    }
}

import CJPEG
import Torch

/// ImageNet-C's `jpeg_compression`: each image saved as a JPEG of the given quality and read
/// back, through libjpeg-turbo as Pillow does (`save(format='JPEG', quality=q)`: 8-bit RGB,
/// 4:2:0 chroma subsampling, the IJG tables scaled by the quality, and libjpeg's default
/// accurate integer DCT, which TurboJPEG only uses when asked: TJFLAG_ACCURATEDCT).
enum JPEGRoundTrip {
    /// [B, 3, H, W] in [0, 1] → the same after compression, on the same device.
    static func apply(_ x: Tensor, quality: Int) -> Tensor {
        let (b, h, w) = (x.size(0), x.size(2), x.size(3))
        let pixels = (x.to(.cpu) * 255.0).round().clamp(min: 0, max: 255).to(.uint8).permute([0, 2, 3, 1]).contiguous()
        let source = pixels.bytes()
        let imageBytes = h * w * 3
        var decoded = [UInt8](repeating: 0, count: source.count)
        for image in 0..<b {
            let range = image * imageBytes..<(image + 1) * imageBytes
            let jpeg = compress(Array(source[range]), width: w, height: h, quality: quality)
            decoded.replaceSubrange(range, with: decompress(jpeg, width: w, height: h))
        }
        let result = Tensor(bytes: decoded, shape: [b, h, w, 3], dtype: .uint8).permute([0, 3, 1, 2])
        return (result.to(x.dtype) / 255.0).to(x.device).contiguous()
    }

    static func compress(_ rgb: [UInt8], width: Int, height: Int, quality: Int) -> [UInt8] {
        guard let handle = tjInitCompress() else { preconditionFailure("libjpeg-turbo: cannot start a JPEG encoder") }
        defer { tjDestroy(handle) }
        var buffer: UnsafeMutablePointer<UInt8>?
        var size: UInt = 0
        let status = rgb.withUnsafeBufferPointer {
            tjCompress2(handle, $0.baseAddress, Int32(width), 0, Int32(height), Int32(TJPF_RGB.rawValue), &buffer, &size,
                        Int32(TJSAMP_420.rawValue), Int32(quality), TJFLAG_ACCURATEDCT)
        }
        defer { tjFree(buffer) }
        guard status == 0, let buffer else {
            preconditionFailure("libjpeg-turbo: cannot encode a \(width)×\(height) image: \(String(cString: tjGetErrorStr2(handle)))")
        }
        return Array(UnsafeBufferPointer(start: buffer, count: Int(size)))
    }

    static func decompress(_ jpeg: [UInt8], width: Int, height: Int) -> [UInt8] {
        guard let handle = tjInitDecompress() else { preconditionFailure("libjpeg-turbo: cannot start a JPEG decoder") }
        defer { tjDestroy(handle) }
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        let status = jpeg.withUnsafeBufferPointer { src in
            rgb.withUnsafeMutableBufferPointer { dst in
                tjDecompress2(handle, src.baseAddress, UInt(src.count), dst.baseAddress, Int32(width), 0, Int32(height),
                              Int32(TJPF_RGB.rawValue), TJFLAG_ACCURATEDCT)
            }
        }
        guard status == 0 else {
            preconditionFailure("libjpeg-turbo: cannot decode its own JPEG: \(String(cString: tjGetErrorStr2(handle)))")
        }
        return rgb
    }
}

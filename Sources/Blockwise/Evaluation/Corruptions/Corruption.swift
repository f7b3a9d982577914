import Foundation
import Torch

/// The ImageNet-C corruptions (Hendrycks & Dietterich 2019) that need no external image
/// assets, with the severity constants of `imagenet_c/corruptions.py`, as batched tensor ops
/// on RGB images [B, 3, H, W] in [0, 1] (a grey batch [B, 1, H, W] is replicated to RGB first).
///
/// The constants were set for 224-pixel images. Photometric constants (noise levels,
/// contrast, brightness, saturation, JPEG quality) do not depend on the size and are used as
/// they are. Spatial ones are scaled by `min(H, W) / 224`: the Gaussian blur's σ and the
/// defocus disk's radius (and the disk's zero border of 8 pixels); the disk's anti-aliasing
/// σ is a per-pixel quantity and stays. For 32-pixel images this gives defocus radii 0.43–1.43
/// and blur σ 0.14–0.86, close to the constants Hendrycks & Dietterich chose by hand for
/// CIFAR-10-C (radii 0.3–1.5, σ 0.4–1). Pixelate is already a fraction of the side.
public enum Corruption: String, CaseIterable, Sendable, Codable {
    case gaussianNoise = "gaussian_noise"
    case shotNoise = "shot_noise"
    case impulseNoise = "impulse_noise"
    case defocusBlur = "defocus_blur"
    case gaussianBlur = "gaussian_blur"
    case contrast
    case brightness
    case saturate
    case pixelate
    case jpegCompression = "jpeg_compression"

    /// ImageNet-C's five severities, mild to extreme.
    public static let severities = 1...5

    /// The corrupted images, in [0, 1], same shape (RGB) and device as `x`.
    /// `spatialScale` multiplies the spatial constants (by default `min(H, W) / 224`; 1 gives
    /// ImageNet-C's own). `generator` drives the noises; it must live on `x`'s device.
    public func apply(_ x: Tensor, severity: Int, spatialScale: Double? = nil, generator: Generator? = nil) -> Tensor {
        precondition(Corruption.severities.contains(severity), "severity must be in 1...5, got \(severity)")
        let x = x.size(1) == 1 ? x.expand([x.size(0), 3, x.size(2), x.size(3)]) : x
        let level = severity - 1
        let scale = spatialScale ?? Double(min(x.size(2), x.size(3))) / 224
        return withNoGrad {
            switch self {
            case .gaussianNoise:
                let c = [0.08, 0.12, 0.18, 0.26, 0.38][level]
                return (x + Tensor.randn(x.shape, dtype: x.dtype, device: x.device, generator: generator) * c).clamp(min: 0, max: 1)
            case .shotNoise:
                let c = [60.0, 25, 12, 5, 3][level]
                return ((x * c).poisson(generator: generator) / c).clamp(min: 0, max: 1)
            case .impulseNoise:
                // skimage's random_noise(mode='s&p', amount=c): each element is hit with
                // probability c, and a hit element is salt (1) or pepper (0) with even odds.
                let c = [0.03, 0.06, 0.09, 0.17, 0.27][level]
                let hit = Tensor.rand(x.shape, dtype: x.dtype, device: x.device, generator: generator) .< Scalar.double(c)
                let salt = Tensor.rand(x.shape, dtype: x.dtype, device: x.device, generator: generator) .< Scalar.double(0.5)
                return `where`(hit, salt.to(x.dtype), x)
            case .defocusBlur:
                let (radius, aliasBlur) = [(3.0, 0.1), (4, 0.5), (6, 0.5), (8, 0.5), (10, 0.5)][level]
                let kernel = DefocusKernel.disk(radius: radius * scale, aliasBlur: aliasBlur,
                                                border: 8 * scale, antialiasSize: radius <= 8 ? 3 : 5)
                return filterChannels(x, kernel: kernel, padding: .reflect).clamp(min: 0, max: 1)
            case .gaussianBlur:
                let sigma = [1.0, 2, 3, 4, 6][level] * scale
                return gaussianBlurNearest(x, sigma: sigma).clamp(min: 0, max: 1)
            case .contrast:
                let c = [0.4, 0.3, 0.2, 0.1, 0.05][level]
                let means = x.mean(dims: [2, 3], keepDims: true)
                return ((x - means) * c + means).clamp(min: 0, max: 1)
            case .brightness:
                let c = [0.1, 0.2, 0.3, 0.4, 0.5][level]
                let hsv = rgbToHSV(x)
                let value = (hsv.narrow(dim: 1, start: 2, length: 1) + c).clamp(min: 0, max: 1)
                return hsvToRGB(Tensor.cat([hsv.narrow(dim: 1, start: 0, length: 2), value], dim: 1)).clamp(min: 0, max: 1)
            case .saturate:
                let (factor, shift) = [(0.3, 0.0), (0.1, 0), (2, 0), (5, 0.1), (20, 0.2)][level]
                let hsv = rgbToHSV(x)
                let saturation = (hsv.narrow(dim: 1, start: 1, length: 1) * factor + shift).clamp(min: 0, max: 1)
                return hsvToRGB(Tensor.cat([hsv.narrow(dim: 1, start: 0, length: 1), saturation,
                                            hsv.narrow(dim: 1, start: 2, length: 1)], dim: 1)).clamp(min: 0, max: 1)
            case .pixelate:
                // PIL: resize to int(side·c) with the BOX filter, then back with the BOX filter.
                let c = [0.6, 0.5, 0.4, 0.3, 0.25][level]
                let (h, w) = (x.size(2), x.size(3))
                let small = BoxResampling.resize(x, height: max(1, Int(Double(h) * c)), width: max(1, Int(Double(w) * c)))
                return BoxResampling.resize(small, height: h, width: w)
            case .jpegCompression:
                let quality = [25, 18, 15, 10, 7][level]
                return JPEGRoundTrip.apply(x, quality: quality)
            }
        }
    }
}

/// Correlates every channel of [B, C, H, W] with one odd-sized square kernel (OpenCV's
/// `filter2D`), padding the borders by `padding` (reflect = OpenCV's BORDER_REFLECT_101).
func filterChannels(_ x: Tensor, kernel: [[Double]], padding: PaddingMode) -> Tensor {
    let (b, c, h, w) = (x.size(0), x.size(1), x.size(2), x.size(3))
    let k = kernel.count, half = kernel.count / 2
    let weight = Tensor(kernel.flatMap { $0.map { Float($0) } }, shape: [1, 1, k, k]).to(x.device, x.dtype)
    let padded = pad(x.reshape([b * c, 1, h, w]), [half, half, half, half], mode: padding)
    return conv2d(padded, weight: weight).view([b, c, h, w])
}

/// `scipy.ndimage.gaussian_filter(mode='nearest', truncate=4)`, what skimage's `gaussian`
/// does per channel: weights exp(−x²/2σ²) over a radius of int(4σ + 0.5), normalised, with
/// the edge pixels repeated outside the image; separable.
func gaussianBlurNearest(_ x: Tensor, sigma: Double) -> Tensor {
    let radius = Int(4 * sigma + 0.5)
    guard radius > 0 else { return x }
    let weights = (-radius...radius).map { exp(-0.5 * Double($0 * $0) / (sigma * sigma)) }
    let total = weights.reduce(0, +)
    let kernel = weights.map { Float($0 / total) }
    let (b, c, h, w) = (x.size(0), x.size(1), x.size(2), x.size(3))
    let k = 2 * radius + 1
    let taps = Tensor(kernel, shape: [1, 1, k, 1]).to(x.device, x.dtype)
    let padded = pad(x.reshape([b * c, 1, h, w]), [radius, radius, radius, radius], mode: .replicate)
    let vertical = conv2d(padded, weight: taps)
    return conv2d(vertical, weight: taps.view([1, 1, 1, k])).view([b, c, h, w])
}

import CImaging
import Torch

// torchvision's colour operations (transforms.functional_tensor, 0.14) on float RGB batches
// [B, 3, H, W] in [0, 1], with one factor per sample ([B] tensors) instead of one per call.

/// Per-sample factors [B] shaped to broadcast over [B, C, H, W].
func perSample(_ factors: Tensor) -> Tensor { factors.view([-1, 1, 1, 1]) }

/// torchvision's `_blend`: ratio·a + (1 − ratio)·b, clamped to [0, 1].
func blend(_ a: Tensor, _ b: Tensor, _ ratio: Tensor) -> Tensor {
    let r = perSample(ratio)
    return (r * a + (1.0 - r) * b).clamp(min: 0, max: 1)
}

/// Luma with torchvision's weights (0.2989, 0.587, 0.114): [B, 1, H, W].
public func rgbToGrayscale(_ x: Tensor) -> Tensor {
    let r = x.narrow(dim: 1, start: 0, length: 1), g = x.narrow(dim: 1, start: 1, length: 1), b = x.narrow(dim: 1, start: 2, length: 1)
    return r * 0.2989 + g * 0.587 + b * 0.114
}

/// `adjust_brightness`: scales towards black.
public func adjustBrightness(_ x: Tensor, factor: Tensor) -> Tensor {
    blend(x, Tensor.zeros([1], dtype: x.dtype, device: x.device), factor)
}

/// `adjust_contrast`: blends with the mean grey level of each image.
public func adjustContrast(_ x: Tensor, factor: Tensor) -> Tensor {
    blend(x, rgbToGrayscale(x).mean(dims: [1, 2, 3], keepDims: true), factor)
}

/// `adjust_saturation`: blends with each image's grey version.
public func adjustSaturation(_ x: Tensor, factor: Tensor) -> Tensor {
    blend(x, rgbToGrayscale(x), factor)
}

/// `adjust_hue`: rotates the hue by `factor` (in turns, within [−0.5, 0.5]) through HSV.
/// float32 on the CPU in C (`ci_adjust_hue`, one pass per view instead of some sixty).
public func adjustHue(_ x: Tensor, factor: Tensor) -> Tensor {
    if x.rank == 4, x.size(1) == 3,
       let turned = onCPUImageKernel(x, parameters: factor.to(.cpu, .float32).expand([x.size(0)]), { data, factors in
           ci_adjust_hue(data, Int64(x.size(0)), Int64(x.size(2) * x.size(3)), factors)
       }) {
        return turned
    }
    let hsv = rgbToHSV(x)
    let h = (hsv.narrow(dim: 1, start: 0, length: 1) + perSample(factor)).remainder(Tensor(1.0, dtype: x.dtype, device: x.device))
    return hsvToRGB(Tensor.cat([h, hsv.narrow(dim: 1, start: 1, length: 2)], dim: 1))
}

/// `solarize`: inverts the pixels at or above `threshold`.
public func solarize(_ x: Tensor, threshold: Double) -> Tensor {
    `where`(x .>= Scalar.double(threshold), 1.0 - x, x)
}

/// torchvision's `_rgb2hsv`, channel for channel.
public func rgbToHSV(_ x: Tensor) -> Tensor {
    let r = x.narrow(dim: 1, start: 0, length: 1), g = x.narrow(dim: 1, start: 1, length: 1), b = x.narrow(dim: 1, start: 2, length: 1)
    let maxc = x.amax(dims: [1], keepDims: true), minc = x.amin(dims: [1], keepDims: true)
    let eqc = maxc .== minc
    let cr = maxc - minc
    let ones = Tensor.ones(like: maxc)
    let s = cr / `where`(eqc, ones, maxc)
    let crDivisor = `where`(eqc, ones, cr)
    let rc = (maxc - r) / crDivisor, gc = (maxc - g) / crDivisor, bc = (maxc - b) / crDivisor
    let isR = maxc .== r, isG = maxc .== g
    let hr = isR.to(x.dtype) * (bc - gc)
    let hg = isG.logicalAnd(isR.logicalNot()).to(x.dtype) * (2.0 + rc - bc)
    let hb = isG.logicalNot().logicalAnd(isR.logicalNot()).to(x.dtype) * (4.0 + gc - rc)
    let h = ((hr + hg + hb) / 6.0 + 1.0).remainder(Tensor(1.0, dtype: x.dtype, device: x.device))
    return Tensor.cat([h, s, maxc], dim: 1)
}

/// torchvision's `_hsv2rgb`: the sector i = ⌊6h⌋ picks which of v, p, q, t each channel takes.
public func hsvToRGB(_ x: Tensor) -> Tensor {
    let h = x.narrow(dim: 1, start: 0, length: 1), s = x.narrow(dim: 1, start: 1, length: 1), v = x.narrow(dim: 1, start: 2, length: 1)
    let i = (h * 6.0).floor()
    let f = h * 6.0 - i
    let sector = i.to(.int32).remainder(Tensor(6.0, dtype: .int32, device: x.device))
    let p = (v * (1.0 - s)).clamp(min: 0, max: 1)
    let q = (v * (1.0 - s * f)).clamp(min: 0, max: 1)
    let t = (v * (1.0 - s * (1.0 - f))).clamp(min: 0, max: 1)
    let masks = (0..<6).map { (sector .== Scalar.int($0)).to(x.dtype) }
    func pick(_ values: [Tensor]) -> Tensor {
        zip(masks, values).map { $0 * $1 }.reduce { $0 + $1 }!
    }
    return Tensor.cat([pick([v, q, p, p, t, v]), pick([t, v, v, q, p, p]), pick([p, p, t, v, v, q])], dim: 1)
}

extension Sequence {
    fileprivate func reduce(_ combine: (Element, Element) -> Element) -> Element? {
        var iterator = makeIterator()
        guard var result = iterator.next() else { return nil }
        while let next = iterator.next() { result = combine(result, next) }
        return result
    }
}

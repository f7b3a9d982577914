import Torch

/// Crops of a batch, one box per sample (in pixels of the source images).
public struct CropBoxes: Sendable, Equatable {
    public var top: [Int], left: [Int], height: [Int], width: [Int]

    public init(top: [Int], left: [Int], height: [Int], width: [Int]) {
        self.top = top
        self.left = left
        self.height = height
        self.width = width
    }

    /// The whole image for each of `count` samples.
    public static func whole(count: Int, height: Int, width: Int) -> CropBoxes {
        CropBoxes(top: Array(repeating: 0, count: count), left: Array(repeating: 0, count: count),
                  height: Array(repeating: height, count: count), width: Array(repeating: width, count: count))
    }
}

/// torchvision's `resized_crop` with bicubic, antialiased resampling (PIL's bicubic, which
/// Barlow Twins used), for a whole batch with one box per sample, optionally mirrored.
///
/// Resampling is separable, so each sample's crop-and-resize is two matrices: rows
/// [S_h, H] and columns [S_w, W], holding the same weights as ATen's antialiased bicubic
/// kernel (Keys' cubic with a = −0.5, widened by the scale when shrinking). The batch is
/// then two batched matrix products, on whatever device `x` is, however the boxes differ.
/// A horizontal flip is the column matrix with its rows reversed.
public func resizedCrop(_ x: Tensor, boxes: CropBoxes, size: [Int], flip: [Bool]? = nil) -> Tensor {
    let rows = resamplingMatrix(offset: boxes.top, length: boxes.height, source: x.size(2), output: size[0],
                                device: x.device, dtype: x.dtype)
    var columns = resamplingMatrix(offset: boxes.left, length: boxes.width, source: x.size(3), output: size[1],
                                   device: x.device, dtype: x.dtype)
    if let flip, flip.contains(true) {
        let mask = Tensor(flip, shape: [flip.count, 1, 1]).to(x.device)
        columns = `where`(mask, columns.flip([1]), columns)
    }
    // [B, 1, S_h, H] · [B, C, H, W] · [B, 1, W, S_w]
    return rows.unsqueeze(1).matmul(x).matmul(columns.unsqueeze(1).transpose(2, 3))
}

/// ATen's antialiased bicubic weights (`_compute_weights_aa`) for one axis of each sample:
/// [B, output, source], mapping the source segment offset..<offset+length onto `output` pixels.
func resamplingMatrix(offset: [Int], length: [Int], source: Int, output: Int, device: Device, dtype: DType) -> Tensor {
    let b = offset.count
    let scales = length.map { Double($0) / Double(output) }
    let supports = scales.map { $0 >= 1 ? 2 * $0 : 2 }
    let taps = Int((2 * (supports.max() ?? 2)).rounded(.up)) + 1
    func column(_ values: [Double]) -> Tensor { Tensor(values.map { Float($0) }, shape: [b, 1, 1]).to(device, dtype) }
    let scale = column(scales), support = column(supports), invscale = column(scales.map { $0 >= 1 ? 1 / $0 : 1 })
    let size = column(length.map(Double.init))
    let center = scale * (Tensor.arange(0, .int(output), dtype: dtype, device: device).view([1, output, 1]) + 0.5)
    let low = (center - support + 0.5).floor().clamp(min: 0)
    let high = (center + support + 0.5).floor().minimum(size)
    let position = low + Tensor.arange(0, .int(taps), dtype: dtype, device: device).view([1, 1, taps])
    let valid = (position .< high).to(dtype)
    let weights = keysCubic((position - center + 0.5) * invscale) * valid
    let total = weights.sum(dims: [2], keepDims: true)
    let normalised = weights / `where`(total .== 0.0, Tensor.ones(like: total), total)
    let index = (position.minimum(size - 1.0) + column(offset.map(Double.init))).to(.int64).expand([b, output, taps])
    return Tensor.zeros([b, output, source], dtype: dtype, device: device).scatterAdd(dim: 2, index: index, source: normalised)
}

/// Keys' cubic convolution kernel with a = −0.5 (PIL's and ATen's antialiased bicubic).
func keysCubic(_ t: Tensor) -> Tensor {
    let x = t.abs()
    let a = -0.5
    let near = ((a + 2) * x - (a + 3)) * x * x + 1.0
    let far = (((x - 5.0) * x + 8.0) * x - 4.0) * a
    return `where`(x .< 1.0, near, `where`(x .< 2.0, far, Tensor.zeros(like: x)))
}

import Torch

/// PIL's `Image.resize(..., Image.BOX)` on float images, as a pair of resampling matrices
/// (Pillow's `precompute_coeffs` in libImaging/Resample.c). Each output pixel averages the
/// input pixels whose centres fall in its box, with equal weights; upscaling repeats pixels.
/// PIL rounds 8-bit images to integers after each pass; these float images are not rounded.
enum BoxResampling {
    /// [B, C, H, W] → [B, C, height, width].
    static func resize(_ x: Tensor, height: Int, width: Int) -> Tensor {
        let rows = matrix(from: x.size(2), to: height).to(x.device, x.dtype)
        let columns = matrix(from: x.size(3), to: width).to(x.device, x.dtype)
        return rows.matmul(x).matmul(columns.t)
    }

    /// The [outSize, inSize] matrix of one pass.
    static func matrix(from inSize: Int, to outSize: Int) -> Tensor {
        let scale = Double(inSize) / Double(outSize)
        let filterScale = max(scale, 1)
        let support = 0.5 * filterScale
        var weights = [Float](repeating: 0, count: outSize * inSize)
        for out in 0..<outSize {
            let centre = (Double(out) + 0.5) * scale
            // C's (int) truncates towards zero.
            let low = max(0, Int(centre - support + 0.5))
            let high = min(inSize, Int(centre + support + 0.5))
            let taps = (low..<max(low, high)).map { x -> Double in
                let t = (Double(x) - centre + 0.5) / filterScale
                return t > -0.5 && t <= 0.5 ? 1 : 0
            }
            let total = taps.reduce(0, +)
            for (offset, tap) in taps.enumerated() where total > 0 {
                weights[out * inSize + low + offset] = Float(tap / total)
            }
        }
        return Tensor(weights, shape: [outSize, inSize])
    }
}

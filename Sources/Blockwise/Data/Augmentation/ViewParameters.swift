import Foundation
import Torch

/// The random choices for one view of each sample of a batch, drawn on the CPU from a seeded
/// generator (so the same seed gives the same views on any device), then applied as batched
/// tensor ops on the training device.
public struct ViewParameters: Sendable, Equatable {
    public var crop: CropBoxes
    /// The 22 uniforms each sample's box was drawn from (`randomResizedCropBox`), so that the
    /// box can be drawn again on an image of another size: whole-image views know an image's
    /// size only once its file is read.
    public var cropDraws: [[Double]] = []
    public var flip: [Bool]
    public var jitter: [Bool]
    /// Per sample: brightness, contrast, saturation and hue factors.
    public var jitterFactors: [[Double]]
    /// Per sample: the order of the four jitter ops (0 brightness, 1 contrast, 2 saturation,
    /// 3 hue), a random permutation as torchvision's ColorJitter draws one per call.
    public var jitterOrder: [[Int]]
    public var grayscale: [Bool]
    public var blur: [Bool]
    public var blurSigma: [Double]
    public var solarize: [Bool]

    public var count: Int { flip.count }

    /// Draws parameters for `count` images of `height`×`width`.
    public static func draw(_ augmentation: ViewAugmentation, count: Int, height: Int, width: Int,
                            generator: Generator) -> ViewParameters {
        func uniforms(_ columns: Int) -> [[Double]] {
            let flat = Tensor.rand([count, columns], dtype: .float64, generator: generator).toArray(Double.self)
            return (0..<count).map { Array(flat[($0 * columns)..<($0 * columns + columns)]) }
        }
        let cropDraws = uniforms(22)
        let flipDraws = uniforms(1), jitterDraws = uniforms(9), grayDraws = uniforms(1), blurDraws = uniforms(2), solarizeDraws = uniforms(1)

        var crop = CropBoxes(top: [], left: [], height: [], width: [])
        for draws in cropDraws {
            let box = augmentation.cropBox(height: height, width: width, draws: draws)
            crop.top.append(box.top); crop.left.append(box.left); crop.height.append(box.height); crop.width.append(box.width)
        }
        let a = augmentation
        return ViewParameters(
            crop: crop, cropDraws: cropDraws,
            flip: flipDraws.map { $0[0] < a.flipProbability },
            jitter: jitterDraws.map { $0[0] < a.jitterProbability },
            jitterFactors: jitterDraws.map { d in
                [1 + a.brightness * (2 * d[1] - 1), 1 + a.contrast * (2 * d[2] - 1),
                 1 + a.saturation * (2 * d[3] - 1), a.hue * (2 * d[4] - 1)]
            },
            jitterOrder: jitterDraws.map { d in (0..<4).sorted { d[5 + $0] < d[5 + $1] } },
            grayscale: grayDraws.map { $0[0] < a.grayscaleProbability },
            blur: blurDraws.map { $0[0] < a.blurProbability },
            blurSigma: blurDraws.map { a.blurSigma.lowerBound + (a.blurSigma.upperBound - a.blurSigma.lowerBound) * $0[1] },
            solarize: solarizeDraws.map { $0[0] < a.solarizeProbability })
    }
}

/// torchvision's `RandomResizedCrop.get_params` (0.14): up to ten tries of an area fraction
/// and a log-uniform aspect ratio, then a centre crop of the clamped ratio. `uniforms` holds
/// 22 draws in [0, 1): two per try for area and ratio, then two for the position.
/// Returns (top, left, height, width).
func randomResizedCropBox(height: Int, width: Int, scale: ClosedRange<Double>, ratio: ClosedRange<Double>,
                          uniforms u: [Double]) -> (Int, Int, Int, Int) {
    let area = Double(height * width)
    let logRatio = (ratio.lowerBound.log(), ratio.upperBound.log())
    for attempt in 0..<10 {
        let target = area * (scale.lowerBound + (scale.upperBound - scale.lowerBound) * u[2 * attempt])
        let aspect = (logRatio.0 + (logRatio.1 - logRatio.0) * u[2 * attempt + 1]).exp()
        // Python's round() rounds halves to even.
        let w = Int((target * aspect).squareRoot().rounded(.toNearestOrEven))
        let h = Int((target / aspect).squareRoot().rounded(.toNearestOrEven))
        if w > 0, w <= width, h > 0, h <= height {
            let top = Int(u[20] * Double(height - h + 1)), left = Int(u[21] * Double(width - w + 1))
            return (top, left, h, w)
        }
    }
    let inRatio = Double(width) / Double(height)
    var w = width, h = height
    if inRatio < ratio.lowerBound {
        h = Int((Double(w) / ratio.lowerBound).rounded(.toNearestOrEven))
    } else if inRatio > ratio.upperBound {
        w = Int((Double(h) * ratio.upperBound).rounded(.toNearestOrEven))
    }
    return ((height - h) / 2, (width - w) / 2, h, w)
}

extension ViewAugmentation {
    /// The crop box of one sample of `height`×`width` from its 22 draws: RandomResizedCrop's,
    /// or the whole image when the view keeps it.
    public func cropBox(height: Int, width: Int, draws: [Double]) -> (top: Int, left: Int, height: Int, width: Int) {
        guard let cropScale else { return (0, 0, height, width) }
        let box = randomResizedCropBox(height: height, width: width, scale: cropScale, ratio: cropRatio, uniforms: draws)
        return (box.0, box.1, box.2, box.3)
    }
}

extension Double {
    fileprivate func log() -> Double { Foundation.log(self) }
    fileprivate func exp() -> Double { Foundation.exp(self) }
}

extension ViewParameters {
    /// The parameters of the samples at `rows`, in that order.
    public func rows(_ rows: [Int]) -> ViewParameters {
        ViewParameters(
            crop: CropBoxes(top: rows.map { crop.top[$0] }, left: rows.map { crop.left[$0] },
                            height: rows.map { crop.height[$0] }, width: rows.map { crop.width[$0] }),
            cropDraws: rows.map { cropDraws[$0] },
            flip: rows.map { flip[$0] }, jitter: rows.map { jitter[$0] }, jitterFactors: rows.map { jitterFactors[$0] },
            jitterOrder: rows.map { jitterOrder[$0] }, grayscale: rows.map { grayscale[$0] }, blur: rows.map { blur[$0] },
            blurSigma: rows.map { blurSigma[$0] }, solarize: rows.map { solarize[$0] })
    }
}

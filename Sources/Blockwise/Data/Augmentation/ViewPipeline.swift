import Torch

extension ViewAugmentation {
    /// Makes one view of a batch in Barlow Twins' order: resized crop and flip, colour jitter,
    /// grayscale, blur, solarisation. `images` is float [B, C, H, W] in [0, 1] on the training
    /// device (C = 1 is replicated to RGB after the crop, as most SSL code does, so every colour
    /// op acts as on an RGB image); the result is float [B, 3, side, side] in [0, 1].
    ///
    /// Bicubic resampling can overshoot [0, 1]; the crop is clamped, as PIL's uint8 images are.
    /// Samples that skip an op (a jitter op, blur) are left out of it, not passed through it
    /// with a neutral factor, so a skipped op changes nothing at all.
    public func apply(_ parameters: ViewParameters, to images: Tensor, side: Int) -> Tensor {
        applyAfterCrop(parameters, to: resizedCrop(parameters, of: images, side: side))
    }

    /// The resized crops and flips of `images`, clamped to [0, 1].
    func resizedCrop(_ parameters: ViewParameters, of images: Tensor, side: Int) -> Tensor {
        Blockwise.resizedCrop(images, boxes: parameters.crop, size: [side, side], flip: parameters.flip).clamp(min: 0, max: 1)
    }

    /// The steps after the resized crop and flip, on float crops [B, C, side, side] in [0, 1]:
    /// what is left to do on the training device for views cut while decoding (image folders).
    public func applyAfterCrop(_ parameters: ViewParameters, to crops: Tensor) -> Tensor {
        let b = parameters.count, side = crops.size(2)
        var x = crops
        if x.size(1) == 1 { x = x.expand([b, 3, side, side]) }
        let device = x.device, dtype = x.dtype
        func factors(_ values: [Double]) -> Tensor { Tensor(values.map { Float($0) }).to(device, dtype) }
        func mask(_ values: [Bool]) -> Tensor { Tensor(values, shape: [b, 1, 1, 1]).to(device) }

        x = colorJitter(x, parameters)
        if parameters.grayscale.contains(true) {
            x = `where`(mask(parameters.grayscale), rgbToGrayscale(x).expand([b, 3, side, side]), x)
        }
        let blurred = (0..<b).filter { parameters.blur[$0] }
        if !blurred.isEmpty {
            x = onSubset(x, blurred) {
                gaussianBlur($0, kernelSize: blurKernelSize(side: side), sigma: factors(blurred.map { parameters.blurSigma[$0] }))
            }
        }
        if parameters.solarize.contains(true) {
            // 0.5 on [0, 1] floats; PIL's 128 on uint8 splits the 256 levels the same way.
            x = `where`(mask(parameters.solarize), solarize(x, threshold: 0.5), x)
        }
        return x
    }
}

/// torchvision's ColorJitter, per sample: the four ops in the sample's own order, for the
/// samples whose jitter is on.
public func colorJitter(_ x: Tensor, _ parameters: ViewParameters) -> Tensor {
    let b = parameters.count
    guard parameters.jitter.contains(true) else { return x }
    // At each stage every sample runs one op, the one its permutation puts there: each op runs
    // on the samples that chose it (a quarter of the batch), not on all of them with a neutral
    // factor, so the batch costs what each sample's four ops cost.
    var x = x.contiguous().clone()
    for stage in 0..<4 {
        for op in 0..<4 {
            let samples = (0..<b).filter { parameters.jitter[$0] && parameters.jitterOrder[$0][stage] == op }
            guard !samples.isEmpty else { continue }
            let factor = Tensor(samples.map { Float(parameters.jitterFactors[$0][op]) }).to(x.device, x.dtype)
            x = replacingSubset(x, samples) { subset in
                switch op {
                case 0: return adjustBrightness(subset, factor: factor)
                case 1: return adjustContrast(subset, factor: factor)
                case 2: return adjustSaturation(subset, factor: factor)
                default: return adjustHue(subset, factor: factor)
                }
            }
        }
    }
    return x
}

/// `x`, which the caller owns (contiguous), with the samples at `indices` replaced in place by
/// `body` of them.
func replacingSubset(_ x: Tensor, _ indices: [Int], _ body: (Tensor) -> Tensor) -> Tensor {
    if indices.count == x.size(0) { return body(x) }
    let index = Tensor(indices).to(x.device)
    return x.indexCopy_(dim: 0, index: index, source: body(x.indexSelect(dim: 0, index: index)))
}

/// `x` with the samples at `indices` replaced by `body` of them.
func onSubset(_ x: Tensor, _ indices: [Int], _ body: (Tensor) -> Tensor) -> Tensor {
    if indices.count == x.size(0) { return body(x) }
    let index = Tensor(indices).to(x.device)
    return x.contiguous().clone().indexCopy_(dim: 0, index: index, source: body(x.indexSelect(dim: 0, index: index)))
}

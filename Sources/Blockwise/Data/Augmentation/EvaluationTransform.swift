import Torch

/// The deterministic transform of evaluation (linear probes, features): torchvision's
/// `Resize(resize)` (shorter side, bicubic, antialiased) + `CenterCrop(crop)`, or the image as it
/// is; then normalisation.
public struct EvaluationTransform: Sendable, Equatable {
    /// Shorter side after resizing and side of the centre crop; nil keeps the images as they are.
    public var resize: Int?
    public var crop: Int?
    public var normalization: ChannelStatistics
    /// Replicate grey images to RGB, as the training views are.
    public var replicateToRGB: Bool

    public init(resize: Int? = nil, crop: Int? = nil, normalization: ChannelStatistics, replicateToRGB: Bool = true) {
        self.resize = resize
        self.crop = crop
        self.normalization = normalization
        self.replicateToRGB = replicateToRGB
    }

    /// ImageNet's evaluation: resize to 256·side/224, centre crop `side`.
    public static func imagenet(side: Int) -> EvaluationTransform {
        EvaluationTransform(resize: Int((Double(side) * 256 / 224).rounded()), crop: side, normalization: .imagenet)
    }

    /// uint8 [B, C, H, W] → normalised float on `device`.
    public func callAsFunction(_ images: Tensor, device: Device = .cpu) -> Tensor {
        transform(toUnitFloat(images, device: device))
    }

    /// The same for float images in [0, 1] already on their device.
    public func transform(_ x: Tensor) -> Tensor {
        var x = x
        let (h, w) = (x.size(2), x.size(3))
        if let resize {
            // torchvision: the shorter side becomes `resize`, the longer int(resize · long / short).
            let (newH, newW) = h <= w ? (resize, Int(Double(resize) * Double(w) / Double(h))) : (Int(Double(resize) * Double(h) / Double(w)), resize)
            if (newH, newW) != (h, w) { x = interpolate(x, size: [newH, newW], mode: .bicubic, antialias: true) }
        }
        if let crop {
            let (h, w) = (x.size(2), x.size(3))
            let top = Int((Double(h - crop) / 2).rounded(.toNearestOrEven)), left = Int((Double(w - crop) / 2).rounded(.toNearestOrEven))
            x = x.narrow(dim: 2, start: top, length: crop).narrow(dim: 3, start: left, length: crop)
        }
        if replicateToRGB, x.size(1) == 1 { x = x.expand([x.size(0), 3, x.size(2), x.size(3)]) }
        return normalized(x, normalization.replicated(to: x.size(1)))
    }
}

extension EvaluationTransform {
    /// The evaluation transform of a run trained on `side`×`side` views: images already of
    /// that size pass as they are; larger ones are resized to side·256/224 and centre-cropped
    /// to `side` (ImageNet's evaluation); smaller ones are resized up to `side`. Then the
    /// dataset's normalisation, as the training views.
    public static func matching(_ dataset: any ImageDataset, side: Int) -> EvaluationTransform {
        let stored = Swift.min(dataset.imageShape[1], dataset.imageShape[2])
        let square = dataset.imageShape[1] == dataset.imageShape[2]
        if stored == side {
            return EvaluationTransform(crop: square ? nil : side, normalization: dataset.statistics)
        }
        if stored > side {
            return EvaluationTransform(resize: Int((Double(side) * 256 / 224).rounded()), crop: side,
                                       normalization: dataset.statistics)
        }
        return EvaluationTransform(resize: side, crop: side, normalization: dataset.statistics)
    }

    /// A short description for cache keys and logs.
    var summary: String {
        let mean = normalization.mean.map { "\($0)" }.joined(separator: ",")
        let std = normalization.std.map { "\($0)" }.joined(separator: ",")
        return "resize=\(resize.map(String.init) ?? "none") crop=\(crop.map(String.init) ?? "none") "
            + "mean=\(mean) std=\(std) rgb=\(replicateToRGB)"
    }
}

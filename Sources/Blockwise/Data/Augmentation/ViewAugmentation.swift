/// The random transformations that make one view of an image, with torchvision's meaning
/// for every number. The two views of Barlow Twins differ only in blur and solarisation.
public struct ViewAugmentation: Sendable, Equatable, Hashable, Codable {
    /// RandomResizedCrop's area fraction range; nil keeps the whole image (only resized).
    public var cropScale: ClosedRange<Double>?
    /// RandomResizedCrop's aspect-ratio range (width / height).
    public var cropRatio: ClosedRange<Double>
    public var flipProbability: Double
    /// Probability of applying colour jitter at all (RandomApply around ColorJitter).
    public var jitterProbability: Double
    /// ColorJitter's strengths: factors uniform in [1 − s, 1 + s], hue in [−hue, hue].
    public var brightness: Double, contrast: Double, saturation: Double, hue: Double
    public var grayscaleProbability: Double
    public var blurProbability: Double
    public var blurSigma: ClosedRange<Double>
    public var solarizeProbability: Double

    public init(cropScale: ClosedRange<Double>? = 0.08...1, cropRatio: ClosedRange<Double> = 0.75...(4.0 / 3),
                flipProbability: Double = 0.5, jitterProbability: Double = 0.8, brightness: Double = 0.4,
                contrast: Double = 0.4, saturation: Double = 0.2, hue: Double = 0.1, grayscaleProbability: Double = 0.2,
                blurProbability: Double = 1.0, blurSigma: ClosedRange<Double> = 0.1...2, solarizeProbability: Double = 0) {
        self.cropScale = cropScale
        self.cropRatio = cropRatio
        self.flipProbability = flipProbability
        self.jitterProbability = jitterProbability
        self.brightness = brightness
        self.contrast = contrast
        self.saturation = saturation
        self.hue = hue
        self.grayscaleProbability = grayscaleProbability
        self.blurProbability = blurProbability
        self.blurSigma = blurSigma
        self.solarizeProbability = solarizeProbability
    }

    /// Barlow Twins' first view: always blurred, never solarised.
    public static let barlowTwinsA = ViewAugmentation(blurProbability: 1.0, solarizeProbability: 0)
    /// Barlow Twins' second view: rarely blurred, sometimes solarised.
    public static let barlowTwinsB = ViewAugmentation(blurProbability: 0.1, solarizeProbability: 0.2)

    /// No augmentation: the whole image, resized to the view size, in both views.
    public static let identity = ViewAugmentation(cropScale: nil, flipProbability: 0, jitterProbability: 0,
                                                  grayscaleProbability: 0, blurProbability: 0, solarizeProbability: 0)

    /// Colour jitter alone (paper App. A, first block of the adaptive augmentations).
    public static let colorJitterOnly = ViewAugmentation(cropScale: nil, flipProbability: 0, grayscaleProbability: 0,
                                                         blurProbability: 0, solarizeProbability: 0)
    /// Colour jitter and small random crops (App. A, second block). "Small" is read here as
    /// crops keeping at least half the image.
    public static let colorJitterAndSmallCrops = ViewAugmentation(cropScale: 0.5...1, flipProbability: 0.5,
                                                                  grayscaleProbability: 0, blurProbability: 0,
                                                                  solarizeProbability: 0)
}

import Torch

/// A distribution of values (the on- or off-diagonal terms of a cross-correlation matrix)
/// as RUN/correlation.json holds it: mean, quantiles and a histogram for violin plots.
public struct DistributionSummary: Codable, Equatable, Sendable {
    public var count: Int
    public var mean: Double
    /// Keyed by level ("0.05", "0.25", "0.5", "0.75", "0.95"), linearly interpolated between
    /// order statistics as `torch.quantile` and `numpy.quantile` do by default.
    public var quantiles: [String: Double]
    public var histogram: Histogram?

    /// The levels written out.
    public static let levels = [0.05, 0.25, 0.5, 0.75, 0.95]

    public init(count: Int, mean: Double, quantiles: [String: Double], histogram: Histogram? = nil) {
        self.count = count
        self.mean = mean
        self.quantiles = quantiles
        self.histogram = histogram
    }

    /// Summarises the elements of `values` (any shape, at least one element).
    public init(of values: Tensor, histogramRange: ClosedRange<Double> = -1...1, bins: Int = 40) {
        let flat = values.flatten().to(.float64)
        let n = flat.count
        precondition(n > 0, "a distribution needs at least one value")
        let sorted = flat.sort().values
        var quantiles: [String: Double] = [:]
        for level in Self.levels {
            let position = level * Double(n - 1)
            let low = Int(position.rounded(.down)), high = Swift.min(n - 1, low + 1)
            let lowValue = sorted[low].item(), highValue = sorted[high].item()
            quantiles[Self.key(level)] = lowValue + (highValue - lowValue) * (position - Double(low))
        }
        self.init(count: n, mean: flat.mean().item(), quantiles: quantiles,
                  histogram: Histogram(of: flat, range: histogramRange, bins: bins))
    }

    /// "0.05", "0.5", …: the level as JSON keys write it.
    public static func key(_ level: Double) -> String {
        var text = String(level)
        if text.hasSuffix(".0") { text.removeLast(2) }
        return text
    }

    public func quantile(_ level: Double) -> Double? { quantiles[Self.key(level)] }
}

/// Counts of values in equal bins over [lower, upper]; values outside fall in the end bins.
public struct Histogram: Codable, Equatable, Sendable {
    public var lower: Double
    public var upper: Double
    public var counts: [Int]

    public init(lower: Double, upper: Double, counts: [Int]) {
        self.lower = lower
        self.upper = upper
        self.counts = counts
    }

    public init(of values: Tensor, range: ClosedRange<Double>, bins: Int) {
        let width = (range.upperBound - range.lowerBound) / Double(bins)
        let index = ((values.flatten().to(.float64) - range.lowerBound) / width).floor()
            .clamp(min: 0, max: Double(bins - 1)).to(.int64)
        let counts = Tensor.zeros([bins], dtype: .int64, device: values.device)
            .scatterAdd(dim: 0, index: index, source: Tensor.ones(like: index))
        self.init(lower: range.lowerBound, upper: range.upperBound, counts: counts.toArray(Int.self))
    }
}

import Torch

/// The Barlow Twins cross-correlation matrix (paper eq. 1) between two sets of features,
/// accumulated batch by batch so that a whole test split need not sit in memory:
///
///     C_ij = (mean_b a_bi b_bj − μᵃ_i μᵇ_j) / √((σᵃ_i² + ε)(σᵇ_j² + ε))
///
/// with the statistics of the whole set (biased variance, ε = 1e-5), which is what
/// `BarlowTwins.crossCorrelation` gives for the whole set at once. Sums are kept in float64.
public struct CrossCorrelationAccumulator {
    public private(set) var count = 0
    private var sumA: Tensor?, sumB: Tensor?, sumSquaresA: Tensor?, sumSquaresB: Tensor?, sumProducts: Tensor?

    public init() {}

    /// Adds a batch of paired features [B, D] (row b of `a` and of `b` from the same image).
    public mutating func add(_ a: Tensor, _ b: Tensor) {
        precondition(a.shape == b.shape && a.rank == 2, "paired features must both be [B, D], got \(a.shape) and \(b.shape)")
        withNoGrad {
            let a = a.to(.float64), b = b.to(.float64)
            func accumulate(_ total: Tensor?, _ value: Tensor) -> Tensor { total.map { $0 + value } ?? value }
            sumA = accumulate(sumA, a.sum(dim: 0))
            sumB = accumulate(sumB, b.sum(dim: 0))
            sumSquaresA = accumulate(sumSquaresA, a.square().sum(dim: 0))
            sumSquaresB = accumulate(sumSquaresB, b.square().sum(dim: 0))
            sumProducts = accumulate(sumProducts, a.t.mm(b))
        }
        count += a.size(0)
    }

    /// The [D, D] matrix (float64) of everything added so far.
    public func matrix(eps: Double = 1e-5) -> Tensor {
        guard let sumA, let sumB, let sumSquaresA, let sumSquaresB, let sumProducts else {
            preconditionFailure("no features were added")
        }
        return withNoGrad {
            let n = Double(count)
            let meanA = sumA / n, meanB = sumB / n
            let scaleA = ((sumSquaresA / n - meanA.square()) + eps).rsqrt()
            let scaleB = ((sumSquaresB / n - meanB.square()) + eps).rsqrt()
            let covariance = sumProducts / n - meanA.unsqueeze(1) * meanB.unsqueeze(0)
            return covariance * scaleA.unsqueeze(1) * scaleB.unsqueeze(0)
        }
    }
}

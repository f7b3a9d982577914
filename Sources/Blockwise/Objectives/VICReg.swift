import Torch

/// VICReg (Bardes et al. 2022), as its official implementation:
///
///     invariance = mean((z^A − z^B)²)
///     variance   = mean_j relu(1 − √(Var_b z_bj + ε)) / 2, summed over both views
///     covariance = Σ_{i≠j} Cov(z)_ij² / D, summed over both views (Cov with N − 1)
///     L = 25·invariance + 25·variance + 1·covariance,  ε = 1e-4
public struct VICReg: Objective {
    public var invarianceWeight: Double
    public var varianceWeight: Double
    public var covarianceWeight: Double
    public var epsilon: Double
    /// Data-parallel ranks: the loss is computed on every rank's embeddings gathered, as the
    /// reference's FullGatherLayer does.
    public var group: ProcessGroup?

    public init(invarianceWeight: Double = 25, varianceWeight: Double = 25, covarianceWeight: Double = 1,
                epsilon: Double = 1e-4, group: ProcessGroup? = nil) {
        self.group = group
        self.invarianceWeight = invarianceWeight
        self.varianceWeight = varianceWeight
        self.covarianceWeight = covarianceWeight
        self.epsilon = epsilon
    }

    public func loss(_ zA: Tensor, _ zB: Tensor, labels: Tensor?) -> Tensor {
        let (zA, zB) = (wholeBatch(zA, over: group), wholeBatch(zB, over: group))
        let n = Double(zA.size(0))
        let d = Double(zA.size(1))
        let invariance = (zA - zB).square().mean()
        let a = zA - zA.mean(dim: 0, keepDims: true)
        let b = zB - zB.mean(dim: 0, keepDims: true)
        func variance(_ x: Tensor) -> Tensor {
            (1.0 - (x.variance(dims: [0]) + epsilon).sqrt()).relu().mean() / 2.0
        }
        func covariance(_ x: Tensor) -> Tensor { offDiagonalSquareSum(x.t.mm(x) / (n - 1)) / d }
        return invariance * invarianceWeight
            + (variance(a) + variance(b)) * varianceWeight
            + (covariance(a) + covariance(b)) * covarianceWeight
    }
}

import Testing
import Torch

/// Autograd's gradients of reductions and matrix products agree with finite differences in float64.
@Suite struct ReductionGradientTests {
    static let cases: [GradientCase] = [
        GradientCase("sum of everything", [[2, 3, 4]]) { $0[0].sum() },
        GradientCase("sum over one dimension", [[2, 3, 4]]) { $0[0].sum(dim: 1) },
        GradientCase("sum over two dimensions, keepDims", [[2, 3, 4]]) { $0[0].sum(dims: [0, 2], keepDims: true) },
        GradientCase("mean of everything", [[2, 3, 4]]) { $0[0].mean() },
        GradientCase("mean over the last dimension, keepDims", [[2, 3, 4]]) { $0[0].mean(dims: [-1], keepDims: true) },
        GradientCase("unbiased variance of everything", [[2, 3, 4]]) { $0[0].variance() },
        GradientCase("biased variance over one dimension", [[2, 3, 4]]) { $0[0].variance(dims: [1], unbiased: false) },
        GradientCase("variance over two dimensions, keepDims", [[2, 3, 4]]) {
            $0[0].variance(dims: [0, 2], keepDims: true)
        },
        GradientCase("std of everything", [[2, 3, 4]]) { $0[0].std() },
        GradientCase("std over the last dimension, keepDims", [[2, 3, 4]]) { $0[0].std(dims: [2], keepDims: true) },
        GradientCase("biased std over one dimension", [[2, 3, 4]]) { $0[0].std(dims: [1], unbiased: false) },
        GradientCase("2-norm of everything", [[2, 3, 4]]) { $0[0].norm() },
        GradientCase("1-norm over one dimension", [[2, 3, 4]]) { $0[0].norm(p: 1, dims: [1]) },
        GradientCase("3-norm over the last dimension, keepDims", [[2, 3, 4]]) {
            $0[0].norm(p: 3, dims: [2], keepDims: true)
        },
        GradientCase("amax of everything", [[2, 3, 4]]) { $0[0].amax() },
        GradientCase("amax over one dimension, keepDims", [[2, 3, 4]]) { $0[0].amax(dims: [1], keepDims: true) },
        GradientCase("amin over the last dimension", [[2, 3, 4]]) { $0[0].amin(dims: [2]) },
        GradientCase("max along a dimension, values", [[2, 3, 4]]) { $0[0].max(dim: 2).values },
        GradientCase("min along a dimension, values", [[2, 3, 4]]) { $0[0].min(dim: 0, keepDims: true).values },
        GradientCase("logSumExp", [[2, 3, 4]]) { $0[0].logSumExp(dims: [1]) },
        GradientCase("prod along a dimension", [[2, 3, 4]]) { $0[0].prod(dim: 1) },
        GradientCase("cumsum", [[2, 3, 4]]) { $0[0].cumsum(dim: 2) },
        GradientCase("topk values", [[2, 5]]) { $0[0].topk(2, dim: 1).values },
        GradientCase("smallest topk values along the first dimension", [[4, 3]]) {
            $0[0].topk(2, dim: 0, largest: false).values
        },
        GradientCase("sort values", [[2, 5]]) { $0[0].sort(dim: 1, descending: true).values },
        GradientCase("matmul of matrices", [[2, 3], [3, 4]]) { $0[0].matmul($0[1]) },
        GradientCase("matmul with batch broadcasting", [[2, 2, 3], [3, 4]]) { $0[0].matmul($0[1]) },
        GradientCase("matmul of a vector and a matrix", [[3], [3, 2]]) { $0[0].matmul($0[1]) },
        GradientCase("mm", [[2, 3], [3, 4]]) { $0[0].mm($0[1]) },
        GradientCase("bmm", [[2, 2, 3], [2, 3, 2]]) { $0[0].bmm($0[1]) },
        GradientCase("linear with bias", [[2, 3], [4, 3], [4]]) { linear($0[0], weight: $0[1], bias: $0[2]) },
        GradientCase("linear without bias, batched", [[2, 2, 3], [4, 3]]) { linear($0[0], weight: $0[1]) },
    ]

    @Test("gradient matches finite differences", arguments: cases)
    func gradientMatchesFiniteDifferences(_ c: GradientCase) {
        c.expectGradientsMatch()
    }
}

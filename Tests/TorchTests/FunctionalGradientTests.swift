import Testing
import Torch

/// Autograd's gradients of the neural-network functions agree with finite differences in float64.
@Suite struct FunctionalGradientTests {
    /// Fixed running statistics for batch norm in evaluation, made inside the function so
    /// every evaluation sees the same ones.
    static func runningStatistics(_ channels: Int) -> (mean: Tensor, variance: Tensor) {
        (uniformDoubles([channels], -0.5, 0.5, seed: 90), uniformDoubles([channels], 0.5, 2, seed: 91))
    }

    static let cases: [GradientCase] = [
        GradientCase("conv2d with bias", [[1, 2, 4, 4], [3, 2, 3, 3], [3]]) {
            conv2d($0[0], weight: $0[1], bias: $0[2])
        },
        GradientCase("conv2d with stride and padding", [[1, 2, 5, 5], [2, 2, 3, 3]]) {
            conv2d($0[0], weight: $0[1], stride: [2, 2], padding: [1, 1])
        },
        GradientCase("conv2d with dilation", [[1, 1, 5, 5], [2, 1, 2, 2]]) {
            conv2d($0[0], weight: $0[1], dilation: [2, 2])
        },
        GradientCase("conv2d with groups", [[1, 4, 3, 3], [4, 2, 2, 2], [4]]) {
            conv2d($0[0], weight: $0[1], bias: $0[2], padding: [1, 0], groups: 2)
        },
        GradientCase("batchNorm in training", [[3, 2, 2, 2], [2], [2]]) {
            batchNorm($0[0], weight: $0[1], bias: $0[2], training: true)
        },
        GradientCase("batchNorm in training, updating running statistics", [[3, 2, 2, 2], [2], [2]]) { x in
            let stats = runningStatistics(2)
            return batchNorm(x[0], weight: x[1], bias: x[2], runningMean: stats.mean, runningVar: stats.variance,
                             training: true)
        },
        GradientCase("batchNorm in evaluation", [[3, 2, 2, 2], [2], [2]]) { x in
            let stats = runningStatistics(2)
            return batchNorm(x[0], weight: x[1], bias: x[2], runningMean: stats.mean, runningVar: stats.variance,
                             training: false)
        },
        GradientCase("maxPool2d", [[1, 2, 4, 4]]) { maxPool2d($0[0], kernel: [2, 2]) },
        GradientCase("maxPool2d with stride, padding and dilation", [[1, 1, 6, 6]]) {
            maxPool2d($0[0], kernel: [2, 2], stride: [2, 1], padding: [1, 1], dilation: [2, 2])
        },
        GradientCase("maxPool2d in ceil mode", [[1, 1, 5, 5]]) { maxPool2d($0[0], kernel: [2, 2], ceilMode: true) },
        GradientCase("avgPool2d", [[1, 2, 4, 4]]) { avgPool2d($0[0], kernel: [2, 2]) },
        GradientCase("avgPool2d with padding not counted", [[1, 1, 5, 5]]) {
            avgPool2d($0[0], kernel: [3, 3], stride: [2, 2], padding: [1, 1], countIncludePad: false)
        },
        GradientCase("avgPool2d in ceil mode", [[1, 1, 5, 5]]) { avgPool2d($0[0], kernel: [2, 2], ceilMode: true) },
        GradientCase("adaptiveAvgPool2d", [[1, 2, 5, 5]]) { adaptiveAvgPool2d($0[0], outputSize: [3, 2]) },
        GradientCase("adaptiveAvgPool2d to one pixel", [[2, 2, 3, 3]]) { adaptiveAvgPool2d($0[0], outputSize: [1, 1]) },
        GradientCase("nearest interpolation", [[1, 1, 3, 3]]) { interpolate($0[0], size: [5, 4], mode: .nearest) },
        GradientCase("bilinear interpolation", [[1, 2, 3, 3]]) { interpolate($0[0], size: [5, 4], mode: .bilinear) },
        GradientCase("bilinear interpolation, corners aligned", [[1, 1, 3, 3]]) {
            interpolate($0[0], size: [4, 5], mode: .bilinear, alignCorners: true)
        },
        GradientCase("bicubic interpolation", [[1, 1, 4, 4]]) { interpolate($0[0], size: [6, 5], mode: .bicubic) },
        GradientCase("antialiased bilinear downsampling", [[1, 1, 6, 6]]) {
            interpolate($0[0], size: [3, 4], mode: .bilinear, antialias: true)
        },
        GradientCase("affineGrid then bilinear gridSample, in image and theta", [[1, 2, 4, 4], [1, 2, 3]]) { x in
            let theta = x[1] * 0.2 + Tensor([1.0, 0, 0, 0, 1, 0], shape: [1, 2, 3])
            return gridSample(x[0], grid: affineGrid(theta, size: [1, 2, 3, 3]))
        },
        GradientCase("gridSample with border padding, corners aligned", [[1, 1, 3, 3], [1, 2, 2, 2]]) { x in
            gridSample(x[0], grid: x[1] * 0.8, padding: .border, alignCorners: true)
        },
        GradientCase("gridSample with reflection padding", [[1, 1, 3, 3], [1, 2, 2, 2]]) { x in
            gridSample(x[0], grid: x[1] * 0.8, padding: .reflection)
        },
        GradientCase("nearest gridSample, in the image", [[1, 1, 3, 3]]) { x in
            gridSample(x[0], grid: uniformDoubles([1, 2, 2, 2], -0.9, 0.9, seed: 50), mode: .nearest)
        },
        GradientCase("bicubic gridSample, in the image", [[1, 1, 4, 4]]) { x in
            gridSample(x[0], grid: uniformDoubles([1, 2, 2, 2], -0.9, 0.9, seed: 51), mode: .bicubic)
        },
        GradientCase("affineGrid, in theta", [[2, 2, 3]]) { affineGrid($0[0], size: [2, 1, 3, 2]) },
        GradientCase("crossEntropy", [[4, 3]]) { crossEntropy($0[0], Tensor([0, 2, 1, 2] as [Int])) },
        GradientCase("crossEntropy with label smoothing", [[4, 3]]) {
            crossEntropy($0[0], Tensor([0, 2, 1, 2] as [Int]), labelSmoothing: 0.1)
        },
        GradientCase("crossEntropy with class weights and label smoothing, summed", [[4, 3]]) {
            crossEntropy($0[0], Tensor([0, 2, 1, 2] as [Int]), weight: Tensor([0.5, 1.0, 2.0]), reduction: .sum,
                         labelSmoothing: 0.2)
        },
        GradientCase("crossEntropy per sample, ignoring an index", [[4, 3]]) {
            crossEntropy($0[0], Tensor([0, -100, 1, 2] as [Int]), reduction: .none)
        },
        GradientCase("normalize", [[3, 4]]) { normalize($0[0], dim: 1) },
        GradientCase("normalize with the 1-norm", [[3, 4]]) { normalize($0[0], p: 1, dim: 0) },
        GradientCase("dropout in evaluation is the identity", [[3, 4]]) { dropout($0[0], p: 0.5, training: false) },
    ]

    @Test("gradient matches finite differences", arguments: cases)
    func gradientMatchesFiniteDifferences(_ c: GradientCase) {
        c.expectGradientsMatch()
    }

    @Test func dropoutGradientIsTheMaskScaledByOneOverKeepProbability() throws {
        // Finite differences cannot follow a fresh random mask per evaluation; the gradient of
        // dropout is known instead: mask / (1 − p), the mask being where the output is non-zero.
        Runtime.manualSeed(17)
        let p = 0.3
        let x = uniformDoubles([8, 16], 0.5, 2).requiresGrad_()
        let y = dropout(x, p: p, training: true)
        (y * 2).sum().backward()
        let mask = (y .!= 0).to(.float64)
        let kept = mask.sum().item()
        #expect(kept > 0 && kept < Double(x.count), "the mask keeps some elements and drops others")
        let grad = try #require(x.grad)
        #expect(grad.allClose(mask * (2 / (1 - p)), rtol: 1e-12, atol: 0))
        #expect(y.allClose(x.detach() * mask / (1 - p), rtol: 1e-12, atol: 0))
    }
}

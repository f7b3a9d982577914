import Testing
import Torch

/// Batch normalisation in training and evaluation, against statistics computed by hand in Swift
/// and against torch.nn.BatchNorm2d (fixture made by Tests/Fixtures/batchnorm/make_batch_norm.py).
@Suite struct BatchNormSemanticsTests {
    static let shape = [3, 2, 2, 2]
    static let eps = 1e-5
    static let momentum = 0.1
    let x = uniformDoubles(shape, -2, 3, seed: 5)
    let weight = Tensor([1.5, -0.5])
    let bias = Tensor([0.25, 1.0])

    /// The elements of channel `c` of an [N, C, H, W] array in row-major order.
    static func channel(_ values: [Double], _ c: Int, shape: [Int]) -> [Double] {
        let (n, channels, plane) = (shape[0], shape[1], shape[2] * shape[3])
        return (0..<n).flatMap { i -> ArraySlice<Double> in
            let start = (i * channels + c) * plane
            return values[start..<(start + plane)]
        }
    }

    static func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(v.count) }
    static func sumOfSquares(_ v: [Double]) -> Double { let m = mean(v); return v.reduce(0) { $0 + ($1 - m) * ($1 - m) } }

    /// y = (x − mean) / √(var + ε) · w + b, channel by channel, in the layout of `values`.
    static func normalised(_ values: [Double], shape: [Int], mean: [Double], variance: [Double],
                           weight: [Double], bias: [Double]) -> [Double] {
        let (channels, plane) = (shape[1], shape[2] * shape[3])
        return values.enumerated().map { index, v in
            let c = (index / plane) % channels
            return (v - mean[c]) / (variance[c] + eps).squareRoot() * weight[c] + bias[c]
        }
    }

    @Test func trainingNormalisesWithTheBiasedBatchVariance() {
        let values = x.toArray(Double.self)
        let channels = (0..<2).map { Self.channel(values, $0, shape: Self.shape) }
        let mean = channels.map(Self.mean)
        let biased = channels.map { Self.sumOfSquares($0) / Double($0.count) }
        let expected = Self.normalised(values, shape: Self.shape, mean: mean, variance: biased,
                                       weight: [1.5, -0.5], bias: [0.25, 1.0])
        let y = batchNorm(x, weight: weight, bias: bias, training: true, eps: Self.eps)
        #expect(y.allClose(Tensor(expected, shape: Self.shape), rtol: 1e-12, atol: 1e-12))
    }

    @Test func trainingUpdatesRunningStatisticsWithMomentumAndTheUnbiasedVariance() {
        let runningMean = Tensor([0.1, -0.2])
        let runningVar = Tensor([0.8, 1.3])
        _ = batchNorm(x, weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar,
                      training: true, momentum: Self.momentum, eps: Self.eps)
        let channels = (0..<2).map { Self.channel(x.toArray(Double.self), $0, shape: Self.shape) }
        let mean = channels.map(Self.mean)
        let unbiased = channels.map { Self.sumOfSquares($0) / Double($0.count - 1) }
        let expectedMean = zip([0.1, -0.2], mean).map { (1 - Self.momentum) * $0 + Self.momentum * $1 }
        let expectedVar = zip([0.8, 1.3], unbiased).map { (1 - Self.momentum) * $0 + Self.momentum * $1 }
        #expect(runningMean.allClose(Tensor(expectedMean), rtol: 1e-12, atol: 1e-12))
        #expect(runningVar.allClose(Tensor(expectedVar), rtol: 1e-12, atol: 1e-12))
    }

    @Test func trainingOutputDoesNotDependOnTheRunningStatistics() {
        let plain = batchNorm(x, weight: weight, bias: bias, training: true)
        let tracked = batchNorm(x, weight: weight, bias: bias, runningMean: Tensor([5.0, 5]),
                                runningVar: Tensor([9.0, 9]), training: true)
        #expect(tracked.allClose(plain, rtol: 1e-12, atol: 1e-12))
    }

    @Test func evaluationNormalisesWithTheRunningStatisticsAndLeavesThemUnchanged() {
        let runningMean = Tensor([0.1, -0.2])
        let runningVar = Tensor([0.8, 1.3])
        let y = batchNorm(x, weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar,
                          training: false, momentum: Self.momentum, eps: Self.eps)
        let expected = Self.normalised(x.toArray(Double.self), shape: Self.shape, mean: [0.1, -0.2],
                                       variance: [0.8, 1.3], weight: [1.5, -0.5], bias: [0.25, 1.0])
        #expect(y.allClose(Tensor(expected, shape: Self.shape), rtol: 1e-12, atol: 1e-12))
        #expect(runningMean.toArray(Double.self) == [0.1, -0.2])
        #expect(runningVar.toArray(Double.self) == [0.8, 1.3])
    }

    struct Fixture: Decodable {
        let shape: [Int]
        let x, weight, bias: [Double]
        let momentum, eps: Double
        let running_mean_before, running_var_before: [Double]
        let train_output, running_mean_after, running_var_after, eval_output: [Double]
    }

    @Test func matchesPyTorchsBatchNorm2dForATrainingStepThenEvaluation() throws {
        let f = try loadFixture(Fixture.self, "batchnorm/batch_norm.json")
        let x = Tensor(f.x, shape: f.shape)
        let (weight, bias) = (Tensor(f.weight), Tensor(f.bias))
        let runningMean = Tensor(f.running_mean_before)
        let runningVar = Tensor(f.running_var_before)
        let train = batchNorm(x, weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar,
                              training: true, momentum: f.momentum, eps: f.eps)
        #expect(train.allClose(Tensor(f.train_output, shape: f.shape), rtol: 1e-10, atol: 1e-12))
        #expect(runningMean.allClose(Tensor(f.running_mean_after), rtol: 1e-10, atol: 1e-12))
        #expect(runningVar.allClose(Tensor(f.running_var_after), rtol: 1e-10, atol: 1e-12))
        let eval = batchNorm(x, weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar,
                             training: false, momentum: f.momentum, eps: f.eps)
        #expect(eval.allClose(Tensor(f.eval_output, shape: f.shape), rtol: 1e-10, atol: 1e-12))
    }
}

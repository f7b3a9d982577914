import Testing
import Torch

/// Each layer's forward pass against PyTorch (fixtures from make_fixtures.py) or by hand.
@Suite("Layers")
struct LayerTests {
    let fixture: [String: Any]

    init() throws { fixture = try NNFixture.load("layers") }

    private func tensor(_ test: String, _ key: String) throws -> Tensor {
        try NNFixture.tensor(fixture.object(test)[key])
    }

    private func state(_ test: String, _ key: String = "state") throws -> [String: Tensor] {
        try NNFixture.state(fixture.object(test)[key])
    }

    @Test("Linear computes x·Wᵀ + b as torch.nn.Linear")
    func linearMatchesPyTorch() throws {
        let layer = Linear(5, 3)
        try layer.load(stateDict: state("linear"))
        #expect(close(layer(try tensor("linear", "x")), try tensor("linear", "y")))
    }

    @Test("Linear without bias matches torch.nn.Linear(bias=False)")
    func linearWithoutBias() throws {
        let layer = Linear(5, 3, bias: false)
        try layer.load(stateDict: state("linear_nobias"))
        #expect(layer.bias == nil)
        #expect(close(layer(try tensor("linear_nobias", "x")), try tensor("linear_nobias", "y")))
    }

    @Test("Conv2d with groups, stride and padding matches torch.nn.Conv2d")
    func convWithGroups() throws {
        let layer = Conv2d(4, 6, kernelSize: 3, stride: 2, padding: 1, groups: 2)
        #expect(layer.weight.shape == [6, 2, 3, 3])
        try layer.load(stateDict: state("conv_groups"))
        #expect(close(layer(try tensor("conv_groups", "x")), try tensor("conv_groups", "y")))
    }

    @Test("Conv2d with a rectangular kernel, dilation and no bias matches torch.nn.Conv2d")
    func convRectangularWithoutBias() throws {
        let layer = Conv2d(3, 4, kernelSize: [3, 1], stride: [1, 2], padding: [2, 0], dilation: [2, 1], bias: false)
        try layer.load(stateDict: state("conv_nobias"))
        #expect(close(layer(try tensor("conv_nobias", "x")), try tensor("conv_nobias", "y")))
    }

    @Test("BatchNorm2d normalises with batch statistics in training and updates running statistics as PyTorch")
    func batchNorm2dTraining() throws {
        let layer = BatchNorm2d(3)
        try layer.load(stateDict: state("batchnorm2d"))
        #expect(close(layer(try tensor("batchnorm2d", "x1")), try tensor("batchnorm2d", "y1")))
        #expect(close(layer(try tensor("batchnorm2d", "x2")), try tensor("batchnorm2d", "y2")))
        let expected = try state("batchnorm2d", "state_after")
        for (name, value) in layer.stateDict() {
            #expect(close(value.to(.float32), expected[name]!), "\(name)")
        }
        #expect(layer.numBatchesTracked?.itemInt() == 2)
        #expect(layer.numBatchesTracked?.dtype == .int64)
    }

    @Test("BatchNorm2d in evaluation normalises with the running statistics and leaves them unchanged")
    func batchNorm2dEvaluation() throws {
        let layer = BatchNorm2d(3)
        try layer.load(stateDict: state("batchnorm2d", "state_after"))
        layer.eval()
        let before = layer.stateDict().mapValues { $0.clone() }
        #expect(close(layer(try tensor("batchnorm2d", "x3")), try tensor("batchnorm2d", "y3_eval")))
        for (name, value) in layer.stateDict() { #expect(value.equal(before[name]!), "\(name)") }
    }

    @Test("BatchNorm2d with momentum nil keeps the cumulative average of the batch statistics")
    func batchNormCumulativeAverage() throws {
        let layer = BatchNorm2d(3, momentum: nil)
        for key in ["x1", "x2", "x3"] { _ = layer(try tensor("batchnorm2d_cumulative", key)) }
        let expected = try state("batchnorm2d_cumulative", "state_after")
        for (name, value) in layer.stateDict() {
            #expect(close(value.to(.float32), expected[name]!), "\(name)")
        }
    }

    @Test("BatchNorm1d without affine parameters takes [N, C] and [N, C, L] as torch.nn.BatchNorm1d")
    func batchNorm1d() throws {
        let layer = BatchNorm1d(6, eps: 1e-3, momentum: 0.3, affine: false)
        #expect(close(layer(try tensor("batchnorm1d", "x2d")), try tensor("batchnorm1d", "y2d")))
        #expect(close(layer(try tensor("batchnorm1d", "x3d")), try tensor("batchnorm1d", "y3d")))
        let expected = try state("batchnorm1d", "state_after")
        for (name, value) in layer.stateDict() {
            #expect(close(value.to(.float32), expected[name]!), "\(name)")
        }
    }

    @Test("BatchNorm2d without running statistics uses batch statistics even in evaluation")
    func batchNormUntracked() throws {
        let layer = BatchNorm2d(3, trackRunningStats: false)
        layer.eval()
        #expect(close(layer(try tensor("batchnorm2d_untracked_eval", "x")), try tensor("batchnorm2d_untracked_eval", "y")))
        let keys = try fixture.object("batchnorm2d_untracked_eval")["keys"] as? [String]
        #expect(layer.orderedStateDict().map(\.name) == keys)
    }

    @Test("MaxPool2d with padding and stride matches torch.nn.MaxPool2d")
    func maxPool() throws {
        let layer = MaxPool2d(kernelSize: 3, stride: 2, padding: 1)
        #expect(close(layer(try tensor("maxpool", "x")), try tensor("maxpool", "y")))
    }

    @Test("MaxPool2d's stride defaults to the kernel size, and ceil mode keeps the partial window")
    func maxPoolCeilMode() throws {
        let layer = MaxPool2d(kernelSize: 2, ceilMode: true)
        let y = layer(try tensor("maxpool_ceil", "x"))
        #expect(y.shape == [1, 2, 4, 4])
        #expect(close(y, try tensor("maxpool_ceil", "y")))
    }

    @Test("AdaptiveAvgPool2d averages to a fixed size from any input size as PyTorch")
    func adaptiveAveragePool() throws {
        let x = try tensor("adaptive_avgpool", "x")
        #expect(close(AdaptiveAvgPool2d(outputSize: [2, 3])(x), try tensor("adaptive_avgpool", "y")))
        #expect(close(AdaptiveAvgPool2d(outputSize: 1)(x), try tensor("adaptive_avgpool", "y_global")))
    }

    @Test("ReLU zeroes negative values and keeps the others")
    func relu() {
        #expect(ReLU()(Tensor([Float(-2), -0.5, 0, 0.5, 3])).toArray(Float.self) == [0, 0, 0, 0.5, 3])
    }

    @Test("Identity returns its input")
    func identity() {
        let x = Tensor([Float(1), 2, 3])
        #expect(Identity()(x).equal(x))
    }

    @Test("Flatten keeps the batch dimension and joins the others by default")
    func flatten() {
        let x = Tensor.arange(0, 24, dtype: .float32).reshape([2, 3, 2, 2])
        #expect(Flatten()(x).shape == [2, 12])
        #expect(Flatten(startDim: 0, endDim: 1)(x).shape == [6, 2, 2])
        #expect(Flatten()(x).toArray(Float.self) == x.toArray(Float.self))
    }

    @Test("Dropout zeroes about p of the elements and scales the rest by 1/(1 − p) in training only")
    func dropout() {
        let layer = Dropout(p: 0.25)
        let x = Tensor.ones([100_000])
        let values = layer(x).toArray(Float.self)
        let kept = values.filter { $0 != 0 }
        #expect(kept.allSatisfy { Swift.abs($0 - 1 / 0.75) < 1e-6 })
        #expect(Swift.abs(Double(kept.count) / 100_000 - 0.75) < 0.01)
        layer.eval()
        #expect(layer(x).equal(x))
    }

    @Test("Sequential applies its layers in order and names them by position")
    func sequential() {
        let first = Linear(2, 3)
        let model = Sequential(first, ReLU(), Linear(3, 1, bias: false))
        #expect(model.orderedStateDict().map(\.name) == ["0.weight", "0.bias", "2.weight"])
        let x = Tensor([Float(1), -1, 0.5, 2], shape: [2, 2])
        let expected = model.layers[2](first(x).relu())
        #expect(model(x).equal(expected))
    }
}

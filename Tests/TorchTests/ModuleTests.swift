import Testing
import Torch

/// torchvision's BasicBlock in miniature (see make_fixtures.py), to check dotted names.
final class TinyBlock: Module, UnaryLayer {
    let conv1: Conv2d
    let bn1: BatchNorm2d
    let relu = ReLU()
    let conv2: Conv2d
    let bn2: BatchNorm2d
    let downsample: Sequential?

    init(_ cin: Int, _ cout: Int, stride: Int) {
        conv1 = Conv2d(cin, cout, kernelSize: 3, stride: Size2(stride), padding: 1, bias: false)
        bn1 = BatchNorm2d(cout)
        conv2 = Conv2d(cout, cout, kernelSize: 3, padding: 1, bias: false)
        bn2 = BatchNorm2d(cout)
        downsample = stride != 1 || cin != cout
            ? Sequential(Conv2d(cin, cout, kernelSize: 1, stride: Size2(stride), bias: false), BatchNorm2d(cout))
            : nil
        super.init()
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        let out = bn2(conv2(relu(bn1(conv1(x)))))
        return relu(out + (downsample?(x) ?? x))
    }
}

final class TinyResNet: Module, UnaryLayer {
    let conv1 = Conv2d(3, 4, kernelSize: 3, padding: 1, bias: false)
    let bn1 = BatchNorm2d(4)
    let relu = ReLU()
    let maxpool = MaxPool2d(kernelSize: 3, stride: 2, padding: 1)
    let layer1 = Sequential(TinyBlock(4, 4, stride: 1), TinyBlock(4, 8, stride: 2))
    let avgpool = AdaptiveAvgPool2d(outputSize: 1)
    let fc = Linear(8, 5)

    func callAsFunction(_ x: Tensor) -> Tensor {
        fc(avgpool(layer1(maxpool(relu(bn1(conv1(x)))))).flatten(start: 1))
    }
}

/// A module with every kind of declared state, to check discovery and naming.
final class Assorted: Module {
    @Parameter(key: "in_proj") var inProj: Tensor?
    @Parameter var scale = Tensor.ones([2])
    @Buffer(key: "step_count") var stepCount: Tensor?
    @Buffer(wrappedValue: Tensor.zeros([3]), persistent: false) var scratch: Tensor
    let heads: [Linear] = [Linear(2, 2), Linear(2, 2, bias: false)]
    let chain: [any UnaryLayer] = [ReLU(), Linear(2, 1)]
    let absent: Linear? = nil
    let plainNumber = 3

    override init() {
        super.init()
        inProj = Tensor.zeros([2, 2])
        stepCount = Tensor.zeros([], dtype: .int64)
    }
}

@Suite("Module")
struct ModuleTests {
    @Test("state dict keys, parameter and buffer names are PyTorch's, in PyTorch's order")
    func namesMatchPyTorch() throws {
        let fixture = try NNFixture.load("model")
        let model = TinyResNet()
        #expect(model.orderedStateDict().map(\.name) == fixture["keys"] as? [String])
        #expect(model.namedParameters().map(\.name) == fixture["parameter_names"] as? [String])
        #expect(model.namedBuffers().map(\.name) == fixture["buffer_names"] as? [String])
        #expect(model.parameterCount == fixture["parameter_count"] as? Int)
    }

    @Test("a network loaded from PyTorch's state dict computes PyTorch's outputs in training and evaluation")
    func loadedNetworkMatchesPyTorch() throws {
        let fixture = try NNFixture.load("model")
        let model = TinyResNet()
        try model.load(stateDict: NNFixture.state(fixture["state"]))
        let x = try NNFixture.tensor(fixture["x"])
        let yTrain = try NNFixture.tensor(fixture["y_train"])
        let yEval = try NNFixture.tensor(fixture["y_eval"])
        #expect(close(model(x), yTrain))
        let expected = try NNFixture.state(fixture["state_after_train"])
        let actual = model.stateDict()
        for (name, tensor) in expected {
            #expect(close(actual[name]!.to(.float32), tensor), "\(name) after a training step")
        }
        model.eval()
        #expect(close(model(x), yEval))
    }

    @Test("wrapped properties, optional, array and existential children are found and named")
    func discoversEveryKindOfState() {
        let module = Assorted()
        #expect(module.namedParameters().map(\.name) == [
            "in_proj", "scale", "heads.0.weight", "heads.0.bias", "heads.1.weight", "chain.1.weight", "chain.1.bias",
        ])
        #expect(module.namedBuffers().map(\.name) == ["step_count", "scratch"])
        #expect(module.namedChildren().map(\.name) == ["heads.0", "heads.1", "chain.0", "chain.1"])
    }

    @Test("non-persistent buffers stay out of the state dict")
    func nonPersistentBuffersAreNotSaved() {
        let keys = Assorted().orderedStateDict().map(\.name)
        #expect(keys.contains("step_count"))
        #expect(!keys.contains("scratch"))
    }

    @Test("absent optional parameters and buffers have no state dict entry")
    func optionalStateIsAbsent() {
        #expect(Linear(3, 2, bias: false).orderedStateDict().map(\.name) == ["weight"])
        #expect(BatchNorm1d(4, affine: false).orderedStateDict().map(\.name)
            == ["running_mean", "running_var", "num_batches_tracked"])
        #expect(BatchNorm2d(4, trackRunningStats: false).orderedStateDict().map(\.name) == ["weight", "bias"])
    }

    @Test("parameters require gradients and buffers do not")
    func parametersRequireGrad() {
        let bn = BatchNorm2d(3)
        #expect(bn.parameters().allSatisfy { $0.requiresGrad })
        #expect(bn.buffers().allSatisfy { !$0.requiresGrad })
    }

    @Test("train and eval reach every descendant")
    func modePropagates() throws {
        let fixture = try NNFixture.load("model")
        let model = TinyResNet()
        #expect(model.modules().count == fixture["module_count"] as? Int)
        #expect(model.modules().allSatisfy { $0.training })
        model.eval()
        #expect(model.modules().allSatisfy { !$0.training })
        model.train()
        #expect(model.modules().allSatisfy { $0.training })
    }

    @Test("freeze stops gradients for every parameter and unfreeze restores them")
    func freezeAndUnfreeze() {
        let model = TinyResNet()
        model.layer1.freeze()
        #expect(model.layer1.parameters().allSatisfy { !$0.requiresGrad })
        #expect(model.fc.weight.requiresGrad)
        #expect(model.trainableParameterCount == model.parameterCount - model.layer1.parameterCount)
        model.unfreeze()
        #expect(model.trainableParameterCount == model.parameterCount)
    }

    @Test("parameter count sums the elements of all parameters")
    func parameterCount() {
        #expect(Linear(10, 4).parameterCount == 44)
        #expect(Conv2d(4, 8, kernelSize: 3, groups: 2, bias: false).parameterCount == 8 * 2 * 9)
        #expect(BatchNorm2d(5).parameterCount == 10)
    }

    @Test("a tensor shared by two modules is one parameter but two state dict entries")
    func sharedParameters() {
        let first = Linear(2, 2)
        let second = Linear(2, 2)
        second.weight = first.weight
        let both = Sequential(first, second)
        #expect(both.parameters().count == 3)
        #expect(both.orderedStateDict().count == 4)
    }

    @Test("a strict load that does not fit lists missing, unexpected and mismatched keys and copies nothing")
    func strictLoadReportsEveryProblem() throws {
        let model = Sequential(Linear(3, 2), BatchNorm1d(2))
        var state = model.stateDict()
        state["0.weight"] = Tensor.ones([2, 4])
        state["0.bias"] = Tensor.ones([2])
        state["1.running_mean"] = nil
        state["2.weight"] = Tensor.ones([1])
        let before = model.stateDict()["0.bias"]!.clone()
        let error = try #require(throws: StateDictError.self) { try model.load(stateDict: state) }
        #expect(error.missing == ["1.running_mean"])
        #expect(error.unexpected == ["2.weight"])
        #expect(error.mismatched == [.init(key: "0.weight", expected: [2, 3], found: [2, 4])])
        #expect(error.description.contains("1.running_mean") && error.description.contains("2.weight"))
        #expect(model.stateDict()["0.bias"]!.equal(before))
    }

    @Test("a non-strict load copies what matches and returns the keys that did not")
    func nonStrictLoad() throws {
        let model = Sequential(Linear(3, 2), BatchNorm1d(2))
        let state = ["0.bias": Tensor([Float(5), 6]), "extra": Tensor.ones([1])]
        let keys = try model.load(stateDict: state, strict: false)
        #expect(keys.unexpected == ["extra"])
        #expect(keys.missing == ["0.weight", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked"])
        #expect(model.stateDict()["0.bias"]!.toArray(Float.self) == [5, 6])
    }

    @Test("a non-strict load still refuses mismatched shapes")
    func nonStrictLoadChecksShapes() {
        let model = Linear(3, 2)
        #expect(throws: StateDictError.self) { try model.load(stateDict: ["weight": Tensor.ones([3, 2])], strict: false) }
    }

    @Test("loading copies in place: the parameter tensors an optimizer holds stay the module's")
    func loadKeepsIdentity() throws {
        let model = Linear(2, 1)
        let held = model.parameters()
        try model.load(stateDict: ["weight": Tensor([Float(1), 2], shape: [1, 2]), "bias": Tensor([Float(3)])])
        #expect(held[0] === model.weight && held[1] === model.bias)
        #expect(held[0].toArray(Float.self) == [1, 2])
        #expect(held[0].requiresGrad)
    }

    @Test("state dict entries share storage with the module but carry no gradient")
    func stateDictSharesStorage() {
        let model = Linear(2, 1)
        let weight = model.stateDict()["weight"]!
        #expect(!weight.requiresGrad)
        _ = withNoGrad { model.weight.fill_(7) }
        #expect(weight.toArray(Float.self) == [7, 7])
    }

    @Test("to(dtype:) converts floating-point state in place and keeps integer buffers")
    func convertsDtypeInPlace() {
        let model = Sequential(Linear(2, 3), BatchNorm1d(3))
        let held = model.parameters()
        let values = held[0].toArray(Float.self)
        model.to(dtype: .float64)
        #expect(held.allSatisfy { $0.dtype == .float64 && $0.requiresGrad })
        #expect(held[0].toArray(Float.self) == values)
        #expect(model.stateDict()["1.running_var"]!.dtype == .float64)
        #expect(model.stateDict()["1.num_batches_tracked"]!.dtype == .int64)
        #expect(model(Tensor.ones([4, 2], dtype: .float64)).dtype == .float64)
    }

    @Test("to(device:) moves parameters, buffers and gradients when a GPU is present", .enabled(if: Runtime.cudaDeviceCount > 0))
    func movesToCUDA() {
        let model = Sequential(Linear(2, 3), BatchNorm1d(3))
        let weight = model.parameters()[0]
        (model(Tensor.ones([4, 2])).sum()).backward()
        model.to(device: .cuda(0))
        #expect(model.parameters().allSatisfy { $0.device == .cuda(0) })
        #expect(model.buffers().allSatisfy { $0.device == .cuda(0) })
        #expect(weight === model.parameters()[0] && weight.grad?.device == .cuda(0))
    }
}

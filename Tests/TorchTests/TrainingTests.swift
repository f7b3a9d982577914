import Testing
import Torch

/// The training toolkit end to end: modules, autograd, LARS and a schedule together.
@Suite("Training")
struct TrainingTests {
    /// Images of 8×8 with one bright bar, horizontal (class 0) or vertical (class 1), at a
    /// random position, in Gaussian noise.
    static func bars(count: Int, generator: Generator) -> (images: Tensor, labels: Tensor) {
        let labels = Tensor.randint(0, 2, [count], generator: generator)
        let lines = oneHot(Tensor.randint(0, 8, [count], generator: generator), numClasses: 8).to(.float32)
        let horizontal = lines.unsqueeze(2).expand([count, 8, 8])
        let vertical = lines.unsqueeze(1).expand([count, 8, 8])
        let isVertical = (labels .== 1).reshape([count, 1, 1])
        let noise = Tensor.randn([count, 8, 8], generator: generator) * 0.5
        return ((`where`(isVertical, vertical, horizontal) + noise).unsqueeze(1), labels)
    }

    @Test("a small convnet trained with LARS and warm-up cosine learns to tell bars apart")
    func larsLearnsSyntheticTask() {
        let generator = Generator(seed: 0)
        let model = Sequential(
            Conv2d(1, 8, kernelSize: 3, padding: 1, generator: generator), BatchNorm2d(8), ReLU(),
            MaxPool2d(kernelSize: 2),
            Conv2d(8, 16, kernelSize: 3, padding: 1, generator: generator), BatchNorm2d(16), ReLU(),
            AdaptiveAvgPool2d(outputSize: 1), Flatten(), Linear(16, 2, generator: generator))
        let steps = 60
        let optimizer = LARS(groups: ParameterGroup.weightsAndBiases(model.parameters(), weightLR: 20, biasLR: 0.5,
                                                                     weightDecay: 1e-6))
        let schedule = WarmupCosine(base: 1, warmupSteps: 5, totalSteps: steps)
        let test = Self.bars(count: 512, generator: generator)
        model.eval()
        let accuracyBefore = accuracy(model(test.images), test.labels)
        model.train()
        var losses: [Double] = []
        for step in 0..<steps {
            let batch = Self.bars(count: 64, generator: generator)
            optimizer.applySchedule(schedule, step: step)
            optimizer.zeroGrad()
            let loss = crossEntropy(model(batch.images), batch.labels)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        }
        model.eval()
        let accuracyAfter = accuracy(model(test.images), test.labels)
        #expect(accuracyBefore < 0.75, "an untrained network should be near chance")
        #expect(accuracyAfter > 0.95, "accuracy \(accuracyBefore) before training, \(accuracyAfter) after")
        let firstLoss: Double = losses.prefix(10).reduce(0, +) / 10
        let lastLoss: Double = losses.suffix(10).reduce(0, +) / 10
        #expect(lastLoss < 0.5 * firstLoss)
    }

    private func accuracy(_ logits: Tensor, _ labels: Tensor) -> Double {
        (logits.argmax(dim: 1) .== labels).to(.float32).mean().item()
    }
}

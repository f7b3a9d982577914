/// Parameters that share a learning rate and a weight decay (PyTorch's param group).
public struct ParameterGroup: Sendable {
    public var params: [Tensor]
    /// The rate the next `step()` uses; schedules set it.
    public var lr: Double
    /// The rate the group was created with, which a schedule scales (PyTorch's `initial_lr`).
    public var initialLR: Double
    public var weightDecay: Double

    public init(params: [Tensor], lr: Double, weightDecay: Double = 0) {
        self.params = params
        self.lr = lr
        self.initialLR = lr
        self.weightDecay = weightDecay
    }

    /// Two groups as the Barlow Twins reference builds them for LARS: parameters with
    /// more than one dimension (weights) first, then one-dimensional ones (biases and
    /// BatchNorm parameters), each with its own learning rate.
    public static func weightsAndBiases(_ params: [Tensor], weightLR: Double, biasLR: Double,
                                        weightDecay: Double) -> [ParameterGroup] {
        [ParameterGroup(params: params.filter { $0.rank != 1 }, lr: weightLR, weightDecay: weightDecay),
         ParameterGroup(params: params.filter { $0.rank == 1 }, lr: biasLR, weightDecay: weightDecay)]
    }
}

/// Batch normalisation over the channel dimension (PyTorch's `_BatchNorm`), shared by
/// `BatchNorm1d` and `BatchNorm2d`, with PyTorch's state and semantics:
///
/// - `weight` (ones) and `bias` (zeros) when `affine`;
/// - buffers `running_mean` (zeros), `running_var` (ones) and `num_batches_tracked`
///   (int64 0) when `trackRunningStats`;
/// - in training, batch statistics normalise, `num_batches_tracked` grows by one and the
///   running statistics move by `momentum` (nil: their cumulative average over batches);
/// - in evaluation, the running statistics normalise (batch statistics without them).
open class BatchNorm: Module, UnaryLayer {
    @Parameter public var weight: Tensor?
    @Parameter public var bias: Tensor?
    @Buffer(key: "running_mean") public var runningMean: Tensor?
    @Buffer(key: "running_var") public var runningVar: Tensor?
    @Buffer(key: "num_batches_tracked") public var numBatchesTracked: Tensor?

    public let numFeatures: Int
    public let eps: Double
    /// The weight of the newest batch in the running statistics; nil for an equal weight
    /// for every batch so far (a cumulative average).
    public var momentum: Double?
    public let affine: Bool
    public let trackRunningStats: Bool
    /// When set, training normalises with the statistics of the whole group's batch
    /// (PyTorch's `SyncBatchNorm`): every rank of the group must run this layer in step.
    public var processGroup: ProcessGroup?

    public init(_ numFeatures: Int, eps: Double = 1e-5, momentum: Double? = 0.1, affine: Bool = true,
                trackRunningStats: Bool = true, dtype: DType = .float32, device: Device = .cpu) {
        self.numFeatures = numFeatures
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.trackRunningStats = trackRunningStats
        let features = [numFeatures]
        self.weight = affine ? Tensor.ones(features, dtype: dtype, device: device) : nil
        self.bias = affine ? Tensor.zeros(features, dtype: dtype, device: device) : nil
        super.init()
        if trackRunningStats {
            runningMean = Tensor.zeros(features, dtype: dtype, device: device)
            runningVar = Tensor.ones(features, dtype: dtype, device: device)
            numBatchesTracked = Tensor.zeros([], dtype: .int64, device: device)
        }
    }

    /// Checks the input's rank; each subclass knows which ones it takes.
    open func checkInput(_ x: Tensor) {}

    /// Back to the running statistics of a new layer.
    public func resetRunningStats() {
        withNoGrad {
            runningMean?.zero_()
            runningVar?.fill_(1)
            numBatchesTracked?.zero_()
        }
    }

    /// How one forward pass normalises.
    public struct Normalization {
        /// Whether the batch's own statistics normalise (training, or no running statistics).
        public let batchStatistics: Bool
        /// The running statistics that the pass updates (with batch statistics) or normalises
        /// with; nil where it does neither.
        public let runningMean: Tensor?
        public let runningVar: Tensor?
        /// The weight of this batch in the running statistics.
        public let momentum: Double
    }

    /// Counts the batch (in training) and says how this forward pass normalises: the
    /// bookkeeping of `callAsFunction`, shared with fused layers that hold a batch norm's state.
    public func beginForward() -> Normalization {
        var factor = momentum ?? 0
        if training, trackRunningStats, let count = numBatchesTracked {
            _ = withNoGrad { count.copy_(count + 1) }
            if momentum == nil { factor = 1 / Double(count.itemInt()) }
        }
        // Without running statistics there is nothing else to normalise with.
        let batchStatistics = training || (runningMean == nil && runningVar == nil)
        let running = !training || trackRunningStats
        return Normalization(batchStatistics: batchStatistics, runningMean: running ? runningMean : nil,
                             runningVar: running ? runningVar : nil, momentum: factor)
    }

    /// Whether training normalises over a process group of several ranks.
    public var isSynchronized: Bool { (processGroup?.worldSize ?? 1) > 1 }

    open func callAsFunction(_ x: Tensor) -> Tensor {
        checkInput(x)
        let pass = beginForward()
        if pass.batchStatistics, let processGroup, isSynchronized {
            return synchronizedBatchNorm(x, weight: weight, bias: bias, runningMean: pass.runningMean,
                                         runningVar: pass.runningVar, momentum: pass.momentum, eps: eps,
                                         group: processGroup)
        }
        return batchNorm(x, weight: weight, bias: bias, runningMean: pass.runningMean, runningVar: pass.runningVar,
                         training: pass.batchStatistics, momentum: pass.momentum, eps: eps)
    }
}

/// Batch normalisation of [N, C] or [N, C, L] (`nn.BatchNorm1d`), as in projectors.
open class BatchNorm1d: BatchNorm {
    open override func checkInput(_ x: Tensor) {
        precondition(x.rank == 2 || x.rank == 3, "BatchNorm1d: expected 2D or 3D input, got shape \(x.shape)")
    }
}

/// Batch normalisation of [N, C, H, W] (`nn.BatchNorm2d`).
open class BatchNorm2d: BatchNorm {
    open override func checkInput(_ x: Tensor) {
        precondition(x.rank == 4, "BatchNorm2d: expected 4D input, got shape \(x.shape)")
    }
}

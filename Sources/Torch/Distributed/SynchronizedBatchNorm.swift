/// Batch normalisation over the batches of every rank of `group` together, as PyTorch's
/// `SyncBatchNorm` in training: the mean and the (biased) variance of each channel are those
/// of the union of the ranks' batches, computed in two passes (the mean, then the squared
/// deviations from it) like a one-process batch norm; the running variance is unbiased with
/// the total count. Every rank's batch must have the same size. Differentiable: the gradient
/// reaches every rank's input through the statistics.
///
/// A rank that fails to take part stops the process with the group's error
/// (`Runtime.failureContext` can say more): a forward pass has no way to throw.
public func synchronizedBatchNorm(_ x: Tensor, weight: Tensor?, bias: Tensor?, runningMean: Tensor?, runningVar: Tensor?,
                                  momentum: Double, eps: Double, group: ProcessGroup) -> Tensor {
    let channels = x.size(1)
    let dims = [0] + Array(2..<x.rank)
    var shape = Array(repeating: 1, count: x.rank)
    shape[1] = channels
    let count = Double(x.count / channels * group.worldSize)
    let mean = group.summedOrStop(x.sum(dims: dims)) / count
    let centered = x - mean.reshape(shape)
    let variance = group.summedOrStop(centered.square().sum(dims: dims)) / count
    withNoGrad {
        if let runningMean { runningMean.mul_(1 - momentum).add_(mean * momentum) }
        if let runningVar { runningVar.mul_(1 - momentum).add_(variance * (momentum * count / max(count - 1, 1))) }
    }
    var y = centered * (variance + eps).rsqrt().reshape(shape)
    if let weight { y = y * weight.reshape(shape) }
    if let bias { y = y + bias.reshape(shape) }
    return y
}

extension ProcessGroup {
    /// `sum(_:)` for a forward pass, which cannot throw: a failure stops the process.
    public func summedOrStop(_ tensor: Tensor) -> Tensor {
        orStop { try sum(tensor) }
    }

    /// `gather(_:)` for a forward pass, which cannot throw: a failure stops the process.
    public func gatheredOrStop(_ tensor: Tensor) -> Tensor {
        orStop { try gather(tensor) }
    }

    private func orStop(_ body: () throws -> Tensor) -> Tensor {
        do {
            return try body()
        } catch let error as TorchError {
            stop(libtorchMessage: error.message)
        } catch {
            stop(libtorchMessage: "\(error)")
        }
    }
}

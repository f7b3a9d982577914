import CTorch

/// Batch normalisation over the batches of every rank of `group` together, as PyTorch's
/// `SyncBatchNorm` in training: the mean and the (biased) variance of each channel are those
/// of the union of the ranks' batches, as exact as one two-pass batch norm over it; the
/// running variance is unbiased with the total count. Every rank's batch must have the same
/// size. Differentiable: the gradient reaches every rank's input through the statistics.
/// One autograd node in the bridge, which keeps only the input and per-channel statistics
/// for backward and exchanges once forward and once backward.
///
/// A rank that fails to take part stops the process with the group's error
/// (`Runtime.failureContext` can say more): a forward pass has no way to throw.
public func synchronizedBatchNorm(_ x: Tensor, weight: Tensor?, bias: Tensor?, runningMean: Tensor?, runningVar: Tensor?,
                                  momentum: Double, eps: Double, group: ProcessGroup) -> Tensor {
    withExtendedLifetime((weight, bias, runningMean, runningVar)) {
        group.orStop { out in
            ct_dist_batch_norm(group.handle, x.handle, weight?.handle, bias?.handle, runningMean?.handle, runningVar?.handle,
                               momentum, eps, out)
        }
    }
}

/// The channel mean [C] and biased covariance [C, C] of x [N, C, H, W] over the batches of every
/// rank of `group` together (this rank's batch alone without one), and the number of values per
/// channel they cover: the input statistics a fused CbE head's synchronised batch norm needs
/// (`convBatchNormReLUPool`). Differentiable through the all-reduces, so their gradients reach
/// every rank's input. Two passes, the covariance of centred values, as batch norm's variance is.
public func channelStatistics(_ x: Tensor, group: ProcessGroup?) -> (mean: Tensor, covariance: Tensor, count: Double) {
    let channels = x.size(1)
    let columns = x.transpose(0, 1).reshape([channels, -1])
    let summed = { (tensor: Tensor) in group?.summedOrStop(tensor) ?? tensor }
    let localCount = Double(columns.size(1))
    let count = group.map { $0.summedOrStop(Tensor([localCount])).item() } ?? localCount
    let mean = summed(columns.sum(dim: 1)) / count
    let centred = columns - mean.unsqueeze(1)
    return (mean, summed(centred.mm(centred.t)) / count, count)
}

extension ProcessGroup {
    /// `sum(_:)` for a forward pass, which cannot throw: a failure stops the process.
    public func summedOrStop(_ tensor: Tensor) -> Tensor {
        orStop { out in ct_dist_sum(handle, tensor.handle, out) }
    }

    /// `gather(_:)` for a forward pass, which cannot throw: a failure stops the process.
    public func gatheredOrStop(_ tensor: Tensor) -> Tensor {
        orStop { out in ct_dist_gather(handle, tensor.handle, out) }
    }

    /// A differentiable collective's result; a failure stops the process.
    func orStop(_ body: (UnsafeMutablePointer<ct_tensor?>) -> Int32) -> Tensor {
        do {
            return try differentiable(body)
        } catch {
            stop(libtorchMessage: (error as? TorchError)?.message ?? "\(error)")
        }
    }
}

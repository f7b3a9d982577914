import CTorch

/// How `convBatchNormReLUPool` reduces r = ReLU(y) over the spatial positions of each channel.
public enum SpatialPooling: CaseIterable, Sendable {
    /// mean(r)
    case mean
    /// √mean(r²)
    case rootMeanSquare
    /// mean(√(r + 1e-6))
    case meanSquareRoot

    /// The bridge's constant for this pooling.
    var code: Int32 {
        switch self {
        case .mean: return Int32(CT_POOLING_MEAN)
        case .rootMeanSquare: return Int32(CT_POOLING_ROOT_MEAN_SQUARE)
        case .meanSquareRoot: return Int32(CT_POOLING_MEAN_SQUARE_ROOT)
        }
    }
}

/// `pool(ReLU(batchNorm(conv2d(x, convWeight))))` for a 1×1 convolution without bias from C to
/// D channels, of x [N, C, H, W] to [N, D], with the values and gradients of the composed ops
/// but without ever holding the expanded [N, D, H, W] tensor whole: batch norm's statistics
/// come from the input's channel mean and C × C covariance (the convolution is linear), and
/// the expansion is computed, reduced and (in backward) recomputed a tile at a time.
///
/// With `batchStatistics` the batch's statistics normalise and the running statistics, when
/// given, move by `momentum` (unbiased variance), as `batchNorm(training: true)`; otherwise
/// the running statistics normalise. `inputStatistics`, with batch statistics: the channel mean
/// [C] and biased covariance [C, C] of the input over `count` values per channel, computed by
/// the caller (over every process's batch, for synchronised batch norm); the node then gives
/// them their gradients instead of following them into `x`. float32 and float64; no second
/// derivative. `tileElements`: elements of the expansion computed at once; nil for the
/// device's default. `cpuKernels`: on the CPU, for inputs of at most 32 channels, compute the
/// expansion and its gradient in registers rather than as GEMMs over tiles (faster there; tests
/// turn it off to check the GEMMs that a GPU and wider inputs run).
public func convBatchNormReLUPool(_ x: Tensor, convWeight: Tensor, bnWeight: Tensor, bnBias: Tensor,
                                  runningMean: Tensor?, runningVar: Tensor?, batchStatistics: Bool,
                                  momentum: Double, eps: Double, pooling: SpatialPooling,
                                  inputStatistics: (mean: Tensor, covariance: Tensor, count: Double)? = nil,
                                  tileElements: Int? = nil, cpuKernels: Bool = true) -> Tensor {
    withExtendedLifetime((runningMean, runningVar, inputStatistics?.mean, inputStatistics?.covariance)) {
        Tensor.make {
            ct_conv_bn_relu_pool(x.handle, convWeight.handle, bnWeight.handle, bnBias.handle, runningMean?.handle,
                                 runningVar?.handle, batchStatistics ? 1 : 0, momentum, eps, pooling.code,
                                 Int64(tileElements ?? 0), cpuKernels ? 1 : 0, inputStatistics?.mean.handle, inputStatistics?.covariance.handle,
                                 inputStatistics?.count ?? 0, $0)
        }
    }
}

/// `pool(ReLU(batchNorm(u)))` of an expansion u [N, D, H, W] that is held whole, to [N, D], on
/// the CPU, with the values and gradients of the composed ops: one node that reads each
/// channel's values once for the statistics and the pooled sums and, in backward, once for the
/// sums of g and g·x̂ and once more from cache for dL/du, where the composed ops write and read
/// back several tensors as large as u. For the expansions `convBatchNormReLUPool` cannot fuse:
/// bf16 under autocast (arithmetic in float32; the output and dL/du are bf16, as the composed
/// ops' are under autocast) and k×k kernels. float32, float64 or bfloat16; no second derivative.
/// `batchStatistics`, `momentum` and the running statistics as in `convBatchNormReLUPool`.
public func batchNormReLUPool(_ u: Tensor, bnWeight: Tensor, bnBias: Tensor, runningMean: Tensor?, runningVar: Tensor?,
                              batchStatistics: Bool, momentum: Double, eps: Double, pooling: SpatialPooling) -> Tensor {
    withExtendedLifetime((runningMean, runningVar)) {
        Tensor.make {
            ct_bn_relu_pool(u.handle, bnWeight.handle, bnBias.handle, runningMean?.handle, runningVar?.handle,
                            batchStatistics ? 1 : 0, momentum, eps, pooling.code, $0)
        }
    }
}

import CTorch

/// A reduction over dimensions (ct_reduce).
enum ReduceOp: CaseIterable {
    case sum, mean, prod, amax, amin, logsumexp, all, any

    /// The bridge's constant for this reduction.
    var code: Int32 {
        switch self {
        case .sum: return Int32(CT_REDUCE_SUM)
        case .mean: return Int32(CT_REDUCE_MEAN)
        case .prod: return Int32(CT_REDUCE_PROD)
        case .amax: return Int32(CT_REDUCE_AMAX)
        case .amin: return Int32(CT_REDUCE_AMIN)
        case .logsumexp: return Int32(CT_REDUCE_LOGSUMEXP)
        case .all: return Int32(CT_REDUCE_ALL)
        case .any: return Int32(CT_REDUCE_ANY)
        }
    }
}

extension Tensor {
    /// `dims == nil` reduces over every dimension.
    func reduce(_ op: ReduceOp, _ dims: [Int]?, _ keepDims: Bool) -> Tensor {
        Tensor.make { out in
            if let dims {
                return withInt64s(dims) { ct_reduce(op.code, handle, $0, $1, keepDims ? 1 : 0, out) }
            }
            return ct_reduce(op.code, handle, nil, 0, keepDims ? 1 : 0, out)
        }
    }

    public func sum(dims: [Int]? = nil, keepDims: Bool = false) -> Tensor { reduce(.sum, dims, keepDims) }
    public func sum(dim: Int, keepDims: Bool = false) -> Tensor { reduce(.sum, [dim], keepDims) }
    public func mean(dims: [Int]? = nil, keepDims: Bool = false) -> Tensor { reduce(.mean, dims, keepDims) }
    public func mean(dim: Int, keepDims: Bool = false) -> Tensor { reduce(.mean, [dim], keepDims) }
    public func prod(dim: Int? = nil, keepDims: Bool = false) -> Tensor { reduce(.prod, dim.map { [$0] }, keepDims) }
    /// Largest value over `dims` (all by default).
    public func amax(dims: [Int]? = nil, keepDims: Bool = false) -> Tensor { reduce(.amax, dims, keepDims) }
    public func amin(dims: [Int]? = nil, keepDims: Bool = false) -> Tensor { reduce(.amin, dims, keepDims) }
    public func logSumExp(dims: [Int], keepDims: Bool = false) -> Tensor { reduce(.logsumexp, dims, keepDims) }
    public func all(dim: Int? = nil, keepDims: Bool = false) -> Tensor { reduce(.all, dim.map { [$0] }, keepDims) }
    public func any(dim: Int? = nil, keepDims: Bool = false) -> Tensor { reduce(.any, dim.map { [$0] }, keepDims) }

    /// Variance; `unbiased` divides by n − 1 (PyTorch's default), else by n.
    public func variance(dims: [Int]? = nil, unbiased: Bool = true, keepDims: Bool = false) -> Tensor {
        Tensor.make { out in
            guard let dims else { return ct_var(handle, nil, 0, unbiased ? 1 : 0, keepDims ? 1 : 0, out) }
            return withInt64s(dims) { ct_var(handle, $0, $1, unbiased ? 1 : 0, keepDims ? 1 : 0, out) }
        }
    }

    public func std(dims: [Int]? = nil, unbiased: Bool = true, keepDims: Bool = false) -> Tensor {
        Tensor.make { out in
            guard let dims else { return ct_std(handle, nil, 0, unbiased ? 1 : 0, keepDims ? 1 : 0, out) }
            return withInt64s(dims) { ct_std(handle, $0, $1, unbiased ? 1 : 0, keepDims ? 1 : 0, out) }
        }
    }

    /// The p-norm over `dims` (all by default).
    public func norm(p: Double = 2, dims: [Int]? = nil, keepDims: Bool = false) -> Tensor {
        Tensor.make { out in
            guard let dims else { return ct_norm(handle, p, nil, 0, keepDims ? 1 : 0, out) }
            return withInt64s(dims) { ct_norm(handle, p, $0, $1, keepDims ? 1 : 0, out) }
        }
    }

    /// Largest values along `dim` and where they are.
    public func max(dim: Int, keepDims: Bool = false) -> (values: Tensor, indices: Tensor) {
        Tensor.make2 { ct_max_dim(handle, Int64(dim), keepDims ? 1 : 0, $0, $1) }
    }

    public func min(dim: Int, keepDims: Bool = false) -> (values: Tensor, indices: Tensor) {
        Tensor.make2 { ct_min_dim(handle, Int64(dim), keepDims ? 1 : 0, $0, $1) }
    }

    public func max() -> Tensor { amax() }
    public func min() -> Tensor { amin() }

    /// Index of the largest value along `dim`, or in the flattened tensor.
    public func argmax(dim: Int? = nil, keepDims: Bool = false) -> Tensor {
        Tensor.make { ct_argmax(handle, dim == nil ? 0 : 1, Int64(dim ?? 0), keepDims ? 1 : 0, $0) }
    }

    public func argmin(dim: Int? = nil, keepDims: Bool = false) -> Tensor {
        Tensor.make { ct_argmin(handle, dim == nil ? 0 : 1, Int64(dim ?? 0), keepDims ? 1 : 0, $0) }
    }

    /// The `k` largest (or smallest) values along `dim` and their indices.
    public func topk(_ k: Int, dim: Int = -1, largest: Bool = true, sorted: Bool = true) -> (values: Tensor, indices: Tensor) {
        Tensor.make2 { ct_topk(handle, Int64(k), Int64(dim), largest ? 1 : 0, sorted ? 1 : 0, $0, $1) }
    }

    public func sort(dim: Int = -1, descending: Bool = false) -> (values: Tensor, indices: Tensor) {
        Tensor.make2 { ct_sort(handle, Int64(dim), descending ? 1 : 0, $0, $1) }
    }

    public func cumsum(dim: Int) -> Tensor { Tensor.make { ct_cumsum(handle, Int64(dim), $0) } }
}

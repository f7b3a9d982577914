import CTorch

extension Tensor {
    /// Same elements in a new shape; -1 infers one dimension. Copies only when it must.
    public func reshape(_ shape: [Int]) -> Tensor {
        Tensor.make { out in withInt64s(shape) { ct_reshape(handle, $0, $1, out) } }
    }

    /// Same storage in a new shape; fails when the strides do not allow it.
    public func view(_ shape: [Int]) -> Tensor {
        Tensor.make { out in withInt64s(shape) { ct_view(handle, $0, $1, out) } }
    }

    public func permute(_ dims: [Int]) -> Tensor {
        Tensor.make { out in withInt64s(dims) { ct_permute(handle, $0, $1, out) } }
    }

    public func transpose(_ d0: Int, _ d1: Int) -> Tensor {
        Tensor.make { ct_transpose(handle, Int64(d0), Int64(d1), $0) }
    }

    /// The transpose of a matrix.
    public var t: Tensor { transpose(0, 1) }

    public func flatten(start: Int = 0, end: Int = -1) -> Tensor {
        Tensor.make { ct_flatten(handle, Int64(start), Int64(end), $0) }
    }

    /// Removes size-1 dimensions: `dim` only, or all of them.
    public func squeeze(dim: Int? = nil) -> Tensor {
        Tensor.make { ct_squeeze(handle, dim == nil ? 0 : 1, Int64(dim ?? 0), $0) }
    }

    public func unsqueeze(_ dim: Int) -> Tensor { Tensor.make { ct_unsqueeze(handle, Int64(dim), $0) } }

    /// A broadcast view; -1 keeps a dimension.
    public func expand(_ shape: [Int]) -> Tensor {
        Tensor.make { out in withInt64s(shape) { ct_expand(handle, $0, $1, out) } }
    }

    /// Tiles the tensor `repeats[i]` times along each dimension.
    public func `repeat`(_ repeats: [Int]) -> Tensor {
        Tensor.make { out in withInt64s(repeats) { ct_repeat(handle, $0, $1, out) } }
    }

    public func flip(_ dims: [Int]) -> Tensor {
        Tensor.make { out in withInt64s(dims) { ct_flip(handle, $0, $1, out) } }
    }

    public func roll(_ shifts: [Int], dims: [Int]) -> Tensor {
        Tensor.make { out in
            withInt64s(shifts) { s, n in withInt64s(dims) { d, _ in ct_roll(handle, s, d, n, out) } }
        }
    }

    /// `count` pieces of (nearly) equal size along `dim`.
    public func chunk(_ count: Int, dim: Int = 0) -> [Tensor] {
        var outs = [ct_tensor?](repeating: nil, count: count)
        var produced: Int64 = 0
        check(ct_chunk(handle, Int64(count), Int64(dim), &outs, Int64(count), &produced))
        return outs.prefix(Int(produced)).map { Tensor(owning: $0) }
    }

    /// Pieces of the given sizes along `dim`.
    public func split(_ sizes: [Int], dim: Int = 0) -> [Tensor] {
        var outs = [ct_tensor?](repeating: nil, count: sizes.count)
        check(withInt64s(sizes) { ct_split(handle, $0, $1, Int64(dim), &outs) })
        return outs.map { Tensor(owning: $0) }
    }

    /// `length` elements of `dim` from `start`, a view.
    public func narrow(dim: Int, start: Int, length: Int) -> Tensor {
        Tensor.make { ct_narrow(handle, Int64(dim), Int64(start), Int64(length), $0) }
    }

    /// Elements `start..<end` of `dim` with a step, a view (Python's t[..., start:end:step]).
    public func slice(dim: Int, start: Int = 0, end: Int = Int.max, step: Int = 1) -> Tensor {
        Tensor.make { ct_slice(handle, Int64(dim), Int64(start), Int64(end), Int64(step), $0) }
    }

    /// One index of `dim`, removing that dimension.
    public func select(dim: Int, index: Int) -> Tensor {
        Tensor.make { ct_select(handle, Int64(dim), Int64(index), $0) }
    }

    /// `t[i]`: the i-th element along the first dimension. `t[a..<b]`: a slice of it.
    public subscript(index: Int) -> Tensor { select(dim: 0, index: index) }
    public subscript(range: Range<Int>) -> Tensor { slice(dim: 0, start: range.lowerBound, end: range.upperBound) }

    public func indexSelect(dim: Int, index: Tensor) -> Tensor {
        Tensor.make { ct_index_select(handle, Int64(dim), index.handle, $0) }
    }

    public func gather(dim: Int, index: Tensor) -> Tensor {
        Tensor.make { ct_gather(handle, Int64(dim), index.handle, $0) }
    }

    public func scatterAdd(dim: Int, index: Tensor, source: Tensor) -> Tensor {
        Tensor.make { ct_scatter_add(handle, Int64(dim), index.handle, source.handle, $0) }
    }

    /// The elements where `mask` is true, as a 1-d tensor.
    public func maskedSelect(_ mask: Tensor) -> Tensor {
        Tensor.make { ct_masked_select(handle, mask.handle, $0) }
    }

    public func diagonal(offset: Int = 0, dim1: Int = 0, dim2: Int = 1) -> Tensor {
        Tensor.make { ct_diagonal(handle, Int64(offset), Int64(dim1), Int64(dim2), $0) }
    }

    /// Square matrices with the last dimension on their diagonal.
    public func diagEmbed() -> Tensor { Tensor.make { ct_diag_embed(handle, $0) } }
    public func tril(_ k: Int = 0) -> Tensor { Tensor.make { ct_tril(handle, Int64(k), $0) } }
    public func triu(_ k: Int = 0) -> Tensor { Tensor.make { ct_triu(handle, Int64(k), $0) } }

    /// Joins tensors along an existing dimension.
    public static func cat(_ tensors: [Tensor], dim: Int = 0) -> Tensor {
        Tensor.make { out in withHandles(tensors) { ct_cat($0, $1, Int64(dim), out) } }
    }

    /// Joins tensors along a new dimension.
    public static func stack(_ tensors: [Tensor], dim: Int = 0) -> Tensor {
        Tensor.make { out in withHandles(tensors) { ct_stack($0, $1, Int64(dim), out) } }
    }
}

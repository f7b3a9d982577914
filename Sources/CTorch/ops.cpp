// Elementwise arithmetic, reductions and shape operations.
#include "bridge.hpp"

using ctorch::wrap;
using ctorch::scalar;

namespace {

// A Python number in an expression: a 0-dim tensor marked as wrapped, so that type promotion
// treats it as PyTorch treats a Python scalar (it does not upcast the tensor's dtype).
at::Tensor wrapped_number(const at::Scalar &s, const at::TensorOptions &like) {
    auto type = s.isBoolean() ? at::kBool : s.isIntegral(false) ? at::kLong : at::kDouble;
    auto t = at::scalar_tensor(s, like.dtype(type));
    t.unsafeGetTensorImpl()->set_wrapped_number(true);
    return t;
}

at::Tensor binary(int32_t op, const at::Tensor &a, const at::Tensor &b) {
    switch (op) {
    case CT_BINARY_ADD: return at::add(a, b);
    case CT_BINARY_SUB: return at::sub(a, b);
    case CT_BINARY_MUL: return at::mul(a, b);
    case CT_BINARY_DIV: return at::div(a, b);
    case CT_BINARY_POW: return at::pow(a, b);
    case CT_BINARY_MAXIMUM: return at::maximum(a, b);
    case CT_BINARY_MINIMUM: return at::minimum(a, b);
    case CT_BINARY_REMAINDER: return at::remainder(a, b);
    case CT_BINARY_EQ: return at::eq(a, b);
    case CT_BINARY_NE: return at::ne(a, b);
    case CT_BINARY_LT: return at::lt(a, b);
    case CT_BINARY_LE: return at::le(a, b);
    case CT_BINARY_GT: return at::gt(a, b);
    case CT_BINARY_GE: return at::ge(a, b);
    case CT_BINARY_AND: return at::logical_and(a, b);
    case CT_BINARY_OR: return at::logical_or(a, b);
    case CT_BINARY_XOR: return at::logical_xor(a, b);
    case CT_BINARY_MATMUL: return at::matmul(a, b);
    case CT_BINARY_MM: return at::mm(a, b);
    case CT_BINARY_BMM: return at::bmm(a, b);
    case CT_BINARY_ATAN2: return at::atan2(a, b);
    case CT_BINARY_FLOOR_DIVIDE: return at::div(a, b, "floor");
    }
    throw std::invalid_argument("unknown binary op " + std::to_string(op));
}

at::Tensor binary_scalar(int32_t op, const at::Tensor &a, const at::Scalar &b) {
    switch (op) {
    case CT_BINARY_ADD: return at::add(a, b);
    case CT_BINARY_SUB: return at::sub(a, b);
    case CT_BINARY_MUL: return at::mul(a, b);
    case CT_BINARY_DIV: return at::div(a, b);
    case CT_BINARY_POW: return at::pow(a, b);
    case CT_BINARY_REMAINDER: return at::remainder(a, b);
    case CT_BINARY_EQ: return at::eq(a, b);
    case CT_BINARY_NE: return at::ne(a, b);
    case CT_BINARY_LT: return at::lt(a, b);
    case CT_BINARY_LE: return at::le(a, b);
    case CT_BINARY_GT: return at::gt(a, b);
    case CT_BINARY_GE: return at::ge(a, b);
    }
    return binary(op, a, wrapped_number(b, a.options()));
}

at::Tensor scalar_binary(int32_t op, const at::Scalar &a, const at::Tensor &b) {
    switch (op) {
    case CT_BINARY_ADD: return at::add(b, a);
    case CT_BINARY_MUL: return at::mul(b, a);
    case CT_BINARY_SUB: return at::rsub(b, a);
    case CT_BINARY_POW: return at::pow(a, b);
    }
    return binary(op, wrapped_number(a, b.options()), b);
}

void binary_(int32_t op, const at::Tensor &a, const at::Tensor &b) {
    switch (op) {
    case CT_BINARY_ADD: a.add_(b); return;
    case CT_BINARY_SUB: a.sub_(b); return;
    case CT_BINARY_MUL: a.mul_(b); return;
    case CT_BINARY_DIV: a.div_(b); return;
    case CT_BINARY_POW: a.pow_(b); return;
    case CT_BINARY_MAXIMUM: a.copy_(at::maximum(a, b)); return;
    case CT_BINARY_MINIMUM: a.copy_(at::minimum(a, b)); return;
    case CT_BINARY_REMAINDER: a.remainder_(b); return;
    }
    throw std::invalid_argument("in-place binary op " + std::to_string(op) + " is not supported");
}

void binary_scalar_(int32_t op, const at::Tensor &a, const at::Scalar &b) {
    switch (op) {
    case CT_BINARY_ADD: a.add_(b); return;
    case CT_BINARY_SUB: a.sub_(b); return;
    case CT_BINARY_MUL: a.mul_(b); return;
    case CT_BINARY_DIV: a.div_(b); return;
    case CT_BINARY_POW: a.pow_(b); return;
    case CT_BINARY_REMAINDER: a.remainder_(b); return;
    }
    throw std::invalid_argument("in-place binary op " + std::to_string(op) + " with a scalar is not supported");
}

at::Tensor unary(int32_t op, const at::Tensor &t) {
    switch (op) {
    case CT_UNARY_NEG: return at::neg(t);
    case CT_UNARY_EXP: return at::exp(t);
    case CT_UNARY_LOG: return at::log(t);
    case CT_UNARY_SQRT: return at::sqrt(t);
    case CT_UNARY_RSQRT: return at::rsqrt(t);
    case CT_UNARY_ABS: return at::abs(t);
    case CT_UNARY_RELU: return at::relu(t);
    case CT_UNARY_SIGMOID: return at::sigmoid(t);
    case CT_UNARY_TANH: return at::tanh(t);
    case CT_UNARY_ERF: return at::erf(t);
    case CT_UNARY_SIN: return at::sin(t);
    case CT_UNARY_COS: return at::cos(t);
    case CT_UNARY_FLOOR: return at::floor(t);
    case CT_UNARY_CEIL: return at::ceil(t);
    case CT_UNARY_ROUND: return at::round(t);
    case CT_UNARY_SIGN: return at::sign(t);
    case CT_UNARY_RECIPROCAL: return at::reciprocal(t);
    case CT_UNARY_SQUARE: return at::square(t);
    case CT_UNARY_LOG1P: return at::log1p(t);
    case CT_UNARY_EXPM1: return at::expm1(t);
    case CT_UNARY_NOT: return at::logical_not(t);
    case CT_UNARY_ISNAN: return at::isnan(t);
    case CT_UNARY_ISFINITE: return at::isfinite(t);
    case CT_UNARY_LOG2: return at::log2(t);
    case CT_UNARY_GELU: return at::gelu(t);
    }
    throw std::invalid_argument("unknown unary op " + std::to_string(op));
}

void unary_(int32_t op, const at::Tensor &t) {
    switch (op) {
    case CT_UNARY_NEG: t.neg_(); return;
    case CT_UNARY_EXP: t.exp_(); return;
    case CT_UNARY_LOG: t.log_(); return;
    case CT_UNARY_SQRT: t.sqrt_(); return;
    case CT_UNARY_RSQRT: t.rsqrt_(); return;
    case CT_UNARY_ABS: t.abs_(); return;
    case CT_UNARY_RELU: t.relu_(); return;
    case CT_UNARY_SIGMOID: t.sigmoid_(); return;
    case CT_UNARY_TANH: t.tanh_(); return;
    case CT_UNARY_FLOOR: t.floor_(); return;
    case CT_UNARY_CEIL: t.ceil_(); return;
    case CT_UNARY_ROUND: t.round_(); return;
    case CT_UNARY_SIGN: t.sign_(); return;
    case CT_UNARY_RECIPROCAL: t.reciprocal_(); return;
    case CT_UNARY_SQUARE: t.square_(); return;
    }
    t.copy_(unary(op, t));
}

c10::optional<at::Scalar> bound(int32_t has, double value) {
    if (!has) return c10::nullopt;
    return at::Scalar(value);
}

std::vector<at::Tensor> tensors(const ct_tensor *ts, int64_t n) {
    std::vector<at::Tensor> v;
    v.reserve(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) v.push_back(T(ts[i]));
    return v;
}

void write_pieces(const std::vector<at::Tensor> &pieces, ct_tensor *outs, int64_t capacity, int64_t *count) {
    *count = static_cast<int64_t>(pieces.size());
    for (int64_t i = 0; i < capacity && i < *count; ++i) outs[i] = wrap(pieces[static_cast<size_t>(i)]);
}

} // namespace

extern "C" {

int32_t ct_binary(int32_t op, ct_tensor a, ct_tensor b, ct_tensor *out) { CT_RETURN(binary(op, T(a), T(b))) }
int32_t ct_binary_scalar(int32_t op, ct_tensor a, ct_scalar b, ct_tensor *out) {
    CT_RETURN(binary_scalar(op, T(a), scalar(b)))
}
int32_t ct_scalar_binary(int32_t op, ct_scalar a, ct_tensor b, ct_tensor *out) {
    CT_RETURN(scalar_binary(op, scalar(a), T(b)))
}
int32_t ct_binary_(int32_t op, ct_tensor a, ct_tensor b) { CT_GUARD(binary_(op, T(a), T(b))) }
int32_t ct_binary_scalar_(int32_t op, ct_tensor a, ct_scalar b) { CT_GUARD(binary_scalar_(op, T(a), scalar(b))) }
int32_t ct_unary(int32_t op, ct_tensor t, ct_tensor *out) { CT_RETURN(unary(op, T(t))) }
int32_t ct_unary_(int32_t op, ct_tensor t) { CT_GUARD(unary_(op, T(t))) }

int32_t ct_clamp(ct_tensor t, int32_t has_min, double min, int32_t has_max, double max, ct_tensor *out) {
    CT_RETURN(at::clamp(T(t), bound(has_min, min), bound(has_max, max)))
}
int32_t ct_clamp_(ct_tensor t, int32_t has_min, double min, int32_t has_max, double max) {
    CT_GUARD(T(t).clamp_(bound(has_min, min), bound(has_max, max)))
}
int32_t ct_where(ct_tensor cond, ct_tensor a, ct_tensor b, ct_tensor *out) { CT_RETURN(at::where(T(cond), T(a), T(b))) }
int32_t ct_masked_fill(ct_tensor t, ct_tensor mask, ct_scalar value, ct_tensor *out) {
    CT_RETURN(at::masked_fill(T(t), T(mask), scalar(value)))
}
int32_t ct_softmax(ct_tensor t, int64_t dim, ct_tensor *out) { CT_RETURN(at::softmax(T(t), dim)) }
int32_t ct_log_softmax(ct_tensor t, int64_t dim, ct_tensor *out) { CT_RETURN(at::log_softmax(T(t), dim)) }
int32_t ct_linear(ct_tensor x, ct_tensor w, ct_tensor b, ct_tensor *out) {
    CT_RETURN(at::linear(T(x), T(w), b ? c10::optional<at::Tensor>(T(b)) : c10::nullopt))
}

int32_t ct_add_scaled_(ct_tensor t, ct_tensor other, double alpha) { CT_GUARD(T(t).add_(T(other), alpha)) }
int32_t ct_addcmul_(ct_tensor t, ct_tensor a, ct_tensor b, double value) { CT_GUARD(T(t).addcmul_(T(a), T(b), value)) }
int32_t ct_addcdiv_(ct_tensor t, ct_tensor a, ct_tensor b, double value) { CT_GUARD(T(t).addcdiv_(T(a), T(b), value)) }
int32_t ct_lerp_(ct_tensor t, ct_tensor end, double weight) { CT_GUARD(T(t).lerp_(T(end), weight)) }
int32_t ct_copy_(ct_tensor dst, ct_tensor src) { CT_GUARD(T(dst).copy_(T(src))) }
int32_t ct_zero_(ct_tensor t) { CT_GUARD(T(t).zero_()) }
int32_t ct_fill_(ct_tensor t, ct_scalar value) { CT_GUARD(T(t).fill_(scalar(value))) }

int32_t ct_reduce(int32_t op, ct_tensor h, const int64_t *d, int64_t nd, int32_t keepdim, ct_tensor *out) {
    CT_GUARD({
        const at::Tensor &t = T(h);
        bool keep = keepdim != 0;
        at::Tensor r;
        if (d == nullptr) {
            // A full reduction: every dimension, keeping them as size 1 when asked.
            std::vector<int64_t> all(static_cast<size_t>(t.dim()));
            for (int64_t i = 0; i < t.dim(); ++i) all[static_cast<size_t>(i)] = i;
            switch (op) {
            case CT_REDUCE_SUM: r = keep ? at::sum(t, all, true) : at::sum(t); break;
            case CT_REDUCE_MEAN: r = keep ? at::mean(t, all, true) : at::mean(t); break;
            case CT_REDUCE_PROD: r = at::prod(t); break;
            case CT_REDUCE_AMAX: r = at::amax(t, all, keep); break;
            case CT_REDUCE_AMIN: r = at::amin(t, all, keep); break;
            case CT_REDUCE_LOGSUMEXP: r = at::logsumexp(t, all, keep); break;
            case CT_REDUCE_ALL: r = at::all(t); break;
            case CT_REDUCE_ANY: r = at::any(t); break;
            default: throw std::invalid_argument("unknown reduction " + std::to_string(op));
            }
        } else {
            auto ds = dims(d, nd);
            switch (op) {
            case CT_REDUCE_SUM: r = at::sum(t, ds, keep); break;
            case CT_REDUCE_MEAN: r = at::mean(t, ds, keep); break;
            case CT_REDUCE_AMAX: r = at::amax(t, ds, keep); break;
            case CT_REDUCE_AMIN: r = at::amin(t, ds, keep); break;
            case CT_REDUCE_LOGSUMEXP: r = at::logsumexp(t, ds, keep); break;
            case CT_REDUCE_PROD:
            case CT_REDUCE_ALL:
            case CT_REDUCE_ANY: {
                if (nd != 1) throw std::invalid_argument("prod, all and any reduce one dimension at a time");
                r = op == CT_REDUCE_PROD ? at::prod(t, ds[0], keep) : op == CT_REDUCE_ALL ? at::all(t, ds[0], keep) : at::any(t, ds[0], keep);
                break;
            }
            default: throw std::invalid_argument("unknown reduction " + std::to_string(op));
            }
        }
        *out = wrap(std::move(r));
    })
}

static std::vector<int64_t> all_or(const at::Tensor &t, const int64_t *d, int64_t nd) {
    if (d != nullptr) return std::vector<int64_t>(d, d + nd);
    std::vector<int64_t> all(static_cast<size_t>(t.dim()));
    for (int64_t i = 0; i < t.dim(); ++i) all[static_cast<size_t>(i)] = i;
    return all;
}

int32_t ct_var(ct_tensor t, const int64_t *d, int64_t nd, int32_t unbiased, int32_t keepdim, ct_tensor *out) {
    CT_RETURN(at::var(T(t), at::IntArrayRef(all_or(T(t), d, nd)), unbiased != 0, keepdim != 0))
}
int32_t ct_std(ct_tensor t, const int64_t *d, int64_t nd, int32_t unbiased, int32_t keepdim, ct_tensor *out) {
    CT_RETURN(at::std(T(t), at::IntArrayRef(all_or(T(t), d, nd)), unbiased != 0, keepdim != 0))
}
int32_t ct_norm(ct_tensor t, double p, const int64_t *d, int64_t nd, int32_t keepdim, ct_tensor *out) {
    CT_RETURN(at::norm(T(t), at::Scalar(p), at::IntArrayRef(all_or(T(t), d, nd)), keepdim != 0))
}
int32_t ct_max_dim(ct_tensor t, int64_t dim, int32_t keepdim, ct_tensor *values, ct_tensor *indices) {
    CT_GUARD({
        auto r = at::max(T(t), dim, keepdim != 0);
        *values = wrap(std::get<0>(r));
        *indices = wrap(std::get<1>(r));
    })
}
int32_t ct_min_dim(ct_tensor t, int64_t dim, int32_t keepdim, ct_tensor *values, ct_tensor *indices) {
    CT_GUARD({
        auto r = at::min(T(t), dim, keepdim != 0);
        *values = wrap(std::get<0>(r));
        *indices = wrap(std::get<1>(r));
    })
}
int32_t ct_argmax(ct_tensor t, int32_t has_dim, int64_t dim, int32_t keepdim, ct_tensor *out) {
    CT_RETURN(at::argmax(T(t), has_dim ? c10::optional<int64_t>(dim) : c10::nullopt, keepdim != 0))
}
int32_t ct_argmin(ct_tensor t, int32_t has_dim, int64_t dim, int32_t keepdim, ct_tensor *out) {
    CT_RETURN(at::argmin(T(t), has_dim ? c10::optional<int64_t>(dim) : c10::nullopt, keepdim != 0))
}
int32_t ct_topk(ct_tensor t, int64_t k, int64_t dim, int32_t largest, int32_t sorted, ct_tensor *values,
                ct_tensor *indices) {
    CT_GUARD({
        auto r = at::topk(T(t), k, dim, largest != 0, sorted != 0);
        *values = wrap(std::get<0>(r));
        *indices = wrap(std::get<1>(r));
    })
}
int32_t ct_sort(ct_tensor t, int64_t dim, int32_t descending, ct_tensor *values, ct_tensor *indices) {
    CT_GUARD({
        auto r = at::sort(T(t), dim, descending != 0);
        *values = wrap(std::get<0>(r));
        *indices = wrap(std::get<1>(r));
    })
}
int32_t ct_cumsum(ct_tensor t, int64_t dim, ct_tensor *out) { CT_RETURN(at::cumsum(T(t), dim)) }

int32_t ct_reshape(ct_tensor t, const int64_t *shape, int64_t n, ct_tensor *out) { CT_RETURN(T(t).reshape(dims(shape, n))) }
int32_t ct_view(ct_tensor t, const int64_t *shape, int64_t n, ct_tensor *out) { CT_RETURN(T(t).view(dims(shape, n))) }
int32_t ct_permute(ct_tensor t, const int64_t *d, int64_t n, ct_tensor *out) { CT_RETURN(T(t).permute(dims(d, n))) }
int32_t ct_transpose(ct_tensor t, int64_t d0, int64_t d1, ct_tensor *out) { CT_RETURN(T(t).transpose(d0, d1)) }
int32_t ct_flatten(ct_tensor t, int64_t start, int64_t end, ct_tensor *out) { CT_RETURN(T(t).flatten(start, end)) }
int32_t ct_squeeze(ct_tensor t, int32_t has_dim, int64_t dim, ct_tensor *out) {
    CT_RETURN(has_dim ? T(t).squeeze(dim) : T(t).squeeze())
}
int32_t ct_unsqueeze(ct_tensor t, int64_t dim, ct_tensor *out) { CT_RETURN(T(t).unsqueeze(dim)) }
int32_t ct_expand(ct_tensor t, const int64_t *shape, int64_t n, ct_tensor *out) { CT_RETURN(T(t).expand(dims(shape, n))) }
int32_t ct_repeat(ct_tensor t, const int64_t *r, int64_t n, ct_tensor *out) { CT_RETURN(T(t).repeat(dims(r, n))) }
int32_t ct_flip(ct_tensor t, const int64_t *d, int64_t n, ct_tensor *out) { CT_RETURN(at::flip(T(t), dims(d, n))) }
int32_t ct_roll(ct_tensor t, const int64_t *shifts, const int64_t *d, int64_t n, ct_tensor *out) {
    CT_RETURN(at::roll(T(t), dims(shifts, n), dims(d, n)))
}
int32_t ct_cat(const ct_tensor *ts, int64_t n, int64_t dim, ct_tensor *out) { CT_RETURN(at::cat(tensors(ts, n), dim)) }
int32_t ct_stack(const ct_tensor *ts, int64_t n, int64_t dim, ct_tensor *out) { CT_RETURN(at::stack(tensors(ts, n), dim)) }
int32_t ct_chunk(ct_tensor t, int64_t chunks, int64_t dim, ct_tensor *outs, int64_t capacity, int64_t *count) {
    CT_GUARD(write_pieces(T(t).chunk(chunks, dim), outs, capacity, count))
}
int32_t ct_split(ct_tensor t, const int64_t *sizes, int64_t n, int64_t dim, ct_tensor *outs) {
    CT_GUARD({
        int64_t count = 0;
        write_pieces(T(t).split_with_sizes(dims(sizes, n), dim), outs, n, &count);
    })
}
int32_t ct_narrow(ct_tensor t, int64_t dim, int64_t start, int64_t length, ct_tensor *out) {
    CT_RETURN(T(t).narrow(dim, start, length))
}
int32_t ct_slice(ct_tensor t, int64_t dim, int64_t start, int64_t end, int64_t step, ct_tensor *out) {
    CT_RETURN(T(t).slice(dim, start, end, step))
}
int32_t ct_select(ct_tensor t, int64_t dim, int64_t index, ct_tensor *out) { CT_RETURN(T(t).select(dim, index)) }
int32_t ct_index_select(ct_tensor t, int64_t dim, ct_tensor index, ct_tensor *out) {
    CT_RETURN(at::index_select(T(t), dim, T(index)))
}
int32_t ct_gather(ct_tensor t, int64_t dim, ct_tensor index, ct_tensor *out) { CT_RETURN(at::gather(T(t), dim, T(index))) }
int32_t ct_scatter_add(ct_tensor t, int64_t dim, ct_tensor index, ct_tensor src, ct_tensor *out) {
    CT_RETURN(at::scatter_add(T(t), dim, T(index), T(src)))
}
int32_t ct_masked_select(ct_tensor t, ct_tensor mask, ct_tensor *out) { CT_RETURN(at::masked_select(T(t), T(mask))) }
int32_t ct_diagonal(ct_tensor t, int64_t offset, int64_t d0, int64_t d1, ct_tensor *out) {
    CT_RETURN(at::diagonal(T(t), offset, d0, d1))
}
int32_t ct_diag_embed(ct_tensor t, ct_tensor *out) { CT_RETURN(at::diag_embed(T(t))) }
int32_t ct_tril(ct_tensor t, int64_t k, ct_tensor *out) { CT_RETURN(at::tril(T(t), k)) }
int32_t ct_triu(ct_tensor t, int64_t k, ct_tensor *out) { CT_RETURN(at::triu(T(t), k)) }

} // extern "C"

// Batch norm → ReLU → spatial pooling as one autograd node over an expansion u [N, D, H, W] that
// is held whole: the end of a CbE head whose convolution cannot be fused with it (a bf16
// expansion under autocast, where oneDNN's convolution is the fast part, or a k×k kernel).
// Composed, the three ops write the normalised tensor, its ReLU and, in backward, the pooling's
// and the ReLU's gradients, each as large as u, and read them back. Here each channel is one
// task: its N × H × W values are read once for the statistics and the pooled sums (the second
// read finds them in cache), and backward reads them once for S1 = Σ g and S2 = Σ g x̂ and once
// more, from cache, to write dL/du. Arithmetic is in float32 (float64 for float64 input); u and
// dL/du keep u's type, and the output does too, as the composed ops' output does under autocast.
//
// u in channels-last order (the backbone's memory format `model.memory_format: channels-last`,
// in which oneDNN's bf16 convolution runs 2–4× faster) is read as it lies, [N, H·W, D]: each
// image is one task, its rows vectors across channels. An image's values are read for its part
// of the statistics (twice, the second time from cache) and, once the whole batch's statistics
// are known, once more for its pooled sums; backward reads each image once for its part of S1
// and S2 and once for dL/du. The images' parts combine in image order, in double.
//
// With x̂ = (u − mean)·invstd, y = γ x̂ + β, r = ReLU(y), g = dL/dy over M = N·H·W values:
//   dβ = S1, dγ = S2, and with batch statistics dL/du = γ·invstd·(g − S1/M − x̂·S2/M);
//   with running statistics dL/du = γ·invstd·g.
#include "bridge.hpp"
#include "fused_pooling.hpp"
#include "pooling_lanes.hpp"
#include "vectors.hpp"
#include "parallel.hpp"
#include <c10/util/BFloat16.h>
#include <torch/csrc/autograd/custom_function.h>
#include <cmath>
#include <type_traits>

namespace {

using namespace ctorch::vectors;
using ctorch::Pooling;
using ctorch::gradient;
using ctorch::pooled;

// The type a channel's arithmetic runs in: float for float32 and bf16, double for float64.
template <typename T> using Math = std::conditional_t<std::is_same<T, double>::value, double, float>;

// A vector of Math<T> from memory of T, and back. bf16 is the high half of a float32, so
// widening is a shift; narrowing rounds to nearest even, as c10::BFloat16 does, NaN kept NaN.
template <typename T> [[gnu::always_inline]] inline Vec<Math<T>> widen(const T *p) {
    if constexpr (std::is_same<T, c10::BFloat16>::value) {
        typedef uint16_t Halves __attribute__((vector_size(32)));
        typedef uint32_t Words __attribute__((vector_size(64)));
        Halves h;
        std::memcpy(&h, p, sizeof h);
        return __builtin_bit_cast(Vec<float>, __builtin_convertvector(h, Words) << 16);
    } else {
        return load(p);
    }
}
template <typename T> [[gnu::always_inline]] inline void narrow(T *p, Vec<Math<T>> v) {
    if constexpr (std::is_same<T, c10::BFloat16>::value) {
        typedef uint16_t Halves __attribute__((vector_size(32)));
        typedef uint32_t Words __attribute__((vector_size(64)));
        Words w = __builtin_bit_cast(Words, v);
        Words rounded = (w + 0x7FFFu + ((w >> 16) & 1u)) >> 16;
        Words nan = v != v;
        Halves h = __builtin_convertvector(nan ? Words{} + 0x7FC0u : rounded, Halves);
        std::memcpy(p, &h, sizeof h);
    } else {
        store(p, v);
    }
}

template <typename T> struct Job {
    const T *u;  // [N, D, P], contiguous; or channels-last, [N, P, D] (`Rows`)
    int64_t images, channels, positions;
    Pooling pooling;
    bool batch_statistics;
    double eps;
    const Math<T> *gamma, *beta;  // [D]
    // With batch statistics the forward writes them (and the biased variance, for the running
    // statistics); otherwise they come from the running statistics. [D]
    Math<T> *mean, *invstd;
    double *variance;
    Math<T> *sums;           // forward: Σ_p pool(ReLU(y)), [N, D]
    const Math<T> *factor;   // backward: the pooling's factor, [N, D]
    T *du;                   // backward: dL/du [N, D, P], or null
    Math<T> *s1, *s2;        // backward: Σ g and Σ g x̂, [D]
};

// A channel's mean and biased variance: each image's row (in cache after its first read) gives
// its own mean and sum of squared deviations, and the rows combine in double (Chan et al.).
template <typename T> [[gnu::always_inline]] inline void channel_statistics(const Job<T> &job, int64_t d) {
    using M = Math<T>;
    constexpr int64_t L = Lanes<M>::width;
    const int64_t P = job.positions, whole = P / L * L;
    double mean = 0, squares = 0, count = 0;
    for (int64_t n = 0; n < job.images; ++n) {
        const T *row = job.u + (n * job.channels + d) * P;
        Vec<M> s{};
        M rest = 0;
        for (int64_t p = 0; p < whole; p += L) s += widen(row + p);
        for (int64_t p = whole; p < P; ++p) rest += static_cast<M>(row[p]);
        const M row_mean = (horizontal_sum<M>(s) + rest) / static_cast<M>(P);
        Vec<M> q{};
        rest = 0;
        for (int64_t p = 0; p < whole; p += L) {
            Vec<M> e = widen(row + p) - row_mean;
            q += e * e;
        }
        for (int64_t p = whole; p < P; ++p) {
            M e = static_cast<M>(row[p]) - row_mean;
            rest += e * e;
        }
        double delta = static_cast<double>(row_mean) - mean, total = count + static_cast<double>(P);
        mean += delta * static_cast<double>(P) / total;
        squares += static_cast<double>(horizontal_sum<M>(q) + rest) + delta * delta * count * static_cast<double>(P) / total;
        count = total;
    }
    job.mean[d] = static_cast<M>(mean);
    job.variance[d] = squares / count;
    job.invstd[d] = static_cast<M>(1 / std::sqrt(squares / count + job.eps));
}

// y = scale·u + shift, the same rounding in forward and backward, so that both see one mask.
template <typename M> struct Affine {
    M scale, shift;
};
template <typename T> [[gnu::always_inline]] inline Affine<Math<T>> affine(const Job<T> &job, int64_t d) {
    Math<T> scale = job.gamma[d] * job.invstd[d];
    return {scale, job.beta[d] - scale * job.mean[d]};
}

// Forward of channels [first, last): statistics, then each image's pooled sum (rows in cache).
template <typename T> [[gnu::always_inline]] inline void forward_channels(const Job<T> &job, int64_t first, int64_t last) {
    using M = Math<T>;
    constexpr int64_t L = Lanes<M>::width;
    const int64_t P = job.positions, whole = P / L * L;
    for (int64_t d = first; d < last; ++d) {
        if (job.batch_statistics) channel_statistics(job, d);
        const Affine<M> y = affine(job, d);
        const Vec<M> a = splat<M>(y.scale), b = splat<M>(y.shift);
        for (int64_t n = 0; n < job.images; ++n) {
            const T *row = job.u + (n * job.channels + d) * P;
            Vec<M> s{};
            M rest = 0;
            for (int64_t p = 0; p < whole; p += L) s += pooled<M>(widen(row + p) * a + b, job.pooling);
            for (int64_t p = whole; p < P; ++p) rest += pooled<M>(static_cast<M>(row[p]) * y.scale + y.shift, job.pooling);
            job.sums[n * job.channels + d] = horizontal_sum<M>(s) + rest;
        }
    }
}

// Backward of channels [first, last): S1 and S2 over a channel's values, then dL/du from them
// (the values in cache).
template <typename T> [[gnu::always_inline]] inline void backward_channels(const Job<T> &job, int64_t first, int64_t last) {
    using M = Math<T>;
    constexpr int64_t L = Lanes<M>::width;
    const int64_t P = job.positions, whole = P / L * L;
    for (int64_t d = first; d < last; ++d) {
        const M mean = job.mean[d], invstd = job.invstd[d];
        const Affine<M> y = affine(job, d);
        const Vec<M> a = splat<M>(y.scale), b = splat<M>(y.shift);
        double s1 = 0, s2 = 0;
        for (int64_t n = 0; n < job.images; ++n) {
            const T *row = job.u + (n * job.channels + d) * P;
            const M f = job.factor[n * job.channels + d];
            Vec<M> g1{}, g2{};
            M r1 = 0, r2 = 0;
            for (int64_t p = 0; p < whole; p += L) {
                Vec<M> u = widen(row + p);
                Vec<M> g = gradient<M>(u * a + b, splat<M>(f), job.pooling);
                g1 += g;
                g2 += g * ((u - mean) * invstd);
            }
            for (int64_t p = whole; p < P; ++p) {
                M u = static_cast<M>(row[p]);
                M g = gradient<M>(u * y.scale + y.shift, f, job.pooling);
                r1 += g;
                r2 += g * ((u - mean) * invstd);
            }
            s1 += static_cast<double>(horizontal_sum<M>(g1) + r1);
            s2 += static_cast<double>(horizontal_sum<M>(g2) + r2);
        }
        job.s1[d] = static_cast<M>(s1);
        job.s2[d] = static_cast<M>(s2);
        if (job.du == nullptr) continue;
        // dL/du = γ·invstd·(g − S1/M − x̂·S2/M); with running statistics only γ·invstd·g.
        const double count = static_cast<double>(job.images * P);
        const M k1 = job.batch_statistics ? static_cast<M>(s1 / count) : M(0);
        const M k2 = job.batch_statistics ? static_cast<M>(s2 / count) : M(0);
        for (int64_t n = 0; n < job.images; ++n) {
            const T *row = job.u + (n * job.channels + d) * P;
            T *out = job.du + (n * job.channels + d) * P;
            const M f = job.factor[n * job.channels + d];
            for (int64_t p = 0; p < whole; p += L) {
                Vec<M> u = widen(row + p);
                Vec<M> g = gradient<M>(u * a + b, splat<M>(f), job.pooling);
                narrow(out + p, (g - k1 - (u - mean) * invstd * k2) * y.scale);
            }
            for (int64_t p = whole; p < P; ++p) {
                M u = static_cast<M>(row[p]);
                M g = gradient<M>(u * y.scale + y.shift, f, job.pooling);
                out[p] = static_cast<T>((g - k1 - (u - mean) * invstd * k2) * y.scale);
            }
        }
    }
}

// Channels-last u [N, P, D]: an image's rows, vectors across channels. Lanes past D (when D is
// not a multiple of the vector width) are read by scalar loops instead.
template <typename T> struct Rows {
    const Job<T> &job;
    Math<T> *first, *second;  // per image and channel [N, D]: mean and M2, or S1 and S2

    // Row p of image n: its D channels.
    const T *at(int64_t n, int64_t p) const { return job.u + (n * job.positions + p) * job.channels; }
};

// Image n's mean and sum of squared deviations per channel, into first and second [n, ·].
template <typename T> [[gnu::always_inline]] inline void image_statistics(const Rows<T> &rows, int64_t n) {
    using M = Math<T>;
    constexpr int64_t L = Lanes<M>::width;
    const Job<T> &job = rows.job;
    const int64_t D = job.channels, whole = D / L * L, P = job.positions;
    M *mean = rows.first + n * D, *squares = rows.second + n * D;
    for (int64_t d = 0; d < D; ++d) mean[d] = squares[d] = 0;
    for (int64_t p = 0; p < P; ++p) {
        const T *row = rows.at(n, p);
        for (int64_t d = 0; d < whole; d += L) store(mean + d, load(mean + d) + widen(row + d));
        for (int64_t d = whole; d < D; ++d) mean[d] += static_cast<M>(row[d]);
    }
    for (int64_t d = 0; d < D; ++d) mean[d] /= static_cast<M>(P);
    for (int64_t p = 0; p < P; ++p) {
        const T *row = rows.at(n, p);
        for (int64_t d = 0; d < whole; d += L) {
            Vec<M> e = widen(row + d) - load(mean + d);
            store(squares + d, load(squares + d) + e * e);
        }
        for (int64_t d = whole; d < D; ++d) {
            M e = static_cast<M>(row[d]) - mean[d];
            squares[d] += e * e;
        }
    }
}

// Image n's pooled sums Σ_p pool(ReLU(scale·u + shift)), scale and shift per channel [D].
template <typename T>
[[gnu::always_inline]] inline void image_sums(const Rows<T> &rows, int64_t n, const Math<T> *scale, const Math<T> *shift) {
    using M = Math<T>;
    constexpr int64_t L = Lanes<M>::width;
    const Job<T> &job = rows.job;
    const int64_t D = job.channels, whole = D / L * L;
    M *sums = job.sums + n * D;
    for (int64_t d = 0; d < D; ++d) sums[d] = 0;
    for (int64_t p = 0; p < job.positions; ++p) {
        const T *row = rows.at(n, p);
        for (int64_t d = 0; d < whole; d += L) {
            store(sums + d, load(sums + d) + pooled<M>(widen(row + d) * load(scale + d) + load(shift + d), job.pooling));
        }
        for (int64_t d = whole; d < D; ++d) sums[d] += pooled<M>(static_cast<M>(row[d]) * scale[d] + shift[d], job.pooling);
    }
}

// Image n's S1 = Σ g and S2 = Σ g x̂ per channel, into first and second [n, ·].
template <typename T>
[[gnu::always_inline]] inline void image_gradient_sums(const Rows<T> &rows, int64_t n, const Math<T> *scale, const Math<T> *shift) {
    using M = Math<T>;
    constexpr int64_t L = Lanes<M>::width;
    const Job<T> &job = rows.job;
    const int64_t D = job.channels, whole = D / L * L;
    const M *factor = job.factor + n * D;
    M *s1 = rows.first + n * D, *s2 = rows.second + n * D;
    for (int64_t d = 0; d < D; ++d) s1[d] = s2[d] = 0;
    for (int64_t p = 0; p < job.positions; ++p) {
        const T *row = rows.at(n, p);
        for (int64_t d = 0; d < whole; d += L) {
            Vec<M> u = widen(row + d);
            Vec<M> g = gradient<M>(u * load(scale + d) + load(shift + d), load(factor + d), job.pooling);
            store(s1 + d, load(s1 + d) + g);
            store(s2 + d, load(s2 + d) + g * ((u - load(job.mean + d)) * load(job.invstd + d)));
        }
        for (int64_t d = whole; d < D; ++d) {
            M u = static_cast<M>(row[d]);
            M g = gradient<M>(u * scale[d] + shift[d], factor[d], job.pooling);
            s1[d] += g;
            s2[d] += g * ((u - job.mean[d]) * job.invstd[d]);
        }
    }
}

// Image n's dL/du = scale·(g − k1 − x̂·k2), k1 and k2 per channel [D] (0 with running statistics).
template <typename T>
[[gnu::always_inline]] inline void image_input_gradient(const Rows<T> &rows, int64_t n, const Math<T> *scale, const Math<T> *shift,
                                                        const Math<T> *k1, const Math<T> *k2) {
    using M = Math<T>;
    constexpr int64_t L = Lanes<M>::width;
    const Job<T> &job = rows.job;
    const int64_t D = job.channels, whole = D / L * L;
    const M *factor = job.factor + n * D;
    for (int64_t p = 0; p < job.positions; ++p) {
        const T *row = rows.at(n, p);
        T *out = job.du + (n * job.positions + p) * D;
        for (int64_t d = 0; d < whole; d += L) {
            Vec<M> u = widen(row + d), a = load(scale + d);
            Vec<M> g = gradient<M>(u * a + load(shift + d), load(factor + d), job.pooling);
            narrow(out + d, (g - load(k1 + d) - (u - load(job.mean + d)) * load(job.invstd + d) * load(k2 + d)) * a);
        }
        for (int64_t d = whole; d < D; ++d) {
            M u = static_cast<M>(row[d]);
            M g = gradient<M>(u * scale[d] + shift[d], factor[d], job.pooling);
            out[d] = static_cast<T>((g - k1[d] - (u - job.mean[d]) * job.invstd[d] * k2[d]) * scale[d]);
        }
    }
}

// The passes of the channels-last node, each over images [first, last). `per_channel` holds
// scale and shift, then k1 and k2, [D] each.
enum class RowsPass { statistics, sums, gradient_sums, input_gradient };

template <typename T>
[[gnu::always_inline]] inline void rows_pass(const Rows<T> &rows, RowsPass pass, const Math<T> *per_channel, int64_t first, int64_t last) {
    const int64_t D = rows.job.channels;
    const Math<T> *scale = per_channel, *shift = per_channel + D, *k1 = per_channel + 2 * D, *k2 = per_channel + 3 * D;
    for (int64_t n = first; n < last; ++n) {
        switch (pass) {
        case RowsPass::statistics: image_statistics(rows, n); break;
        case RowsPass::sums: image_sums(rows, n, scale, shift); break;
        case RowsPass::gradient_sums: image_gradient_sums(rows, n, scale, shift); break;
        case RowsPass::input_gradient: image_input_gradient(rows, n, scale, shift, k1, k2); break;
        }
    }
}

// One compiled copy per instruction set.
template <typename T> void forward_baseline(const Job<T> &j, int64_t a, int64_t b) { forward_channels(j, a, b); }
template <typename T> void backward_baseline(const Job<T> &j, int64_t a, int64_t b) { backward_channels(j, a, b); }
template <typename T> void rows_baseline(const Rows<T> &r, RowsPass s, const Math<T> *c, int64_t a, int64_t b) { rows_pass(r, s, c, a, b); }
#if defined(__x86_64__)
template <typename T> [[gnu::target("avx512f")]] void forward_avx512(const Job<T> &j, int64_t a, int64_t b) { forward_channels(j, a, b); }
template <typename T> [[gnu::target("avx512f")]] void backward_avx512(const Job<T> &j, int64_t a, int64_t b) { backward_channels(j, a, b); }
template <typename T> [[gnu::target("avx2,fma")]] void forward_avx2(const Job<T> &j, int64_t a, int64_t b) { forward_channels(j, a, b); }
template <typename T> [[gnu::target("avx2,fma")]] void backward_avx2(const Job<T> &j, int64_t a, int64_t b) { backward_channels(j, a, b); }
template <typename T> [[gnu::target("avx512f")]] void rows_avx512(const Rows<T> &r, RowsPass s, const Math<T> *c, int64_t a, int64_t b) {
    rows_pass(r, s, c, a, b);
}
template <typename T> [[gnu::target("avx2,fma")]] void rows_avx2(const Rows<T> &r, RowsPass s, const Math<T> *c, int64_t a, int64_t b) {
    rows_pass(r, s, c, a, b);
}
#endif

template <typename T> void run(const Job<T> &job, bool forward, int64_t first, int64_t last) {
#if defined(__x86_64__)
    switch (instruction_set()) {
    case InstructionSet::avx512: return forward ? forward_avx512(job, first, last) : backward_avx512(job, first, last);
    case InstructionSet::avx2: return forward ? forward_avx2(job, first, last) : backward_avx2(job, first, last);
    case InstructionSet::baseline: break;
    }
#endif
    forward ? forward_baseline(job, first, last) : backward_baseline(job, first, last);
}

// One pass of the channels-last node over every image, the images shared among the threads.
template <typename T> void run_rows(const Rows<T> &rows, RowsPass pass, const at::Tensor &per_channel) {
    const Math<T> *c = per_channel.defined() ? per_channel.data_ptr<Math<T>>() : nullptr;
    ctorch::parallel_for(0, rows.job.images, 1, [&](int64_t first, int64_t last) {
#if defined(__x86_64__)
        switch (instruction_set()) {
        case InstructionSet::avx512: return rows_avx512(rows, pass, c, first, last);
        case InstructionSet::avx2: return rows_avx2(rows, pass, c, first, last);
        case InstructionSet::baseline: break;
        }
#endif
        rows_baseline(rows, pass, c, first, last);
    });
}

// Whether the node reads u in channels-last order: u lies so, and not also as [N, D, H, W]
// (where H·W = 1 both orders are one, and the per-channel passes serve).
bool channels_last(const at::Tensor &u) {
    return !u.is_contiguous() && u.is_contiguous(at::MemoryFormat::ChannelsLast);
}

// Channels per task: enough values that a thread's share outweighs handing it out.
int64_t channel_grain(const at::Tensor &u) {
    return std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(1, u.size(0) * u.size(2)));
}

// The type the node's small tensors (statistics, factors, sums) are in.
at::ScalarType math_type(const at::Tensor &u) { return u.scalar_type() == at::kDouble ? at::kDouble : at::kFloat; }

// Per channel [D]: scale and shift from `affine` (so that the channels-last passes and the
// per-channel ones see one mask), then k1 and k2 where given; [4, D].
template <typename T> at::Tensor per_channel(const Job<T> &job, const at::Tensor &k1, const at::Tensor &k2) {
    using M = Math<T>;
    const int64_t D = job.channels;
    at::Tensor out = at::zeros({4, D}, at::TensorOptions().dtype(c10::CppTypeToScalarType<M>::value));
    M *c = out.data_ptr<M>();
    for (int64_t d = 0; d < D; ++d) {
        const Affine<M> y = affine(job, d);
        c[d] = y.scale;
        c[D + d] = y.shift;
        if (k1.defined()) {
            c[2 * D + d] = k1.data_ptr<M>()[d];
            c[3 * D + d] = k2.data_ptr<M>()[d];
        }
    }
    return out;
}

// The images' parts [N, D] combined per channel in image order, in double: the batch's mean and
// biased variance from each image's mean and M2 over `positions` values (Chan et al.).
template <typename M> void combine_statistics(const at::Tensor &means, const at::Tensor &squares, int64_t positions, double eps,
                                              at::Tensor &mean, at::Tensor &invstd, at::Tensor &variance) {
    int64_t N = means.size(0), D = means.size(1);
    const M *part_mean = means.data_ptr<M>(), *part_squares = squares.data_ptr<M>();
    M *out_mean = mean.data_ptr<M>(), *out_invstd = invstd.data_ptr<M>();
    double *out_variance = variance.data_ptr<double>();
    const double P = static_cast<double>(positions);
    for (int64_t d = 0; d < D; ++d) {
        double m = 0, q = 0, count = 0;
        for (int64_t n = 0; n < N; ++n) {
            double delta = static_cast<double>(part_mean[n * D + d]) - m, total = count + P;
            m += delta * P / total;
            q += static_cast<double>(part_squares[n * D + d]) + delta * delta * count * P / total;
            count = total;
        }
        out_mean[d] = static_cast<M>(m);
        out_variance[d] = q / count;
        out_invstd[d] = static_cast<M>(1 / std::sqrt(q / count + eps));
    }
}

// Σ over images of parts [N, D], per channel in image order, in double; into `out` [D].
template <typename M> void combine_sums(const at::Tensor &parts, at::Tensor &out) {
    int64_t N = parts.size(0), D = parts.size(1);
    const M *part = parts.data_ptr<M>();
    M *to = out.data_ptr<M>();
    for (int64_t d = 0; d < D; ++d) {
        double sum = 0;
        for (int64_t n = 0; n < N; ++n) sum += static_cast<double>(part[n * D + d]);
        to[d] = static_cast<M>(sum);
    }
}

struct BatchNormReLUPool : public torch::autograd::Function<BatchNormReLUPool> {
    static at::Tensor forward(torch::autograd::AutogradContext *ctx, const at::Tensor &input, const at::Tensor &weight,
                              const at::Tensor &bias, const c10::optional<at::Tensor> &running_mean,
                              const c10::optional<at::Tensor> &running_var, bool batch_statistics, double momentum, double eps,
                              int64_t pooling_code) {
        Pooling pooling = ctorch::pooling_kind(static_cast<int32_t>(pooling_code));
        TORCH_CHECK(input.dim() == 4 && input.device().is_cpu(), "batch_norm_relu_pool: expected a CPU input [N, D, H, W], got ",
                    input.sizes(), " on ", input.device());
        TORCH_CHECK(input.scalar_type() == at::kFloat || input.scalar_type() == at::kDouble || input.scalar_type() == at::kBFloat16,
                    "batch_norm_relu_pool: float32, float64 or bfloat16 only, got ", input.scalar_type());
        int64_t images = input.size(0), channels = input.size(1), positions = input.size(2) * input.size(3);
        TORCH_CHECK(weight.numel() == channels && bias.numel() == channels, "batch_norm_relu_pool: expected ", channels,
                    " weights and biases, got ", weight.numel(), " and ", bias.numel());
        bool rows = channels_last(input);
        at::Tensor u = rows ? input : input.contiguous().view({images, channels, positions});
        at::ScalarType math = math_type(input);
        at::Tensor gamma = weight.to(math).contiguous(), beta = bias.to(math).contiguous();
        at::Tensor mean, invstd, variance = at::empty({channels}, u.options().dtype(at::kDouble));
        if (batch_statistics) {
            TORCH_CHECK(images * positions > 1, "Expected more than 1 value per channel when training, got ", images * positions);
            mean = at::empty({channels}, u.options().dtype(math));
            invstd = at::empty({channels}, u.options().dtype(math));
        } else {
            TORCH_CHECK(running_mean && running_var, "batch_norm_relu_pool: without batch statistics it needs running statistics");
            mean = running_mean->to(math, false, true).contiguous();
            invstd = (running_var->to(at::kDouble) + eps).rsqrt().to(math).contiguous();
        }
        at::Tensor sums = at::empty({images, channels}, u.options().dtype(math));
        AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, u.scalar_type(), "batch_norm_relu_pool", [&] {
            using M = Math<scalar_t>;
            Job<scalar_t> job{u.data_ptr<scalar_t>(), images, channels, positions, pooling, batch_statistics, eps,
                              gamma.data_ptr<M>(), beta.data_ptr<M>(), mean.data_ptr<M>(), invstd.data_ptr<M>(),
                              variance.data_ptr<double>(), sums.data_ptr<M>(), nullptr, nullptr, nullptr, nullptr};
            if (!rows) {
                ctorch::parallel_for(0, channels, channel_grain(u), [&](int64_t first, int64_t last) { run(job, true, first, last); });
                return;
            }
            at::Tensor none;
            if (batch_statistics) {
                at::Tensor means = at::empty({images, channels}, gamma.options()), squares = at::empty_like(means);
                run_rows(Rows<scalar_t>{job, means.data_ptr<M>(), squares.data_ptr<M>()}, RowsPass::statistics, none);
                combine_statistics<M>(means, squares, positions, eps, mean, invstd, variance);
            }
            run_rows(Rows<scalar_t>{job, nullptr, nullptr}, RowsPass::sums, per_channel(job, none, none));
        });
        if (batch_statistics) {
            // As torch's batch norm: the running variance is unbiased.
            double count = static_cast<double>(images * positions);
            if (running_mean) running_mean->mul_(1 - momentum).add_(mean.to(running_mean->scalar_type()), momentum);
            if (running_var) running_var->mul_(1 - momentum).add_(variance.to(running_var->scalar_type()), momentum * count / (count - 1));
        }
        at::Tensor z = sums.div_(static_cast<double>(positions));
        if (pooling == Pooling::root_mean_square) z.sqrt_();
        ctx->save_for_backward({input, weight, bias, mean, invstd, z});
        ctx->saved_data["pooling"] = pooling_code;
        ctx->saved_data["batch_statistics"] = batch_statistics;
        return z.to(input.scalar_type());
    }

    static torch::autograd::tensor_list backward(torch::autograd::AutogradContext *ctx, torch::autograd::tensor_list grads) {
        TORCH_CHECK(!at::GradMode::is_enabled(), "batch_norm_relu_pool has no second derivative (create_graph)");
        auto saved = ctx->get_saved_variables();
        const at::Tensor &input = saved[0], &weight = saved[1], &bias = saved[2], &mean = saved[3], &invstd = saved[4], &z = saved[5];
        Pooling pooling = ctorch::pooling_kind(static_cast<int32_t>(ctx->saved_data["pooling"].toInt()));
        bool batch_statistics = ctx->saved_data["batch_statistics"].toBool();
        int64_t images = input.size(0), channels = input.size(1), positions = input.size(2) * input.size(3);
        bool rows = channels_last(input);
        at::Tensor u = rows ? input : input.contiguous().view({images, channels, positions});
        at::ScalarType math = math_type(input);
        at::Tensor gamma = weight.to(math).contiguous(), beta = bias.to(math).contiguous();
        double p = static_cast<double>(positions);
        at::Tensor dz = grads[0].to(math);
        at::Tensor factor = (pooling == Pooling::mean ? dz / p : pooling == Pooling::root_mean_square ? dz / (z * p) : dz / (2 * p))
                                .contiguous();
        at::Tensor s1 = at::empty({channels}, u.options().dtype(math)), s2 = at::empty_like(s1);
        at::Tensor du = ctx->needs_input_grad(0) ? at::empty_like(u) : at::Tensor();
        AT_DISPATCH_FLOATING_TYPES_AND(at::kBFloat16, u.scalar_type(), "batch_norm_relu_pool_backward", [&] {
            using M = Math<scalar_t>;
            Job<scalar_t> job{u.data_ptr<scalar_t>(), images, channels, positions, pooling, batch_statistics, 0,
                              gamma.data_ptr<M>(), beta.data_ptr<M>(), const_cast<M *>(mean.data_ptr<M>()),
                              const_cast<M *>(invstd.data_ptr<M>()), nullptr, nullptr, factor.data_ptr<M>(),
                              du.defined() ? du.data_ptr<scalar_t>() : nullptr, s1.data_ptr<M>(), s2.data_ptr<M>()};
            if (!rows) {
                ctorch::parallel_for(0, channels, channel_grain(u), [&](int64_t first, int64_t last) { run(job, false, first, last); });
                return;
            }
            at::Tensor parts1 = at::empty({images, channels}, gamma.options()), parts2 = at::empty_like(parts1), none;
            run_rows(Rows<scalar_t>{job, parts1.data_ptr<M>(), parts2.data_ptr<M>()}, RowsPass::gradient_sums,
                     per_channel(job, none, none));
            combine_sums<M>(parts1, s1);
            combine_sums<M>(parts2, s2);
            if (!du.defined()) return;
            // dL/du = γ·invstd·(g − S1/M − x̂·S2/M); with running statistics only γ·invstd·g.
            double count = static_cast<double>(images * positions);
            at::Tensor k1 = batch_statistics ? s1 / count : at::zeros_like(s1), k2 = batch_statistics ? s2 / count : at::zeros_like(s2);
            run_rows(Rows<scalar_t>{job, nullptr, nullptr}, RowsPass::input_gradient, per_channel(job, k1, k2));
        });
        at::Tensor none;
        return {du.defined() ? du.view(input.sizes()) : none, s2.to(weight.scalar_type()), s1.to(bias.scalar_type()), none, none,
                none, none, none, none};
    }
};

} // namespace

extern "C" {

int32_t ct_bn_relu_pool(ct_tensor u, ct_tensor bn_weight, ct_tensor bn_bias, ct_tensor running_mean, ct_tensor running_var,
                        int32_t batch_statistics, double momentum, double eps, int32_t pooling, ct_tensor *out) {
    auto given = [](ct_tensor h) { return h ? c10::optional<at::Tensor>(h->t) : c10::nullopt; };
    CT_RETURN(BatchNormReLUPool::apply(T(u), T(bn_weight), T(bn_bias), given(running_mean), given(running_var),
                                       batch_statistics != 0, momentum, eps, static_cast<int64_t>(pooling)))
}

} // extern "C"

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
    const T *u;  // [N, D, P], contiguous
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

// One compiled copy per instruction set.
template <typename T> void forward_baseline(const Job<T> &j, int64_t a, int64_t b) { forward_channels(j, a, b); }
template <typename T> void backward_baseline(const Job<T> &j, int64_t a, int64_t b) { backward_channels(j, a, b); }
#if defined(__x86_64__)
template <typename T> [[gnu::target("avx512f")]] void forward_avx512(const Job<T> &j, int64_t a, int64_t b) { forward_channels(j, a, b); }
template <typename T> [[gnu::target("avx512f")]] void backward_avx512(const Job<T> &j, int64_t a, int64_t b) { backward_channels(j, a, b); }
template <typename T> [[gnu::target("avx2,fma")]] void forward_avx2(const Job<T> &j, int64_t a, int64_t b) { forward_channels(j, a, b); }
template <typename T> [[gnu::target("avx2,fma")]] void backward_avx2(const Job<T> &j, int64_t a, int64_t b) { backward_channels(j, a, b); }
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

// Channels per task: enough values that a thread's share outweighs handing it out.
int64_t channel_grain(const at::Tensor &u) {
    return std::max<int64_t>(1, (int64_t{1} << 16) / std::max<int64_t>(1, u.size(0) * u.size(2)));
}

// The type the node's small tensors (statistics, factors, sums) are in.
at::ScalarType math_type(const at::Tensor &u) { return u.scalar_type() == at::kDouble ? at::kDouble : at::kFloat; }

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
        at::Tensor u = input.contiguous().view({images, channels, positions});
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
            ctorch::parallel_for(0, channels, channel_grain(u), [&](int64_t first, int64_t last) { run(job, true, first, last); });
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
        at::Tensor u = input.contiguous().view({images, channels, positions});
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
            ctorch::parallel_for(0, channels, channel_grain(u), [&](int64_t first, int64_t last) { run(job, false, first, last); });
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

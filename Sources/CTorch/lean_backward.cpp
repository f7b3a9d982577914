// Nodes whose backward keeps less than torch's own, with the same values and gradients. What a
// node saves for its backward lives until the backward reaches it, so a tensor that only the
// node holds is memory for nothing when the node needs less of it.
//
// The ReLU, in place, needs only where its input passed: torch's ReLU keeps its output, so a
// residual unit's output stays alive through the backward even when nothing else needs it.
// That is the case of a training block's output under noise injection (the head and the next
// block read the noised copy), and of the ImageNet stem's ReLU, whose output only the max-pool
// reads. This node keeps the derivative instead, as bits (16 values to a word, in memory
// order), for contiguous and channels-last CPU tensors of float32, float64 and bfloat16; other
// tensors take torch's own ReLU (a bool mask would cost a bf16 tensor half its size). Its
// gradient equals torch's threshold_backward(g, y, 0) exactly: g where the output y is not ≤ 0
// (NaN passes, as through torch's ReLU), else 0.
//
// The max-pool needs only where each window's maximum was: torch's keeps its input as well,
// and its indices in int64. This node, for CPU tensors, keeps the indices alone, in int32 when
// a plane's positions fit, and its backward scatters the gradient to them in the order torch's
// does.
//
// The Barlow Twins loss of a cross-correlation matrix C [D, D], scale · [Σ_i (C_ii − t)² +
// λ Σ_{i≠j} C_ij²], needs only C: composed, its squares and their gradients are D × D
// temporaries alive together in the backward (four of them, 1 GiB at the paper's D = 8192).
// This node's backward forms dL/dC = 2 · scale · g · (λ C + diag((1 − λ) C_ii − t)) as one.
#include "bridge.hpp"
#include "vectors.hpp"
#include "parallel.hpp"
#include <torch/csrc/autograd/custom_function.h>
#include <c10/util/accumulate.h>
#include <limits>

namespace {

using namespace ctorch::vectors;

// Words [first, last) of x's n values: ReLU in place and the bits of the values that pass.
// One copy, for the x86-64 baseline: unlike the heads' kernels these passes are bound by memory,
// and copies for AVX2 and AVX-512 measured no faster (16.8 M floats, 2 threads: backward 5.7 ms
// baseline, 6.5 AVX2, 6.7 AVX-512; forward 3.1, 2.8, 3.2).
template <typename T> void forward_words(T *x, uint16_t *bits, int64_t n, int64_t first, int64_t last) {
    constexpr int64_t L = Lanes<T>::width;
    const int64_t whole = n / 16;
    for (int64_t w = first; w < std::min(last, whole); ++w) {
        uint32_t word = 0;
        CT_UNROLL
        for (int v = 0; v < 16 / L; ++v) {
            T *p = x + w * 16 + v * L;
            Vec<T> value = load(p);
            auto on = (value <= Vec<T>{}) == 0;
            store(p, on ? value : Vec<T>{});
            word |= bits_of<T>(on) << (v * L);
        }
        bits[w] = static_cast<uint16_t>(word);
    }
    if (last > whole && whole * 16 < n) {
        uint32_t word = 0;
        for (int64_t p = whole * 16; p < n; ++p) {
            if (x[p] <= 0) {
                x[p] = 0;
            } else {
                word |= uint32_t{1} << (p - whole * 16);
            }
        }
        bits[whole] = static_cast<uint16_t>(word);
    }
}

// Words [first, last): dx = g where the bit is set, else 0.
template <typename T>
void backward_words(const T *g, const uint16_t *bits, T *dx, int64_t n, int64_t first, int64_t last) {
    constexpr int64_t L = Lanes<T>::width;
    const int64_t whole = n / 16;
    for (int64_t w = first; w < std::min(last, whole); ++w) {
        CT_UNROLL
        for (int v = 0; v < 16 / L; ++v) {
            int64_t p = w * 16 + v * L;
            store(dx + p, where_bits<T>(static_cast<uint32_t>(bits[w]) >> (v * L), load(g + p)));
        }
    }
    if (last > whole) {
        for (int64_t p = whole * 16; p < n; ++p) dx[p] = (bits[whole] >> (p - whole * 16)) & 1 ? g[p] : T(0);
    }
}

// bfloat16, by its bits: a value passes unless it is ≤ 0, as for float, so ±0 and negatives do
// not and NaN (a magnitude above +∞'s, 0x7F80) does. As 16-bit integers: a positive value is
// > 0, and NaN's magnitude > 0x7F80. Whole words go 16 values to a vector of 16-bit lanes (the
// scalar loops took 5% of the bench config's bf16 step); the last partial word goes value by value.
typedef int16_t Halves __attribute__((vector_size(32)));
typedef bool HalvesMask __attribute__((ext_vector_type(16)));

[[gnu::always_inline]] inline bool passes(uint16_t v) {
    uint16_t magnitude = v & 0x7FFF;
    return magnitude > 0x7F80 || (!(v & 0x8000) && magnitude != 0);
}

[[gnu::always_inline]] inline Halves passing(Halves v) { return (v > 0) | ((v & 0x7FFF) > 0x7F80); }

void forward_bf16(uint16_t *x, uint16_t *bits, int64_t n, int64_t first, int64_t last) {
    const int64_t whole = n / 16;
    for (int64_t w = first; w < std::min(last, whole); ++w) {
        Halves v;
        std::memcpy(&v, x + w * 16, sizeof v);
        Halves on = passing(v);
        v &= on;
        std::memcpy(x + w * 16, &v, sizeof v);
        bits[w] = __builtin_bit_cast(uint16_t, __builtin_convertvector(on, HalvesMask));
    }
    for (int64_t w = std::max(first, whole); w < last; ++w) {
        uint32_t word = 0;
        for (int64_t k = 0, end = std::min<int64_t>(16, n - w * 16); k < end; ++k) {
            uint16_t &v = x[w * 16 + k];
            bool on = passes(v);
            word |= uint32_t{on} << k;
            v = on ? v : 0;
        }
        bits[w] = static_cast<uint16_t>(word);
    }
}

void backward_bf16(const uint16_t *g, const uint16_t *bits, uint16_t *dx, int64_t n, int64_t first, int64_t last) {
    const int64_t whole = n / 16;
    for (int64_t w = first; w < std::min(last, whole); ++w) {
        Halves v;
        std::memcpy(&v, g + w * 16, sizeof v);
        v &= __builtin_convertvector(__builtin_bit_cast(HalvesMask, bits[w]), Halves) != 0;
        std::memcpy(dx + w * 16, &v, sizeof v);
    }
    for (int64_t w = std::max(first, whole); w < last; ++w) {
        for (int64_t k = 0, end = std::min<int64_t>(16, n - w * 16); k < end; ++k) {
            dx[w * 16 + k] = (bits[w] >> k) & 1 ? g[w * 16 + k] : 0;
        }
    }
}

// Words per task: enough values that a thread's share outweighs handing it out.
constexpr int64_t kGrain = 4096;

// The order x's values lie in, of those the node packs: contiguous or channels-last.
at::MemoryFormat layout(const at::Tensor &x) {
    return x.is_contiguous() ? at::MemoryFormat::Contiguous : at::MemoryFormat::ChannelsLast;
}

// Whether the node packs x's bits: a CPU tensor of float32, float64 or bfloat16, contiguous or
// channels-last (bit k is the k-th value in memory either way). Other tensors (on a GPU, for
// one) take torch's own ReLU.
bool packs_bits(const at::Tensor &x) {
    at::ScalarType type = x.scalar_type();
    return x.device().is_cpu() && (x.is_contiguous() || x.is_contiguous(at::MemoryFormat::ChannelsLast)) &&
           (type == at::kFloat || type == at::kDouble || type == at::kBFloat16);
}

struct ReLUKeepingMask : public torch::autograd::Function<ReLUKeepingMask> {
    static at::Tensor forward(torch::autograd::AutogradContext *ctx, at::Tensor x) {
        TORCH_CHECK(packs_bits(x), "relu_keeping_mask: expected a contiguous or channels-last float CPU tensor, got ",
                    x.scalar_type(), " on ", x.device());
        int64_t n = x.numel(), words = (n + 15) / 16;
        at::Tensor mask = at::empty({words}, x.options().dtype(at::kShort));
        auto *bits = reinterpret_cast<uint16_t *>(mask.data_ptr<int16_t>());
        if (x.scalar_type() == at::kBFloat16) {
            auto *data = static_cast<uint16_t *>(x.data_ptr());
            ctorch::parallel_for(0, words, kGrain, [&](int64_t first, int64_t last) { forward_bf16(data, bits, n, first, last); });
        } else {
            AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "relu_keeping_mask", [&] {
                scalar_t *data = x.data_ptr<scalar_t>();
                ctorch::parallel_for(0, words, kGrain, [&](int64_t first, int64_t last) { forward_words(data, bits, n, first, last); });
            });
        }
        // Written through its data, as dirty: Function::apply moves x's version, so that a node
        // that saved x before fails its check instead of using the new values.
        ctx->mark_dirty({x});
        ctx->save_for_backward({mask});
        ctx->saved_data["channels_last"] = layout(x) == at::MemoryFormat::ChannelsLast;
        return x;
    }

    static torch::autograd::tensor_list backward(torch::autograd::AutogradContext *ctx, torch::autograd::tensor_list grads) {
        TORCH_CHECK(!at::GradMode::is_enabled(), "relu_keeping_mask has no second derivative (create_graph)");
        const at::Tensor mask = ctx->get_saved_variables()[0];
        // g in x's order, so that its k-th value in memory is the k-th bit's; dx in the same order.
        bool channels_last = ctx->saved_data["channels_last"].toBool();
        at::Tensor g = grads[0].contiguous(channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous);
        at::Tensor dx = at::empty_like(g, g.options(), channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous);
        int64_t n = g.numel(), words = mask.numel();
        const auto *bits = reinterpret_cast<const uint16_t *>(mask.data_ptr<int16_t>());
        if (g.scalar_type() == at::kBFloat16) {
            const auto *from = static_cast<const uint16_t *>(g.data_ptr());
            auto *to = static_cast<uint16_t *>(dx.data_ptr());
            ctorch::parallel_for(0, words, kGrain, [&](int64_t first, int64_t last) { backward_bf16(from, bits, to, n, first, last); });
        } else {
            AT_DISPATCH_FLOATING_TYPES(g.scalar_type(), "relu_keeping_mask_backward", [&] {
                const scalar_t *from = g.data_ptr<scalar_t>();
                scalar_t *to = dx.data_ptr<scalar_t>();
                ctorch::parallel_for(0, words, kGrain, [&](int64_t first, int64_t last) { backward_words(from, bits, to, n, first, last); });
            });
        }
        return {dx};
    }
};

struct MaxPoolKeepingIndices : public torch::autograd::Function<MaxPoolKeepingIndices> {
    static at::Tensor forward(torch::autograd::AutogradContext *ctx, const at::Tensor &x, std::vector<int64_t> kernel,
                              std::vector<int64_t> stride, std::vector<int64_t> padding, std::vector<int64_t> dilation,
                              bool ceil_mode) {
        auto pooled = at::max_pool2d_with_indices(x, kernel, stride, padding, dilation, ceil_mode);
        const at::Tensor &indices = std::get<1>(pooled);
        bool narrow = x.size(-1) * x.size(-2) <= std::numeric_limits<int32_t>::max();
        ctx->save_for_backward({narrow ? indices.to(at::kInt) : indices});
        ctx->saved_data["sizes"] = x.sizes().vec();
        return std::get<0>(pooled);
    }

    static torch::autograd::tensor_list backward(torch::autograd::AutogradContext *ctx, torch::autograd::tensor_list grads) {
        TORCH_CHECK(!at::GradMode::is_enabled(), "max_pool2d keeping indices has no second derivative (create_graph)");
        std::vector<int64_t> sizes = ctx->saved_data["sizes"].toIntVector();
        at::Tensor indices = ctx->get_saved_variables()[0].to(at::kLong);
        int64_t plane = sizes[sizes.size() - 1] * sizes[sizes.size() - 2];
        int64_t planes = c10::multiply_integers(sizes) / std::max<int64_t>(1, plane);
        int64_t outputs = indices.size(-1) * indices.size(-2);
        // Each plane's gradient in the order of its output positions, as torch's CPU
        // max_pool2d_with_indices_backward adds them where windows overlap (equal bit for bit).
        at::Tensor dx = at::zeros({planes, plane}, grads[0].options());
        dx.scatter_add_(1, indices.reshape({planes, outputs}), grads[0].reshape({planes, outputs}));
        at::Tensor none;
        return {dx.view(sizes), none, none, none, none, none};
    }
};

struct BarlowTwinsLoss : public torch::autograd::Function<BarlowTwinsLoss> {
    static at::Tensor forward(torch::autograd::AutogradContext *ctx, const at::Tensor &c, double lambda, double target,
                              double scale) {
        TORCH_CHECK(c.dim() == 2 && c.size(0) == c.size(1), "barlow_twins_loss: expected a square matrix, got ", c.sizes());
        at::Tensor diagonal = c.diagonal();
        at::Tensor flat = c.reshape({-1});
        at::Tensor invariance = (diagonal - target).square().sum();
        at::Tensor redundancy = at::dot(flat, flat) - diagonal.square().sum();
        ctx->save_for_backward({c});
        ctx->saved_data["lambda"] = lambda;
        ctx->saved_data["target"] = target;
        ctx->saved_data["scale"] = scale;
        return (invariance + redundancy * lambda) * scale;
    }

    static torch::autograd::tensor_list backward(torch::autograd::AutogradContext *ctx, torch::autograd::tensor_list grads) {
        TORCH_CHECK(!at::GradMode::is_enabled(), "barlow_twins_loss has no second derivative (create_graph)");
        const at::Tensor c = ctx->get_saved_variables()[0];
        double lambda = ctx->saved_data["lambda"].toDouble(), target = ctx->saved_data["target"].toDouble();
        // A 0-d tensor, so that the gradient never waits for the device.
        at::Tensor factor = grads[0] * (2 * ctx->saved_data["scale"].toDouble());
        at::Tensor dc = c * (factor * lambda);
        at::Tensor diagonal = c.diagonal();
        dc.diagonal().add_((diagonal * (1 - lambda) - target) * factor);
        at::Tensor none;
        return {dc, none, none, none};
    }
};

} // namespace

extern "C" {

int32_t ct_relu_keeping_mask_(ct_tensor x) {
    CT_GUARD({
        const at::Tensor &t = T(x);
        // Without a graph to record there is nothing to keep, and a tensor the node does not pack
        // keeps its output as torch's own ReLU does. The node returns x itself, with its history
        // rebased, so the handle needs no new tensor.
        if (at::GradMode::is_enabled() && t.requires_grad() && packs_bits(t)) {
            ReLUKeepingMask::apply(t);
        } else {
            t.relu_();
        }
    })
}

int32_t ct_max_pool2d(ct_tensor x, const int64_t *kernel, const int64_t *stride, const int64_t *padding,
                      const int64_t *dilation, int32_t ceil_mode, ct_tensor *out) {
    CT_GUARD({
        const at::Tensor &t = T(x);
        auto list = [](const int64_t *values) { return std::vector<int64_t>(values, values + 2); };
        // On the CPU only: a GPU's scatter adds with atomics, in no fixed order, where torch's
        // own max-pool backward there is deterministic.
        if (at::GradMode::is_enabled() && t.requires_grad() && t.device().is_cpu() && (t.dim() == 3 || t.dim() == 4)) {
            *out = ctorch::wrap(MaxPoolKeepingIndices::apply(t, list(kernel), list(stride), list(padding), list(dilation), ceil_mode != 0));
        } else {
            *out = ctorch::wrap(at::max_pool2d(t, dims(kernel, 2), dims(stride, 2), dims(padding, 2), dims(dilation, 2), ceil_mode != 0));
        }
    })
}

int32_t ct_barlow_twins_loss(ct_tensor c, double lambda, double target, double scale, ct_tensor *out) {
    CT_RETURN(BarlowTwinsLoss::apply(T(c), lambda, target, scale))
}

} // extern "C"

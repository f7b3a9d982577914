// Convolution 1×1 → batch norm → ReLU → spatial pooling as one autograd node that never holds
// the expanded tensor [N, D, H, W] whole: the expansion dominates the memory and the time of a
// conv-expansion pooling head, and every pass over it is memory-bound.
//
// The convolution is linear, so batch norm's statistics of u = W x follow from the input's:
// mean_d = w_d·μ and var_d = w_d Σ w_dᵀ, with μ and Σ (C × C) the channel mean and biased
// covariance of x over batch and space. Normalisation then folds into the convolution:
// BN(W x) = W' x + b' with W' = diag(a) W, a = γ / √(var + eps), b' = β − a·mean. What is left,
// ReLU and the spatial reduction, runs over tiles of the expansion, each one GEMM small enough
// to stay in cache until the reduction reads it. Backward recomputes the tiles; on the CPU with
// mean pooling, whose dL/dy is the ReLU's mask times a factor per channel and image, the
// forward keeps the mask instead (a bit per expanded value, 1/32 of the expansion in float32),
// which saves the backward one of its three GEMMs per tile. On the CPU,
// for inputs of few channels, kernels that keep the expansion and g in registers
// (fused_pooling_kernels.cpp) replace the tiles' GEMMs and passes, forward and backward; with
// mean pooling they keep the mask too, and their backward skips the recomputation of y.
//
// Backward, with g = dL/dy over the expansion (from the pooling) and M = N·H·W:
//   S1 = Σ g,  G = Σ g xᵀ (D × C),  S2 = Σ g (u − mean) = rowsum(G ∘ W) − mean·S1,
//   dβ = S1,  dγ = S2 / √(var + eps),
//   and with batch statistics (which depend on x and W), c = a · S2 / ((var + eps) M):
//   dW = diag(a) G − (a S1) μᵀ − M diag(c) W Σ,
//   dx = W'ᵀ g − A (x − μ) − Wᵀ (a S1 / M),  A = Wᵀ diag(c) W (C × C);
//   with running statistics only the first term of each remains.
// The terms that need the whole batch (S1, G) come out of the same pass over the tiles that
// writes W'ᵀ g, and the remaining terms are cheap passes over x: one pass of GEMMs in all.
//
// Where tiles span images, x is laid out channel-major, [C, N·P], so that every tile is one GEMM
// with the folded weight packed once: per-image batched products of the same size ran at half
// the rate (OpenBLAS). The CPU kernels read x as it lies.
//
// Batch statistics synchronised over data-parallel processes come in as inputs: the caller
// gives μ and Σ over every process's batch (and their count), computed by differentiable
// all-reduces. The node then returns their gradients instead of following them into x:
//   dμ = −Wᵀ (a S1),  dΣ = −½ Wᵀ diag(a S2 / (var + eps)) W,
// with S1 and S2 this process's sums; dW keeps its statistics terms, and the caller's
// all-reduces carry dμ and dΣ back to every process's x.
#include "bridge.hpp"
#include "fused_pooling.hpp"
#include "gemm.hpp"
#include <torch/csrc/autograd/custom_function.h>

namespace {

using ctorch::Pooling;
using ctorch::pooling_kind;

// A tile of the expansion: `images` images from `image`, positions [position, position + positions).
struct Tile {
    int64_t image, images, position, positions;
};

// Whole images while an image's expansion fits in the budget, else spans of one image's
// positions: either way a tile's columns of the channel-major x are one strided matrix.
std::vector<Tile> tiles(int64_t images, int64_t positions, int64_t channels, int64_t budget) {
    std::vector<Tile> result;
    if (channels * positions <= budget) {
        int64_t step = std::max<int64_t>(1, budget / (channels * positions));
        for (int64_t n = 0; n < images; n += step) result.push_back({n, std::min(step, images - n), 0, positions});
    } else {
        int64_t step = std::max<int64_t>(1, budget / channels);
        for (int64_t n = 0; n < images; ++n) {
            for (int64_t p = 0; p < positions; p += step) result.push_back({n, 1, p, std::min(step, positions - p)});
        }
    }
    return result;
}

// Elements of the expansion per tile when the caller leaves it to the bridge. On a CPU, a tile
// that the cores' caches hold between the GEMM that writes it and the passes that read it:
// on 2 cores with 1 MiB of L2 each, tiles of 2^16 to 2^20 elements ran the bench's heads
// within about 10% of each other, 2^18 (1 MiB of float32) among the fastest. On a GPU (not
// measured), tiles large enough that kernel launches cost little, small against the expansion
// of a large batch.
int64_t default_budget(const at::Tensor &x) { return x.is_cuda() ? (int64_t{1} << 24) : (int64_t{1} << 18); }

// y = W' x + b' over one tile: [D, images, positions].
at::Tensor expansion(const at::Tensor &x_columns, const at::Tensor &w, const at::Tensor &b, const Tile &t) {
    return at::addmm(b.unsqueeze(1), w, x_columns).view({w.size(0), t.images, t.positions});
}

// What the pooling sums over positions, from y (overwritten).
at::Tensor pooled_sum(at::Tensor y, Pooling pooling) {
    y.relu_();
    switch (pooling) {
    case Pooling::mean: break;
    case Pooling::root_mean_square: y.square_(); break;
    case Pooling::mean_square_root: y.add_(ctorch::square_root_epsilon).sqrt_(); break;
    }
    return y.sum(2);
}

// dL/dy over one tile from y and the pooling's per-(image, channel) factor.
at::Tensor pooling_gradient(at::Tensor y, const at::Tensor &factor, Pooling pooling) {
    at::Tensor f = factor.unsqueeze(2);
    switch (pooling) {
    case Pooling::mean: return at::threshold_backward(f.expand_as(y), y, 0);
    // Selected by the ReLU's mask rather than multiplied by it, as the composed ops' ReLU
    // does: an all-zero channel has an infinite √ derivative (z = 0), and 0·∞ would be NaN.
    case Pooling::root_mean_square: return at::threshold_backward(at::relu(y).mul_(f), y, 0);
    case Pooling::mean_square_root: {
        at::Tensor d = at::relu(y).add_(ctorch::square_root_epsilon).rsqrt_().mul_(f);
        return at::threshold_backward(d, y, 0);
    }
    }
    throw std::logic_error("unreachable pooling");
}

// Words of the ReLU's mask of one tile: ctorch::mask_words per image and channel.
int64_t mask_words(const Tile &t, int64_t expanded) { return expanded * t.images * ctorch::mask_words(t.positions); }

// Words of the ReLU's mask over every tile.
int64_t mask_words(const std::vector<Tile> &all, int64_t expanded) {
    int64_t words = 0;
    for (const Tile &t : all) words += mask_words(t, expanded);
    return words;
}

// One buffer that every tile's [D, images·positions] fits in, reused tile after tile.
at::Tensor tile_buffer(const std::vector<Tile> &all, int64_t expanded, const at::TensorOptions &options) {
    int64_t most = 0;
    for (const Tile &t : all) most = std::max(most, t.images * t.positions);
    return at::empty({expanded * most}, options);
}

// The input as the tiles read it. Where every tile lies within one image, the input's own
// [N, C, P] serves: a tile's columns are one image's [C, positions], a strided matrix; the CPU
// kernels read it too. Where tiles span images (small feature maps), a channel-major [C, N, P]
// copy makes each tile one matrix. The copy, and dx's transposition back in backward, are each as
// large as the input: for ResNet-50's first CbE head, most of what its backward holds beside the
// block's activations, at the step's peak.
struct Layout {
    at::Tensor x;  // [C, N, P] channel-major, or [N, C, P]
    bool channel_major;

    Layout(const at::Tensor &input, bool channel_major) : channel_major(channel_major) {
        at::Tensor images = input.reshape({input.size(0), input.size(1), -1});
        x = channel_major ? images.transpose(0, 1).contiguous() : images.contiguous();
    }
    int64_t channels() const { return x.size(channel_major ? 0 : 1); }

    // A tile's columns of x, or of a tensor laid out as x: [C, images·positions].
    at::Tensor columns(const at::Tensor &t3, const Tile &t) const {
        if (!channel_major) return t3.select(0, t.image).narrow(1, t.position, t.positions);
        return t3.narrow(1, t.image, t.images).narrow(2, t.position, t.positions).view({t3.size(0), t.images * t.positions});
    }
    at::Tensor columns(const Tile &t) const { return columns(x, t); }

    // The channel mean μ and biased covariance Σ. Centred before the products: E[xxᵀ] − μμᵀ
    // would cancel digits in float32.
    std::pair<at::Tensor, at::Tensor> moments() const {
        int64_t C = channels(), count = x.numel() / C;
        TORCH_CHECK(count > 1, "Expected more than 1 value per channel when training, got ", count);
        if (channel_major) {
            at::Tensor flat = x.view({C, -1});
            at::Tensor mu = flat.mean(1);
            at::Tensor centred = flat - mu.unsqueeze(1);
            return {mu, at::mm(centred, centred.t()).div_(static_cast<double>(count))};
        }
        at::Tensor mu = x.mean(at::IntArrayRef{0, 2});
        at::Tensor covariance = at::zeros({C, C}, x.options());
        for (int64_t n = 0; n < x.size(0); ++n) {
            at::Tensor centred = x[n] - mu.unsqueeze(1);
            covariance.addmm_(centred, centred.t());
        }
        return {mu, covariance.div_(static_cast<double>(count))};
    }

    // dx −= A x + shift (per channel): the batch statistics' part of the input gradient.
    void subtract(at::Tensor &dx, const at::Tensor &a, const at::Tensor &shift) const {
        int64_t C = channels();
        if (channel_major) {
            dx.view({C, -1}).addmm_(a, x.view({C, -1}), 1, -1).sub_(shift.unsqueeze(1));
            return;
        }
        for (int64_t n = 0; n < x.size(0); ++n) dx[n].addmm_(a, x[n], 1, -1);
        dx.sub_(shift.view({1, C, 1}));
    }

    // dx (laid out as x) as the input's gradient [N, C, H, W].
    at::Tensor input_gradient(const at::Tensor &dx, at::IntArrayRef sizes) const {
        return channel_major ? dx.transpose(0, 1).contiguous().view(sizes) : dx.view(sizes);
    }
};

// Whether the tiles need the channel-major copy: where a tile spans images (the CPU kernels take
// whole images in any case).
bool needs_channel_major(bool kernels, const std::vector<Tile> &all) {
    return !kernels && std::any_of(all.begin(), all.end(), [](const Tile &t) { return t.images > 1; });
}

// Whether the CPU kernels take this input.
bool kernels_take(const at::Tensor &input, bool cpu_kernels) { return cpu_kernels && ctorch::cpu_kernels_apply(input); }

struct ConvBatchNormReLUPool : public torch::autograd::Function<ConvBatchNormReLUPool> {
    // The statistics as input-side quantities: mean and 1/√(var + eps) per output channel and,
    // with batch statistics, the input's channel mean μ and W Σ.
    struct Statistics {
        at::Tensor mean, invstd, input_mean, weight_covariance;
    };

    // The output channels' statistics from the input's mean μ and biased covariance Σ over
    // `count` values per channel; the running statistics move as torch's batch norm moves them.
    static Statistics statistics(const at::Tensor &mu, const at::Tensor &covariance, const at::Tensor &w,
                                 const c10::optional<at::Tensor> &running_mean, const c10::optional<at::Tensor> &running_var,
                                 double count, double momentum, double eps) {
        TORCH_CHECK(count > 1, "Expected more than 1 value per channel when training, got ", count);
        at::Tensor weight_covariance = at::mm(w, covariance);
        at::Tensor mean = at::mv(w, mu);
        at::Tensor variance = (weight_covariance * w).sum(1).clamp_min_(0);
        // As torch's batch norm: the running variance is unbiased.
        if (running_mean) running_mean->mul_(1 - momentum).add_(mean.to(running_mean->scalar_type()), momentum);
        if (running_var) {
            double unbiased = count / (count - 1);
            running_var->mul_(1 - momentum).add_(variance.to(running_var->scalar_type()), momentum * unbiased);
        }
        return {mean, (variance + eps).rsqrt(), mu, weight_covariance};
    }

    static at::Tensor forward(torch::autograd::AutogradContext *ctx, const at::Tensor &input, const at::Tensor &conv_weight,
                              const at::Tensor &bn_weight, const at::Tensor &bn_bias,
                              const c10::optional<at::Tensor> &running_mean, const c10::optional<at::Tensor> &running_var,
                              bool use_batch_statistics, double momentum, double eps, int64_t pooling_code, int64_t budget,
                              bool cpu_kernels, const c10::optional<at::Tensor> &input_mean, const c10::optional<at::Tensor> &input_covariance,
                              double count) {
        Pooling pooling = pooling_kind(static_cast<int32_t>(pooling_code));
        TORCH_CHECK(input.dim() == 4, "conv_bn_relu_pool: expected input [N, C, H, W], got ", input.sizes());
        int64_t images = input.size(0), channels = input.size(1), positions = input.size(2) * input.size(3);
        int64_t expanded = conv_weight.size(0);
        TORCH_CHECK(conv_weight.dim() == 4 && conv_weight.size(1) == channels && conv_weight.size(2) == 1 && conv_weight.size(3) == 1,
                    "conv_bn_relu_pool: expected a 1×1 convolution weight [D, ", channels, ", 1, 1], got ", conv_weight.sizes());
        TORCH_CHECK(input.scalar_type() == at::kFloat || input.scalar_type() == at::kDouble,
                    "conv_bn_relu_pool: float32 or float64 only, got ", input.scalar_type());
        // As torch's convolution refuses it: no position to pool (and the tiles would divide by 0).
        TORCH_CHECK(positions > 0, "conv_bn_relu_pool: expected a feature map of at least 1×1, got input ", input.sizes());
        int64_t tile_elements = budget;
        budget = budget > 0 ? budget : default_budget(input);
        std::vector<Tile> all = tiles(images, positions, expanded, budget);
        bool kernels = kernels_take(input, cpu_kernels);
        bool masks = !kernels && ctorch::masks_apply(input, pooling);
        Layout in(input, needs_channel_major(kernels, all));
        const at::Tensor &x = in.x;
        at::Tensor w = conv_weight.reshape({expanded, channels});
        int64_t group = kernels ? ctorch::kernel_group(x, expanded, tile_elements) : 0;
        Statistics s;
        bool given_statistics = input_mean.has_value();
        TORCH_CHECK(given_statistics == input_covariance.has_value(), "conv_bn_relu_pool: give the input's mean and covariance together");
        if (given_statistics) {
            TORCH_CHECK(use_batch_statistics, "conv_bn_relu_pool: given statistics are batch statistics");
            TORCH_CHECK(input_mean->sizes() == at::IntArrayRef({channels}) && input_covariance->sizes() == at::IntArrayRef({channels, channels}),
                        "conv_bn_relu_pool: expected a mean [", channels, "] and a covariance [", channels, ", ", channels,
                        "], got ", input_mean->sizes(), " and ", input_covariance->sizes());
            s = statistics(*input_mean, *input_covariance, w, running_mean, running_var, count, momentum, eps);
        } else if (use_batch_statistics) {
            at::Tensor mu, covariance;
            std::tie(mu, covariance) = kernels ? ctorch::channel_moments(x, group) : in.moments();
            s = statistics(mu, covariance, w, running_mean, running_var, static_cast<double>(images * positions), momentum, eps);
        } else {
            TORCH_CHECK(running_mean && running_var, "conv_bn_relu_pool: without batch statistics it needs running statistics");
            // Copies: a later training pass moves the running statistics before this backward runs.
            s.mean = running_mean->to(x.scalar_type(), false, true);
            s.invstd = (running_var->to(x.scalar_type()) + eps).rsqrt();
        }
        at::Tensor scale = bn_weight * s.invstd;
        at::Tensor w_folded = w * scale.unsqueeze(1), b_folded = bn_bias - scale * s.mean;

        at::Tensor sums, mask;
        if (kernels) {
            sums = ctorch::pooled_sums(x, w_folded, b_folded, pooling, group, pooling == Pooling::mean ? &mask : nullptr);
        } else if (masks) {
            sums = at::zeros({expanded, images}, x.options());
            mask = at::empty({2 * mask_words(all, expanded)}, x.options().dtype(at::kByte));
            at::Tensor buffer = tile_buffer(all, expanded, x.options());
            auto *bits = reinterpret_cast<uint16_t *>(mask.data_ptr<uint8_t>());
            for (const Tile &t : all) {
                at::Tensor y = buffer.narrow(0, 0, expanded * t.images * t.positions).view({expanded, t.images * t.positions});
                ctorch::gemm(y, w_folded, in.columns(t), 0);
                ctorch::mask_sums(y, b_folded, t.image, t.images, t.positions, sums, bits);
                bits += mask_words(t, expanded);
            }
        } else {
            sums = at::zeros({expanded, images}, x.options());
            for (const Tile &t : all) {
                sums.narrow(1, t.image, t.images).add_(pooled_sum(expansion(in.columns(t), w_folded, b_folded, t), pooling));
            }
        }
        at::Tensor z = sums.t().contiguous().div_(static_cast<double>(positions));
        if (pooling == Pooling::root_mean_square) z.sqrt_();

        // Saved as a variable, not in saved_data, so that autograd frees the mask as soon as this
        // node's backward has run rather than with the whole graph: the block's backward, which
        // follows, is where a blockwise step's memory peaks.
        ctx->save_for_backward({input, conv_weight, bn_weight, bn_bias, s.mean, s.invstd, s.input_mean, s.weight_covariance, z, mask});
        ctx->saved_data["pooling"] = pooling_code;
        ctx->saved_data["budget"] = budget;
        ctx->saved_data["kernels"] = kernels;
        ctx->saved_data["group"] = group;
        ctx->saved_data["masks"] = masks;
        ctx->saved_data["batch_statistics"] = use_batch_statistics;
        ctx->saved_data["given_statistics"] = given_statistics;
        return z;
    }

    static torch::autograd::tensor_list backward(torch::autograd::AutogradContext *ctx, torch::autograd::tensor_list grads) {
        // The backward below is not itself differentiable: a second derivative would be wrong.
        TORCH_CHECK(!at::GradMode::is_enabled(), "conv_bn_relu_pool has no second derivative (create_graph)");
        auto saved = ctx->get_saved_variables();
        const at::Tensor &input = saved[0], &conv_weight = saved[1], &bn_weight = saved[2], &bn_bias = saved[3];
        const at::Tensor &mean = saved[4], &invstd = saved[5], &mu = saved[6], &weight_covariance = saved[7], &z = saved[8];
        const at::Tensor &mask = saved[9];
        Pooling pooling = pooling_kind(static_cast<int32_t>(ctx->saved_data["pooling"].toInt()));
        int64_t budget = ctx->saved_data["budget"].toInt();
        bool kernels = ctx->saved_data["kernels"].toBool();
        int64_t group = ctx->saved_data["group"].toInt();
        bool masks = ctx->saved_data["masks"].toBool();
        bool use_batch_statistics = ctx->saved_data["batch_statistics"].toBool();
        bool given_statistics = ctx->saved_data["given_statistics"].toBool();

        int64_t images = input.size(0), channels = input.size(1), positions = input.size(2) * input.size(3);
        int64_t expanded = conv_weight.size(0);
        std::vector<Tile> all = tiles(images, positions, expanded, budget);
        Layout in(input, needs_channel_major(kernels, all));
        const at::Tensor &x = in.x;
        at::Tensor w = conv_weight.reshape({expanded, channels});
        at::Tensor scale = bn_weight * invstd;
        at::Tensor w_folded = w * scale.unsqueeze(1), b_folded = bn_bias - scale * mean;

        // dL/dy = factor · (the pooling's derivative at y), per channel and image.
        double p = static_cast<double>(positions);
        const at::Tensor &dz = grads[0];
        at::Tensor factor = (pooling == Pooling::mean ? dz / p
                             : pooling == Pooling::root_mean_square ? dz / (z * p)
                             : dz / (2 * p)).t();

        // With batch statistics (its own), dx −= A x + shift, from G and S1 once they are
        // complete: the CPU kernels in a pass of their own over dx, the tiles through ATen.
        double count = static_cast<double>(images * positions);
        // S2 = Σ g (u − mean) = rowsum(G ∘ W) − mean·S1; with batch statistics, c = a S2 / ((var + eps) M).
        auto centred_sum_of = [&](const at::Tensor &g_x, const at::Tensor &sum_g) { return (g_x * w).sum(1) - mean * sum_g; };
        auto batch_factor = [&](const at::Tensor &centred_sum) { return scale * invstd.square() * centred_sum / count; };
        auto correction = [&](const at::Tensor &g_x, const at::Tensor &sum_g) -> ctorch::InputCorrection {
            if (given_statistics || !use_batch_statistics) return {};
            at::Tensor c = batch_factor(centred_sum_of(g_x, sum_g));
            at::Tensor a = at::mm(w.t(), c.unsqueeze(1) * w);
            return {a, at::mv(w.t(), scale * sum_g / count) - at::mv(a, mu)};
        };

        bool input_grad = ctx->needs_input_grad(0);
        at::Tensor sum_g = at::zeros({expanded}, x.options());
        at::Tensor g_x = at::zeros({expanded, channels}, x.options());
        at::Tensor dx;
        if (kernels) {
            ctorch::pooling_backward(x, w_folded, b_folded, factor.contiguous(), pooling, group, mask, input_grad ? &dx : nullptr, g_x,
                                     sum_g, correction);
        } else {
            // g per tile, then taken into G = Σ g xᵀ and W'ᵀ g. The forward's mask, where it kept
            // one, gives g without the tile's GEMM of y: two GEMMs per tile, not three.
            if (input_grad) dx = at::empty_like(x);
            at::Tensor w_folded_t = w_folded.t(), factors = factor.contiguous();
            at::Tensor buffer = masks ? tile_buffer(all, expanded, x.options()) : at::Tensor();
            const auto *bits = masks ? reinterpret_cast<const uint16_t *>(mask.data_ptr<uint8_t>()) : nullptr;
            for (const Tile &t : all) {
                at::Tensor x_columns = in.columns(t), g;
                if (masks) {
                    g = buffer.narrow(0, 0, expanded * t.images * t.positions).view({expanded, t.images * t.positions});
                    ctorch::mask_gradient(g, bits, factors, t.image, t.images, t.positions, sum_g);
                    bits += mask_words(t, expanded);
                } else {
                    g = pooling_gradient(expansion(x_columns, w_folded, b_folded, t), factor.narrow(1, t.image, t.images), pooling)
                            .reshape({expanded, t.images * t.positions});
                    sum_g.add_(g.sum(1));
                }
                ctorch::gemm(g_x, g, x_columns.t(), 1);
                if (input_grad) {
                    at::Tensor dx_columns = in.columns(dx, t);
                    ctorch::gemm(dx_columns, w_folded_t, g, 0);
                }
            }
            if (input_grad) {
                ctorch::InputCorrection k = correction(g_x, sum_g);
                if (k.a.defined()) in.subtract(dx, k.a, k.shift);
            }
        }

        at::Tensor centred_sum = centred_sum_of(g_x, sum_g);
        at::Tensor grad_gamma = centred_sum * invstd;
        at::Tensor grad_w = scale.unsqueeze(1) * g_x;
        at::Tensor grad_mean, grad_covariance;
        if (given_statistics) {
            // The statistics' own gradients; the caller's all-reduces take them on to x.
            at::Tensor per_variance = scale * invstd.square() * centred_sum;  // a S2 / (var + eps)
            grad_w.sub_(at::outer(scale * sum_g, mu)).sub_(per_variance.unsqueeze(1) * weight_covariance);
            grad_mean = at::mv(w.t(), scale * sum_g).neg_();
            grad_covariance = at::mm(w.t(), per_variance.unsqueeze(1) * w).mul_(-0.5);
        } else if (use_batch_statistics) {
            at::Tensor c = batch_factor(centred_sum);
            grad_w.sub_(at::outer(scale * sum_g, mu)).sub_(c.unsqueeze(1) * weight_covariance, count);
        }
        at::Tensor none;
        at::Tensor grad_input = input_grad ? in.input_gradient(dx, input.sizes()) : none;
        return {grad_input, grad_w.view_as(conv_weight), grad_gamma, sum_g, none, none, none, none, none, none, none, none,
                grad_mean, grad_covariance, none};
    }
};

} // namespace

extern "C" {

int32_t ct_conv_bn_relu_pool(ct_tensor x, ct_tensor conv_weight, ct_tensor bn_weight, ct_tensor bn_bias,
                             ct_tensor running_mean, ct_tensor running_var, int32_t batch_statistics, double momentum,
                             double eps, int32_t pooling, int64_t tile_elements, int32_t cpu_kernels,
                             ct_tensor input_mean, ct_tensor input_covariance, double count, ct_tensor *out) {
    auto given = [](ct_tensor h) { return h ? c10::optional<at::Tensor>(h->t) : c10::nullopt; };
    CT_RETURN(ConvBatchNormReLUPool::apply(T(x), T(conv_weight), T(bn_weight), T(bn_bias), given(running_mean),
                                           given(running_var), batch_statistics != 0, momentum, eps,
                                           static_cast<int64_t>(pooling), tile_elements, cpu_kernels != 0, given(input_mean),
                                           given(input_covariance), count))
}

} // extern "C"

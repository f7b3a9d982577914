// What the fused conv → BN → ReLU → pooling node (fused_pooling.cpp) shares with its CPU
// kernels (fused_pooling_kernels.cpp).
#pragma once
#include "ctorch.h"
#include <ATen/ATen.h>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>

namespace ctorch {

// The spatial pooling after the ReLU, per channel of r = ReLU(y) over P positions.
enum class Pooling { mean, root_mean_square, mean_square_root };

// The pooling of a bridge's CT_POOLING_* code.
inline Pooling pooling_kind(int32_t code) {
    switch (code) {
    case CT_POOLING_MEAN: return Pooling::mean;
    case CT_POOLING_ROOT_MEAN_SQUARE: return Pooling::root_mean_square;
    case CT_POOLING_MEAN_SQUARE_ROOT: return Pooling::mean_square_root;
    }
    throw std::invalid_argument("unknown pooling code " + std::to_string(code));
}

// The ε of the square-root pooling, √(r + ε), as in the reference code.
constexpr double square_root_epsilon = 1e-6;

// Whether the CPU kernels below take x [N, C, P] (an [N, C, H, W] input as it lies): float32 or
// float64 on the CPU, with few enough channels that they beat GEMMs.
bool cpu_kernels_apply(const at::Tensor &x);

// Images per group, the kernels' unit of work, for x [N, C, P]: from the caller's tile size
// (elements of the expansion, whole images to a tile) where it gives one (> 0), else from the
// kernels' own blocking and the thread count.
int64_t kernel_group(const at::Tensor &x, int64_t expanded, int64_t tile_elements);

// The channel mean μ [C] and biased covariance Σ [C, C] of x [N, C, P] (contiguous) over images
// and positions: two passes over x, the second centred (E[xxᵀ] − μμᵀ would cancel digits in
// float32), each group's sums in double and added in group order, whatever the thread count.
std::pair<at::Tensor, at::Tensor> channel_moments(const at::Tensor &x, int64_t group);

// Forward: sums[d, n] = Σ_p pool(ReLU(w_d · x[n, :, p] + b_d)), with x [N, C, P] (contiguous),
// w [D, C], b [D]; returns sums [D, N]. The expansion stays in registers. Where `mask` is given
// (mean pooling), sets it to the ReLU's mask, a bit per expanded value.
at::Tensor pooled_sums(const at::Tensor &x, const at::Tensor &w, const at::Tensor &b, Pooling pooling, int64_t group,
                       at::Tensor *mask);

// The batch statistics' part of the input gradient, dx −= A x + shift (A [C, C], shift [C]),
// which the caller can tell only from G and S1: undefined tensors where there is none.
struct InputCorrection {
    at::Tensor a, shift;
};

// Backward: with g = dL/dy (from factor [D, N], the pooling's per-image factor, contiguous),
// adds G = Σ g xᵀ to g_x [D, C] and S1 = Σ g to sum_g [D]; then, where dx is given, sets
// *dx = W'ᵀ g − A x − shift [N, C, P], with A and shift from `correct` once G and S1 are
// complete. g comes from the forward's mask where it is defined (with the forward's group), else
// from the expansion recomputed; either stays in registers.
void pooling_backward(const at::Tensor &x, const at::Tensor &w, const at::Tensor &b, const at::Tensor &factor, Pooling pooling,
                      int64_t group, const at::Tensor &mask, at::Tensor *dx, at::Tensor &g_x, at::Tensor &sum_g,
                      const std::function<InputCorrection(const at::Tensor &g_x, const at::Tensor &sum_g)> &correct);

// The ReLU's mask, kept by the forward so that the backward needs no second GEMM per tile: with
// mean pooling dL/dy is the mask times a factor per channel and image. On the CPU, float32 or
// float64. The mask of a tile of `images` images is [D, images, mask_words(positions)] words.
bool masks_apply(const at::Tensor &x, Pooling pooling);
int64_t mask_words(int64_t positions);

// Forward over one tile: y [D, images·positions] is the tile's W'x without b; adds
// Σ_p ReLU(y + b) to sums[:, image + i] ([D, N]) and writes the tile's mask to bits.
void mask_sums(const at::Tensor &y, const at::Tensor &b, int64_t image, int64_t images, int64_t positions, at::Tensor &sums,
               uint16_t *bits);

// Backward over one tile: writes g = dL/dy = mask · factor[:, image + i] ([D, N]) over the tile
// g [D, images·positions] and adds Σ g to sum_g [D].
void mask_gradient(at::Tensor &g, const uint16_t *bits, const at::Tensor &factor, int64_t image, int64_t images, int64_t positions,
                   at::Tensor &sum_g);

} // namespace ctorch

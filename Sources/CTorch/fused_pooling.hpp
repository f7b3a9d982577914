// What the fused conv → BN → ReLU → pooling node (fused_pooling.cpp) shares with its CPU
// kernels (fused_pooling_kernels.cpp).
#pragma once
#include <ATen/ATen.h>

namespace ctorch {

// The spatial pooling after the ReLU, per channel of r = ReLU(y) over P positions.
enum class Pooling { mean, root_mean_square, mean_square_root };

// The ε of the square-root pooling, √(r + ε), as in the reference code.
constexpr double square_root_epsilon = 1e-6;

// Whether the CPU kernels below take x, channel-major [C, ...]: float32 or float64 on the CPU,
// with few enough channels that they beat GEMMs.
bool cpu_kernels_apply(const at::Tensor &x);

// Forward: sums[d, n] = Σ_p pool(ReLU(w_d · x[:, n, p] + b_d)), with x channel-major [C, N, P]
// (contiguous), w [D, C], b [D]; returns sums [D, N]. The expansion stays in registers.
at::Tensor pooled_sums(const at::Tensor &x, const at::Tensor &w, const at::Tensor &b, Pooling pooling);

// Backward over one tile of the expansion: x_columns [C, images·positions] (rows contiguous),
// factor [D, images] (the pooling's per-image factor, contiguous). Writes g = dL/dy [D,
// images·positions] and adds each row's sum to sum_g [D].
void pooling_gradient_tile(const at::Tensor &x_columns, const at::Tensor &w, const at::Tensor &b, const at::Tensor &factor,
                           int64_t positions, Pooling pooling, at::Tensor &g, at::Tensor &sum_g);

} // namespace ctorch

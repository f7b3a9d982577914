// The pooling's value and derivative after the ReLU, on one value or a vector of them: the
// CPU kernels' shared arithmetic (fused_pooling_kernels.cpp, batch_norm_pooling.cpp).
#pragma once
#include "fused_pooling.hpp"

namespace ctorch {

// What the pooling sums, from y; V is a vector of M or M itself. A value ≤ 0 gives 0 and NaN
// stays NaN, as through torch's ReLU.
template <typename M, typename V> [[gnu::always_inline]] inline V pooled(V y, Pooling pooling) {
    V r = y <= V{} ? V{} : y;
    switch (pooling) {
    case Pooling::mean: return r;
    case Pooling::root_mean_square: return r * r;
    case Pooling::mean_square_root: return __builtin_elementwise_sqrt(r + static_cast<M>(square_root_epsilon));
    }
    return r;
}

// dL/dy from y and the pooling's factor for this channel and image, selected by the ReLU's
// mask as torch's threshold_backward selects it (an all-zero channel's √ derivative is infinite).
template <typename M, typename V> [[gnu::always_inline]] inline V gradient(V y, V factor, Pooling pooling) {
    switch (pooling) {
    case Pooling::mean: return y <= V{} ? V{} : factor;
    case Pooling::root_mean_square: return y <= V{} ? V{} : y * factor;
    case Pooling::mean_square_root:
        return y <= V{} ? V{} : factor / __builtin_elementwise_sqrt(y + static_cast<M>(square_root_epsilon));
    }
    return V{};
}

} // namespace ctorch

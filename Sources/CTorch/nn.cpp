// Neural-network functions: convolution, batch norm, pooling, resampling, losses.
#include "bridge.hpp"

using ctorch::wrap;

namespace {
c10::optional<at::Tensor> maybe(ct_tensor h) {
    if (h == nullptr) return c10::nullopt;
    return T(h);
}

// ATen's grid sampler takes its own integer codes (GridSamplerInterpolation, GridSamplerPadding),
// from a header libtorch does not install: 0 bilinear, 1 nearest, 2 bicubic; 0 zeros, 1 border, 2 reflection.
int64_t grid_sampler_mode(int32_t mode) {
    switch (mode) {
    case CT_INTERP_BILINEAR: return 0;
    case CT_INTERP_NEAREST: return 1;
    case CT_INTERP_BICUBIC: return 2;
    }
    throw std::invalid_argument("unknown grid_sample mode " + std::to_string(mode));
}

int64_t grid_sampler_padding(int32_t padding) {
    switch (padding) {
    case CT_GRID_PADDING_ZEROS: return 0;
    case CT_GRID_PADDING_BORDER: return 1;
    case CT_GRID_PADDING_REFLECTION: return 2;
    }
    throw std::invalid_argument("unknown grid_sample padding " + std::to_string(padding));
}

at::Reduction::Reduction loss_reduction(int32_t code) {
    switch (code) {
    case CT_REDUCTION_NONE: return at::Reduction::None;
    case CT_REDUCTION_MEAN: return at::Reduction::Mean;
    case CT_REDUCTION_SUM: return at::Reduction::Sum;
    }
    throw std::invalid_argument("unknown loss reduction " + std::to_string(code));
}
} // namespace

extern "C" {

int32_t ct_conv2d(ct_tensor x, ct_tensor w, ct_tensor b, const int64_t *stride, const int64_t *padding,
                  const int64_t *dilation, int64_t groups, ct_tensor *out) {
    CT_RETURN(at::conv2d(T(x), T(w), maybe(b), dims(stride, 2), dims(padding, 2), dims(dilation, 2), groups))
}

int32_t ct_batch_norm(ct_tensor x, ct_tensor w, ct_tensor b, ct_tensor running_mean, ct_tensor running_var,
                      int32_t training, double momentum, double eps, ct_tensor *out) {
    CT_RETURN(at::batch_norm(T(x), maybe(w), maybe(b), maybe(running_mean), maybe(running_var), training != 0,
                             momentum, eps, /*cudnn_enabled=*/true))
}

int32_t ct_avg_pool2d(ct_tensor x, const int64_t *kernel, const int64_t *stride, const int64_t *padding,
                      int32_t ceil_mode, int32_t count_include_pad, ct_tensor *out) {
    CT_RETURN(at::avg_pool2d(T(x), dims(kernel, 2), dims(stride, 2), dims(padding, 2), ceil_mode != 0,
                             count_include_pad != 0))
}

int32_t ct_adaptive_avg_pool2d(ct_tensor x, const int64_t *size, ct_tensor *out) {
    CT_RETURN(at::adaptive_avg_pool2d(T(x), dims(size, 2)))
}

int32_t ct_interpolate(ct_tensor x, int32_t mode, const int64_t *size, int32_t align_corners, int32_t antialias,
                       ct_tensor *out) {
    CT_GUARD({
        auto s = dims(size, 2);
        bool corners = align_corners != 0;
        at::Tensor r;
        switch (mode) {
        case CT_INTERP_NEAREST: r = at::upsample_nearest2d(T(x), s, c10::nullopt, c10::nullopt); break;
        case CT_INTERP_BILINEAR:
            r = antialias ? at::_upsample_bilinear2d_aa(T(x), s, corners, c10::nullopt, c10::nullopt)
                          : at::upsample_bilinear2d(T(x), s, corners, c10::nullopt, c10::nullopt);
            break;
        case CT_INTERP_BICUBIC:
            r = antialias ? at::_upsample_bicubic2d_aa(T(x), s, corners, c10::nullopt, c10::nullopt)
                          : at::upsample_bicubic2d(T(x), s, corners, c10::nullopt, c10::nullopt);
            break;
        default: throw std::invalid_argument("unknown interpolation mode " + std::to_string(mode));
        }
        *out = wrap(std::move(r));
    })
}

int32_t ct_affine_grid(ct_tensor theta, const int64_t *size, int64_t ndim, int32_t align_corners, ct_tensor *out) {
    CT_RETURN(at::affine_grid_generator(T(theta), dims(size, ndim), align_corners != 0))
}

int32_t ct_grid_sample(ct_tensor x, ct_tensor grid, int32_t mode, int32_t padding, int32_t align_corners,
                       ct_tensor *out) {
    CT_RETURN(at::grid_sampler(T(x), T(grid), grid_sampler_mode(mode), grid_sampler_padding(padding),
                               align_corners != 0))
}

int32_t ct_dropout(ct_tensor x, double p, int32_t train, ct_tensor *out) { CT_RETURN(at::dropout(T(x), p, train != 0)) }

int32_t ct_cross_entropy(ct_tensor logits, ct_tensor target, ct_tensor weight, int32_t reduction,
                         int64_t ignore_index, double label_smoothing, ct_tensor *out) {
    CT_RETURN(at::cross_entropy_loss(T(logits), T(target), maybe(weight), loss_reduction(reduction), ignore_index,
                                     label_smoothing))
}

int32_t ct_one_hot(ct_tensor t, int64_t num_classes, ct_tensor *out) { CT_RETURN(at::one_hot(T(t), num_classes)) }

int32_t ct_pad(ct_tensor x, const int64_t *pad, int64_t n, int32_t mode, double value, ct_tensor *out) {
    CT_GUARD({
        auto p = dims(pad, n);
        at::Tensor r;
        switch (mode) {
        case CT_PAD_CONSTANT: r = at::constant_pad_nd(T(x), p, value); break;
        case CT_PAD_REFLECT: r = at::reflection_pad2d(T(x), p); break;
        case CT_PAD_REPLICATE: r = at::replication_pad2d(T(x), p); break;
        default: throw std::invalid_argument("unknown padding mode " + std::to_string(mode));
        }
        *out = wrap(std::move(r));
    })
}

} // extern "C"

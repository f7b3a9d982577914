// CPU kernels of the fused pooling head. The expansion y = W'x + b' is computed in registers,
// 4 output channels × 4 vectors of positions at a time, and is pooled (forward) or turned into
// dL/dy (backward) before it leaves them. As GEMMs over tiles, each expanded value is written
// to memory and read back by the ReLU, the pooling and the gradient: with few input channels a
// value costs only C multiply-adds, so those passes, not the products, set the time (the
// demo's block 1 expands 16 channels to 256). From 64 input channels the node keeps the GEMMs
// (kMostChannels says why).
//
// With mean pooling, dL/dy is the ReLU's mask times a factor per channel and image: the forward
// keeps the mask, a bit per expanded value, and the backward builds g from it instead of
// recomputing y. g then costs a select per vector, so the backward can afford two passes that
// each keep their sums in registers (W'ᵀ g, then G = Σ g xᵀ), where one pass had to add G's
// partial sums to memory for every register block: the demo's first head's backward took about
// half the time (masked_backward below).
//
// They read x [N, C, P] as the block's output lies ([N, C, H, W], contiguous) and write dx so:
// a channel-major copy each way, and ATen's passes for the batch statistics and their part of
// dx, cost about 29 ms of the demo's simultaneous step. The statistics come from a kernel of
// their own (channel_moments), and their part of dx from one more pass once G and S1 are known.
//
// The kernels are written once on 64-byte vectors (clang's vector extensions) and compiled for
// AVX-512, AVX2 + FMA and the x86-64 baseline; the CPU picks one on first use.
#include "fused_pooling.hpp"
#include "pooling_lanes.hpp"
#include "vectors.hpp"
#include "parallel.hpp"
#include <ATen/Parallel.h>
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <mutex>
#include <type_traits>
#include <vector>

namespace ctorch {
namespace {

using namespace vectors;

constexpr int kRows = 4;     // output channels per register block
constexpr int kVectors = 4;  // vectors of positions per register block
constexpr int kTile = 4;     // input channels per register block of the backward's passes

// Positions per register block.
template <typename T> constexpr int64_t kBlock = Lanes<T>::width * kVectors;

// Vectors of one image's positions: a vector never spans images, and the last one of an image
// may be partial. The ReLU's mask has a word (a bit per lane) for each vector of each output
// channel and image: [D, N, image_vectors] words.
template <typename T> int64_t image_vectors(int64_t positions) { return (positions + Lanes<T>::width - 1) / Lanes<T>::width; }

// Words of the mask of x [C, N, P] expanded to D channels.
template <typename T> int64_t mask_length(int64_t expanded, int64_t images, int64_t positions) {
    return expanded * images * image_vectors<T>(positions);
}

// The first `valid` lanes of p, the others 0: the partial vector at an image's end.
template <typename T> [[gnu::always_inline]] inline Vec<T> load_partial(const T *p, int64_t valid) {
    Vec<T> v{};
    std::memcpy(&v, p, static_cast<size_t>(valid) * sizeof(T));
    return v;
}

// 1 in the first `valid` lanes, 0 in the others.
template <typename T> [[gnu::always_inline]] inline Vec<T> lanes_below(int64_t valid) {
    Vec<T> v{};
    for (int64_t i = 0; i < Lanes<T>::width; ++i) v[i] = i < valid ? T(1) : T(0);
    return v;
}

// A register block: kVectors consecutive vectors of a group's images (image by image), packed
// C × kBlock: x's rows are a feature map apart, so a block read in place maps its C rows to a
// few sets of L1 and evicts itself; packed it stays in L1 for every output channel. Lanes past
// an image's positions, and vectors past the group's last image, are zeros.
template <typename T> struct Block {
    int64_t image[kVectors], vector[kVectors], valid[kVectors];  // valid: positions in it, 0 past the group
    std::vector<T> packed;                                          // [C, kBlock]

    // Vectors [i, i + kVectors) of the images from `first` of x [N, C, P], of which there are `count` vectors.
    void load(const T *x, int64_t channels, int64_t positions, int64_t first, int64_t i, int64_t count) {
        constexpr int64_t L = Lanes<T>::width;
        const int64_t per_image = image_vectors<T>(positions);
        for (int v = 0; v < kVectors; ++v) {
            int64_t k = std::min(i + v, count - 1);
            image[v] = first + k / per_image;
            vector[v] = k % per_image;
            valid[v] = i + v < count ? std::min(L, positions - vector[v] * L) : 0;
        }
        packed.resize(static_cast<size_t>(channels * kBlock<T>));
        for (int64_t c = 0; c < channels; ++c) {
            for (int v = 0; v < kVectors; ++v) {
                T *to = &packed[c * kBlock<T> + v * L];
                if (valid[v] > 0) std::memcpy(to, x + (image[v] * channels + c) * positions + vector[v] * L, valid[v] * sizeof(T));
                if (valid[v] < L) std::memset(to + valid[v], 0, (L - valid[v]) * sizeof(T));
            }
        }
    }
};

// acc[r][v] = w[d0 + r] · x[:, block v] + b[d0 + r]; w is [rows, C] with rows a multiple of kRows.
template <typename T>
[[gnu::always_inline]] inline void expand(const Block<T> &x, int64_t channels, const T *w, const T *b, int64_t d0,
                                          Vec<T> (&acc)[kRows][kVectors]) {
    constexpr int64_t L = Lanes<T>::width;
    CT_UNROLL
    for (int r = 0; r < kRows; ++r) {
        CT_UNROLL
        for (int v = 0; v < kVectors; ++v) acc[r][v] = splat<T>(b[d0 + r]);
    }
    for (int64_t c = 0; c < channels; ++c) {
        const T *xc = x.packed.data() + c * kBlock<T>;
        Vec<T> xv[kVectors];
        CT_UNROLL
        for (int v = 0; v < kVectors; ++v) xv[v] = load(xc + v * L);
        const T *wc = w + d0 * channels + c;
        CT_UNROLL
        for (int r = 0; r < kRows; ++r) {
            Vec<T> wr = splat<T>(wc[r * channels]);
            CT_UNROLL
            for (int v = 0; v < kVectors; ++v) acc[r][v] += wr * xv[v];
        }
    }
}

// The images of group `index`: [first, last).
struct Images {
    int64_t first, last;
    Images(int64_t index, int64_t group, int64_t images) : first(index * group), last(std::min(images, (index + 1) * group)) {}
};

template <typename T> struct SumsJob {
    const T *x, *w, *b;  // x [N, C, P]; w [rows, C]; b [rows]
    int64_t channels, images, positions, rows, expanded, group;
    Pooling pooling;
    T *sums;         // [D, N], zero
    uint16_t *bits;  // the ReLU's mask [D, N, image_vectors], or null
};

// Group `index` of job.group images: their columns of sums and, where asked, their mask. The
// lanes sum an image's vectors until a block starts in another image; a vector of another
// image than the lanes' goes to sums at once.
template <typename T> [[gnu::always_inline]] inline void sums_of_group(const SumsJob<T> &job, int64_t index) {
    Images group(index, job.group, job.images);
    const int64_t per_image = image_vectors<T>(job.positions), count = (group.last - group.first) * per_image;
    std::vector<Vec<T>> lanes(static_cast<size_t>(job.rows));
    Block<T> block;
    int64_t held = -1;  // the image whose sums the lanes hold
    auto flush = [&] {
        if (held < 0) return;
        for (int64_t d = 0; d < job.expanded; ++d) job.sums[d * job.images + held] += horizontal_sum<T>(lanes[d]);
        std::fill(lanes.begin(), lanes.end(), Vec<T>{});
    };
    for (int64_t i = 0; i < count; i += kVectors) {
        block.load(job.x, job.channels, job.positions, group.first, i, count);
        if (block.image[0] != held) {
            flush();
            held = block.image[0];
        }
        Vec<T> keep[kVectors];
        uint32_t keep_bits[kVectors];
        CT_UNROLL
        for (int v = 0; v < kVectors; ++v) {
            keep[v] = lanes_below<T>(block.valid[v]);
            keep_bits[v] = (uint32_t{1} << block.valid[v]) - 1;
        }
        for (int64_t d0 = 0; d0 < job.rows; d0 += kRows) {
            Vec<T> acc[kRows][kVectors];
            expand(block, job.channels, job.w, job.b, d0, acc);
            CT_UNROLL
            for (int r = 0; r < kRows; ++r) {
                const int64_t d = d0 + r;
                if (d >= job.expanded) continue;
                Vec<T> s{};
                CT_UNROLL
                for (int v = 0; v < kVectors; ++v) {
                    Vec<T> value = keep[v] > 0 ? pooled<T>(acc[r][v], job.pooling) : Vec<T>{};
                    if (job.bits && block.valid[v] > 0) {
                        // A value passes unless it is ≤ 0, so that NaN passes as through torch's ReLU.
                        uint32_t on = bits_of<T>((acc[r][v] <= Vec<T>{}) == 0) & keep_bits[v];
                        job.bits[(d * job.images + block.image[v]) * per_image + block.vector[v]] = static_cast<uint16_t>(on);
                    }
                    if (block.image[v] == held) {
                        s += value;
                    } else if (block.valid[v] > 0) {
                        job.sums[d * job.images + block.image[v]] += horizontal_sum<T>(value);
                    }
                }
                lanes[d] += s;
            }
        }
    }
    flush();
}

template <typename T> struct BackwardJob {
    const T *x, *w, *b, *factor;  // x [N, C, P]; w [rows, C]; b [rows]; factor [D, N]
    int64_t channels, images, positions, rows, expanded, group;
    Pooling pooling;
    T *dx;                 // [N, C, P], or null when x needs no gradient
    const uint16_t *bits;  // the forward's mask (mean pooling), or null: recompute y
    const T *a, *shift;    // dx −= A x + shift: A [C, C], shift [C], or null
};

// One task's part of G = Σ g xᵀ and S1 = Σ g, in vector lanes: [rows][C] and [rows].
template <typename T> struct BackwardLanes {
    std::vector<Vec<T>> g_x, sum_g;
};

// masked_backward: from the forward's mask, where dL/dy is the mask times the image's factor
// f[d, n]. Two passes over the group, each with its sums in registers across it:
//   W'ᵀ g: dx[n, c, k] = Σ_d (W'[d, c] f[d, n]) · mask[d, n, k], a masked sum of one row of
//          U = W' ∘ f per output channel, over 4 input channels × 4 vectors of an image;
//   G, S1: g built per vector from the mask, times 4 input channels' x, for 4 output channels,
//          over every vector of the group.
// Without the mask, each register block recomputes y (below). Either way the batch statistics'
// part of dx, A x + shift, waits for G and S1 of every group, and then takes a pass of its own
// (corrected_input_gradient).

// Writes acc[c] over vectors [j0, j0 + NV) of image n's input channels [c0, c0 + kTile) of dx,
// the lanes within the image's positions and the channels within C.
template <typename T, int NV>
[[gnu::always_inline]] inline void store_input_gradient(const BackwardJob<T> &job, int64_t n, int64_t j0, int64_t c0,
                                                        const Vec<T> (&acc)[kTile][NV]) {
    constexpr int64_t L = Lanes<T>::width;
    const int64_t C = job.channels, P = job.positions;
    for (int c = 0; c < kTile && c0 + c < C; ++c) {
        T *to = job.dx + (n * C + c0 + c) * P + j0 * L;
        for (int v = 0; v < NV; ++v) {
            const int64_t valid = std::min(L, P - (j0 + v) * L);
            std::memcpy(to + v * L, &acc[c][v], static_cast<size_t>(valid) * sizeof(T));
        }
    }
}

// dx over vectors [j0, j0 + NV) of image n, input channels [c0, c0 + kTile): u is U [D, C].
template <typename T, int NV>
[[gnu::always_inline]] inline void masked_input_gradient(const BackwardJob<T> &job, const T *u, int64_t n, int64_t j0, int64_t c0) {
    const int64_t C = job.channels, per_image = image_vectors<T>(job.positions), stride = job.images * per_image;
    Vec<T> acc[kTile][NV] = {};
    const uint16_t *bits = job.bits + n * per_image + j0;
    for (int64_t d = 0; d < job.expanded; ++d, bits += stride, u += C) {
        uint32_t on[NV];
        CT_UNROLL
        for (int v = 0; v < NV; ++v) on[v] = bits[v];
        CT_UNROLL
        for (int c = 0; c < kTile; ++c) {
            Vec<T> value = splat<T>(u[c0 + c]);
            CT_UNROLL
            for (int v = 0; v < NV; ++v) acc[c][v] += where_bits<T>(on[v], value);
        }
    }
    store_input_gradient<T, NV>(job, n, j0, c0, acc);
}

template <typename T> [[gnu::always_inline]] inline void masked_input_gradients(const BackwardJob<T> &job, const Images &group) {
    const int64_t C = job.channels, per_image = image_vectors<T>(job.positions);
    // U for one image, with kTile columns of padding that the last tile may read.
    std::vector<T> u(static_cast<size_t>(job.expanded * C + kTile), T(0));
    for (int64_t n = group.first; n < group.last; ++n) {
        for (int64_t d = 0; d < job.expanded; ++d) {
            const T f = job.factor[d * job.images + n];
            for (int64_t c = 0; c < C; ++c) u[d * C + c] = job.w[d * C + c] * f;
        }
        for (int64_t j0 = 0; j0 < per_image; j0 += kVectors) {
            for (int64_t c0 = 0; c0 < C; c0 += kTile) {
                switch (std::min<int64_t>(kVectors, per_image - j0)) {
                case 1: masked_input_gradient<T, 1>(job, u.data(), n, j0, c0); break;
                case 2: masked_input_gradient<T, 2>(job, u.data(), n, j0, c0); break;
                case 3: masked_input_gradient<T, 3>(job, u.data(), n, j0, c0); break;
                default: masked_input_gradient<T, 4>(job, u.data(), n, j0, c0); break;
                }
            }
        }
    }
}

// G over output channels [d0, d0 + kRows) and input channels [c0, c0 + kTile) of the group's
// images, and S1 of those output channels where `with_sum`.
template <typename T, bool with_sum>
[[gnu::always_inline]] inline void masked_weight_gradient(const BackwardJob<T> &job, const Images &group, int64_t d0, int64_t c0,
                                                          BackwardLanes<T> &out) {
    constexpr int64_t L = Lanes<T>::width;
    const int64_t C = job.channels, P = job.positions, per_image = image_vectors<T>(P), whole = P / L;
    Vec<T> acc[kRows][kTile] = {}, sum[kRows] = {};
    for (int64_t n = group.first; n < group.last; ++n) {
        // Rows past D (padding) take f = 0; channels past C repeat the last one, and are dropped.
        Vec<T> f[kRows];
        const uint16_t *bits[kRows];
        CT_UNROLL
        for (int r = 0; r < kRows; ++r) {
            int64_t d = std::min(d0 + r, job.expanded - 1);
            f[r] = d0 + r < job.expanded ? splat<T>(job.factor[d * job.images + n]) : Vec<T>{};
            bits[r] = job.bits + (d * job.images + n) * per_image;
        }
        const T *x[kTile];
        CT_UNROLL
        for (int c = 0; c < kTile; ++c) x[c] = job.x + (n * C + std::min(c0 + c, C - 1)) * P;
        auto step = [&](int64_t j, const Vec<T> (&xv)[kTile]) __attribute__((always_inline)) {
            CT_UNROLL
            for (int r = 0; r < kRows; ++r) {
                Vec<T> g = where_bits<T>(bits[r][j], f[r]);
                if constexpr (with_sum) sum[r] += g;
                CT_UNROLL
                for (int c = 0; c < kTile; ++c) acc[r][c] += g * xv[c];
            }
        };
        for (int64_t j = 0; j < whole; ++j) {
            Vec<T> xv[kTile];
            CT_UNROLL
            for (int c = 0; c < kTile; ++c) xv[c] = load(x[c] + j * L);
            step(j, xv);
        }
        if (whole < per_image) {
            Vec<T> xv[kTile];
            CT_UNROLL
            for (int c = 0; c < kTile; ++c) xv[c] = load_partial(x[c] + whole * L, P - whole * L);
            step(whole, xv);
        }
    }
    CT_UNROLL
    for (int r = 0; r < kRows; ++r) {
        if constexpr (with_sum) out.sum_g[d0 + r] += sum[r];
        CT_UNROLL
        for (int c = 0; c < kTile; ++c) {
            if (c0 + c < C) out.g_x[(d0 + r) * C + c0 + c] += acc[r][c];
        }
    }
}

template <typename T> [[gnu::always_inline]] inline void masked_backward(const BackwardJob<T> &job, const Images &group, BackwardLanes<T> &out) {
    if (job.dx) masked_input_gradients(job, group);
    // Input channels outside, so that their rows of x stay in cache while every output channel
    // reads them.
    for (int64_t d0 = 0; d0 < job.rows; d0 += kRows) masked_weight_gradient<T, true>(job, group, d0, 0, out);
    for (int64_t c0 = kTile; c0 < job.channels; c0 += kTile) {
        for (int64_t d0 = 0; d0 < job.rows; d0 += kRows) masked_weight_gradient<T, false>(job, group, d0, c0, out);
    }
}

// Without the mask: g = dL/dy computed in registers a block of 4 channels × 4 vectors at a time
// from y recomputed, and at once taken into G and S1 (the lanes) and into W'ᵀ g (dx).
template <typename T> [[gnu::always_inline]] inline void recomputing_backward(const BackwardJob<T> &job, const Images &group, BackwardLanes<T> &out) {
    constexpr int64_t L = Lanes<T>::width;
    const int64_t C = job.channels, per_image = image_vectors<T>(job.positions), count = (group.last - group.first) * per_image;
    Block<T> block;
    std::vector<Vec<T>> dx(static_cast<size_t>(C * kVectors));  // the block's columns of W'ᵀ g
    for (int64_t i = 0; i < count; i += kVectors) {
        block.load(job.x, C, job.positions, group.first, i, count);
        std::fill(dx.begin(), dx.end(), Vec<T>{});
        Vec<T> keep[kVectors];
        CT_UNROLL
        for (int v = 0; v < kVectors; ++v) keep[v] = lanes_below<T>(block.valid[v]);
        for (int64_t d0 = 0; d0 < job.rows; d0 += kRows) {
            Vec<T> g[kRows][kVectors];
            expand(block, C, job.w, job.b, d0, g);
            CT_UNROLL
            for (int r = 0; r < kRows; ++r) {
                // Each vector's factor is its image's; lanes past an image's positions, and the
                // rows that only pad w, get 0 (selected, not multiplied: a factor may be infinite).
                const int64_t d = d0 + r;
                Vec<T> s{};
                CT_UNROLL
                for (int v = 0; v < kVectors; ++v) {
                    Vec<T> factor = d < job.expanded ? splat<T>(job.factor[d * job.images + block.image[v]]) : Vec<T>{};
                    factor = keep[v] > 0 ? factor : Vec<T>{};
                    g[r][v] = gradient<T>(g[r][v], factor, job.pooling);
                    s += g[r][v];
                }
                out.sum_g[d] += s;
            }
            for (int64_t c = 0; c < C; ++c) {
                Vec<T> xv[kVectors];
                CT_UNROLL
                for (int v = 0; v < kVectors; ++v) xv[v] = load(block.packed.data() + c * kBlock<T> + v * L);
                CT_UNROLL
                for (int r = 0; r < kRows; ++r) {
                    Vec<T> t = g[r][0] * xv[0];
                    CT_UNROLL
                    for (int v = 1; v < kVectors; ++v) t += g[r][v] * xv[v];
                    out.g_x[(d0 + r) * C + c] += t;
                }
                if (job.dx == nullptr) continue;
                const T *wc = job.w + d0 * C + c;
                CT_UNROLL
                for (int v = 0; v < kVectors; ++v) {
                    Vec<T> t = dx[c * kVectors + v];
                    CT_UNROLL
                    for (int r = 0; r < kRows; ++r) t += splat<T>(wc[r * C]) * g[r][v];
                    dx[c * kVectors + v] = t;
                }
            }
        }
        if (job.dx == nullptr) continue;
        for (int64_t c = 0; c < C; ++c) {
            for (int v = 0; v < kVectors; ++v) {
                if (block.valid[v] == 0) continue;
                T *to = job.dx + (block.image[v] * C + c) * job.positions + block.vector[v] * L;
                std::memcpy(to, &dx[c * kVectors + v], static_cast<size_t>(block.valid[v]) * sizeof(T));
            }
        }
    }
}

// Group `index` of job.group images: its part of G and S1 into the task's lanes, and its dx but
// for A x + shift.
template <typename T> [[gnu::always_inline]] inline void backward_group(const BackwardJob<T> &job, int64_t index, BackwardLanes<T> &out) {
    Images group(index, job.group, job.images);
    if (job.bits) {
        masked_backward(job, group, out);
    } else {
        recomputing_backward(job, group, out);
    }
}

// dx −= A x + shift over vectors [j0, j0 + NV) of image n, input channels [c0, c0 + kTile), of
// which the last is partial (ends at the image's last position) where `Partial`. Channels past
// C repeat the last one, and are dropped.
template <typename T, int NV, bool Partial>
[[gnu::always_inline]] inline void corrected_input_gradient(const BackwardJob<T> &job, int64_t n, int64_t j0, int64_t c0) {
    constexpr int64_t L = Lanes<T>::width;
    const int64_t C = job.channels, P = job.positions, last = P - (j0 + NV - 1) * L;
    // The partial vector only in its own copy: load_partial's copy of a run time length is a
    // call, which would take the register block to the stack.
    auto vectors = [&](const T *p, Vec<T> (&out)[NV]) __attribute__((always_inline)) {
        CT_UNROLL
        for (int v = 0; v < NV; ++v) out[v] = Partial && v == NV - 1 ? load_partial(p + v * L, last) : load(p + v * L);
    };
    Vec<T> acc[kTile][NV];
    const T *a[kTile];
    CT_UNROLL
    for (int c = 0; c < kTile; ++c) {
        const int64_t row = std::min(c0 + c, C - 1);
        a[c] = job.a + row * C;
        vectors(job.dx + (n * C + row) * P + j0 * L, acc[c]);
        const Vec<T> shift = splat<T>(job.shift[row]);
        CT_UNROLL
        for (int v = 0; v < NV; ++v) acc[c][v] -= shift;
    }
    for (int64_t k = 0; k < C; ++k) {
        Vec<T> xv[NV];
        vectors(job.x + (n * C + k) * P + j0 * L, xv);
        CT_UNROLL
        for (int c = 0; c < kTile; ++c) {
            const Vec<T> ak = splat<T>(a[c][k]);
            CT_UNROLL
            for (int v = 0; v < NV; ++v) acc[c][v] -= ak * xv[v];
        }
    }
    store_input_gradient<T, NV>(job, n, j0, c0, acc);
}

template <typename T, int NV>
[[gnu::always_inline]] inline void corrected_input_gradient(const BackwardJob<T> &job, int64_t n, int64_t j0, int64_t c0, bool partial) {
    if (partial) return corrected_input_gradient<T, NV, true>(job, n, j0, c0);
    corrected_input_gradient<T, NV, false>(job, n, j0, c0);
}

// Group `index`'s A x + shift, taken from its dx once G and S1 are complete.
template <typename T> [[gnu::always_inline]] inline void input_gradient_group(const BackwardJob<T> &job, int64_t index) {
    Images group(index, job.group, job.images);
    const int64_t per_image = image_vectors<T>(job.positions);
    const bool ragged = job.positions % Lanes<T>::width != 0;
    for (int64_t n = group.first; n < group.last; ++n) {
        for (int64_t j0 = 0; j0 < per_image; j0 += kVectors) {
            const bool partial = ragged && j0 + kVectors >= per_image;
            for (int64_t c0 = 0; c0 < job.channels; c0 += kTile) {
                switch (std::min<int64_t>(kVectors, per_image - j0)) {
                case 1: corrected_input_gradient<T, 1>(job, n, j0, c0, partial); break;
                case 2: corrected_input_gradient<T, 2>(job, n, j0, c0, partial); break;
                case 3: corrected_input_gradient<T, 3>(job, n, j0, c0, partial); break;
                default: corrected_input_gradient<T, 4>(job, n, j0, c0, partial); break;
                }
            }
        }
    }
}

// The batch statistics of x [N, C, P]: each group's Σ x per channel (the first pass, without
// a mean), or its Σ (x − μ)(x − μ)ᵀ (the second), in double, an image at a time.
template <typename T> struct MomentsJob {
    const T *x, *mean;  // x [N, C, P]; mean [C], or null in the first pass
    int64_t channels, images, positions, group;
    double *sums;  // per group: [C] in the first pass, [C, C] in the second (the upper triangle)
};

template <typename T> [[gnu::always_inline]] inline double lane_sum(Vec<T> v) {
    double s = 0;
    for (int64_t i = 0; i < Lanes<T>::width; ++i) s += v[i];
    return s;
}

template <typename T> [[gnu::always_inline]] inline void channel_sums(const MomentsJob<T> &job, const Images &group, double *out) {
    constexpr int64_t L = Lanes<T>::width;
    const int64_t P = job.positions, whole = P / L;
    for (int64_t n = group.first; n < group.last; ++n) {
        for (int64_t c = 0; c < job.channels; ++c) {
            const T *row = job.x + (n * job.channels + c) * P;
            Vec<T> s = whole * L < P ? load_partial(row + whole * L, P - whole * L) : Vec<T>{};
            for (int64_t j = 0; j < whole; ++j) s += load(row + j * L);
            out[c] += lane_sum<T>(s);
        }
    }
}

// Σ (x − μ)(x − μ)ᵀ over channels [c0, c0 + kTile) × [c1, c1 + kTile): 4 × 4 lanes of products
// per vector. Channels past C repeat the last one, and are dropped.
template <typename T>
[[gnu::always_inline]] inline void centred_products(const MomentsJob<T> &job, const Images &group, int64_t c0, int64_t c1, double *out) {
    constexpr int64_t L = Lanes<T>::width;
    const int64_t C = job.channels, P = job.positions, whole = P / L;
    int64_t rows[2][kTile];
    Vec<T> mean[2][kTile];
    CT_UNROLL
    for (int c = 0; c < kTile; ++c) {
        rows[0][c] = std::min(c0 + c, C - 1);
        rows[1][c] = std::min(c1 + c, C - 1);
        mean[0][c] = splat<T>(job.mean[rows[0][c]]);
        mean[1][c] = splat<T>(job.mean[rows[1][c]]);
    }
    const Vec<T> keep = lanes_below<T>(P - whole * L);
    for (int64_t n = group.first; n < group.last; ++n) {
        const T *x = job.x + n * C * P;
        Vec<T> acc[kTile][kTile] = {};
        // The partial vector in a copy of its own (load_partial's copy is a call).
        auto step = [&](int64_t j, auto partial) __attribute__((always_inline)) {
            Vec<T> u[kTile], v[kTile];
            CT_UNROLL
            for (int c = 0; c < kTile; ++c) {
                if constexpr (decltype(partial)::value) {
                    u[c] = load_partial(x + rows[0][c] * P + j * L, P - j * L) - mean[0][c];
                    v[c] = load_partial(x + rows[1][c] * P + j * L, P - j * L) - mean[1][c];
                    u[c] = keep > 0 ? u[c] : Vec<T>{};
                } else {
                    u[c] = load(x + rows[0][c] * P + j * L) - mean[0][c];
                    v[c] = load(x + rows[1][c] * P + j * L) - mean[1][c];
                }
            }
            CT_UNROLL
            for (int r = 0; r < kTile; ++r) {
                CT_UNROLL
                for (int s = 0; s < kTile; ++s) acc[r][s] += u[r] * v[s];
            }
        };
        for (int64_t j = 0; j < whole; ++j) step(j, std::false_type{});
        if (whole * L < P) step(whole, std::true_type{});
        for (int r = 0; r < kTile && c0 + r < C; ++r) {
            for (int s = 0; s < kTile && c1 + s < C; ++s) out[(c0 + r) * C + c1 + s] += lane_sum<T>(acc[r][s]);
        }
    }
}

template <typename T> [[gnu::always_inline]] inline void moments_group(const MomentsJob<T> &job, int64_t index) {
    Images group(index, job.group, job.images);
    const int64_t C = job.channels;
    if (!job.mean) return channel_sums(job, group, job.sums + index * C);
    for (int64_t c0 = 0; c0 < C; c0 += kTile) {
        for (int64_t c1 = c0; c1 < C; c1 += kTile) centred_products(job, group, c0, c1, job.sums + index * C * C);
    }
}

// The ReLU's mask of a tile of GEMM output, for mean pooling: the forward keeps it, 16 positions
// to a word, so that the backward builds dL/dy = mask · factor from it instead of recomputing
// the tile's GEMM. y is the tile's W'x [D, images·positions] without b'.
template <typename T> struct MaskJob {
    T *y;                  // forward: the tile's W'x; backward: where g is written
    const T *b;            // [D]
    const T *factor;       // [D, N]: the pooling's factor, backward only
    uint16_t *bits;        // [D, images, words]
    T *sums;               // forward: [D, N], the pooled sums; backward: [D], S1
    int64_t image, images, positions, words, batch;  // the tile's first image, its images; N = batch
};

// Rows [first, last): each (row, image) segment's Σ ReLU(y + b) into sums, and its mask. A
// value passes unless it is ≤ 0, so that NaN passes as it does through torch's ReLU.
template <typename T> [[gnu::always_inline]] inline void mask_sums_rows(const MaskJob<T> &job, int64_t first, int64_t last) {
    constexpr int64_t L = Lanes<T>::width;
    const int64_t P = job.positions, whole = P / 16;
    for (int64_t d = first; d < last; ++d) {
        for (int64_t i = 0; i < job.images; ++i) {
            const T *y = job.y + (d * job.images + i) * P;
            uint16_t *bits = job.bits + (d * job.images + i) * job.words;
            const T b = job.b[d];
            Vec<T> sum{};
            for (int64_t k = 0; k < whole; ++k) {
                uint32_t word = 0;
                CT_UNROLL
                for (int v = 0; v < 16 / L; ++v) {
                    Vec<T> value = load(y + k * 16 + v * L) + splat<T>(b);
                    auto on = (value <= Vec<T>{}) == 0;
                    sum += on ? value : Vec<T>{};
                    word |= bits_of<T>(on) << (v * L);
                }
                bits[k] = static_cast<uint16_t>(word);
            }
            T rest = 0;
            if (whole * 16 < P) {
                uint32_t word = 0;
                for (int64_t p = whole * 16; p < P; ++p) {
                    T value = y[p] + b;
                    if (!(value <= 0)) {
                        word |= uint32_t{1} << (p - whole * 16);
                        rest += value;
                    }
                }
                bits[whole] = static_cast<uint16_t>(word);
            }
            job.sums[d * job.batch + job.image + i] += horizontal_sum<T>(sum) + rest;
        }
    }
}

// Rows [first, last): g = mask · the segment's factor, written over y, and Σ g into S1.
template <typename T> [[gnu::always_inline]] inline void mask_gradient_rows(const MaskJob<T> &job, int64_t first, int64_t last) {
    constexpr int64_t L = Lanes<T>::width;
    const int64_t P = job.positions, whole = P / 16;
    for (int64_t d = first; d < last; ++d) {
        Vec<T> sum{};
        T rest = 0;
        for (int64_t i = 0; i < job.images; ++i) {
            T *g = job.y + (d * job.images + i) * P;
            const uint16_t *bits = job.bits + (d * job.images + i) * job.words;
            const T f = job.factor[d * job.batch + job.image + i];
            const Vec<T> factor = splat<T>(f);
            for (int64_t k = 0; k < whole; ++k) {
                CT_UNROLL
                for (int v = 0; v < 16 / L; ++v) {
                    Vec<T> value = where_bits<T>(static_cast<uint32_t>(bits[k]) >> (v * L), factor);
                    std::memcpy(g + k * 16 + v * L, &value, sizeof value);
                    sum += value;
                }
            }
            for (int64_t p = whole * 16; p < P; ++p) {
                g[p] = (bits[whole] >> (p - whole * 16)) & 1 ? f : T(0);
                rest += g[p];
            }
        }
        job.sums[d] += horizontal_sum<T>(sum) + rest;
    }
}

// One compiled copy of each kernel per instruction set (on x86-64; elsewhere the compiler's
// own vectors for the target).
template <typename T> void sums_baseline(const SumsJob<T> &j, int64_t i) { sums_of_group(j, i); }
template <typename T> void backward_baseline(const BackwardJob<T> &j, int64_t i, BackwardLanes<T> &o) { backward_group(j, i, o); }
template <typename T> void input_gradient_baseline(const BackwardJob<T> &j, int64_t i) { input_gradient_group(j, i); }
template <typename T> void moments_baseline(const MomentsJob<T> &j, int64_t i) { moments_group(j, i); }
template <typename T> void mask_sums_baseline(const MaskJob<T> &j, int64_t a, int64_t b) { mask_sums_rows(j, a, b); }
template <typename T> void mask_gradient_baseline(const MaskJob<T> &j, int64_t a, int64_t b) { mask_gradient_rows(j, a, b); }

#if defined(__x86_64__)
#define CT_KERNEL_VARIANT(suffix, isa)                                                                                  \
    template <typename T> [[gnu::target(isa)]] void sums_##suffix(const SumsJob<T> &j, int64_t i) {                    \
        sums_of_group(j, i);                                                                                            \
    }                                                                                                                   \
    template <typename T>                                                                                               \
    [[gnu::target(isa)]] void backward_##suffix(const BackwardJob<T> &j, int64_t i, BackwardLanes<T> &o) {             \
        backward_group(j, i, o);                                                                                        \
    }                                                                                                                   \
    template <typename T> [[gnu::target(isa)]] void input_gradient_##suffix(const BackwardJob<T> &j, int64_t i) {      \
        input_gradient_group(j, i);                                                                                     \
    }                                                                                                                   \
    template <typename T> [[gnu::target(isa)]] void moments_##suffix(const MomentsJob<T> &j, int64_t i) {              \
        moments_group(j, i);                                                                                            \
    }                                                                                                                   \
    template <typename T> [[gnu::target(isa)]] void mask_sums_##suffix(const MaskJob<T> &j, int64_t a, int64_t b) {    \
        mask_sums_rows(j, a, b);                                                                                        \
    }                                                                                                                   \
    template <typename T> [[gnu::target(isa)]] void mask_gradient_##suffix(const MaskJob<T> &j, int64_t a, int64_t b) { \
        mask_gradient_rows(j, a, b);                                                                                    \
    }
CT_KERNEL_VARIANT(avx512, "avx512f")
CT_KERNEL_VARIANT(avx2, "avx2,fma")
#undef CT_KERNEL_VARIANT

// The copy of a kernel for the CPU's instruction set.
#define CT_RUN(kernel, ...)                                                                                             \
    switch (instruction_set()) {                                                                                        \
    case InstructionSet::avx512: return kernel##_avx512(__VA_ARGS__);                                                   \
    case InstructionSet::avx2: return kernel##_avx2(__VA_ARGS__);                                                       \
    case InstructionSet::baseline: return kernel##_baseline(__VA_ARGS__);                                               \
    }
#else
#define CT_RUN(kernel, ...) return kernel##_baseline(__VA_ARGS__);
#endif
template <typename T> void run_sums(const SumsJob<T> &job, int64_t index) { CT_RUN(sums, job, index) }
template <typename T> void run_backward(const BackwardJob<T> &job, int64_t index, BackwardLanes<T> &out) { CT_RUN(backward, job, index, out) }
template <typename T> void run_input_gradient(const BackwardJob<T> &job, int64_t index) { CT_RUN(input_gradient, job, index) }
template <typename T> void run_moments(const MomentsJob<T> &job, int64_t index) { CT_RUN(moments, job, index) }
template <typename T> void run_mask_sums(const MaskJob<T> &job, int64_t first, int64_t last) { CT_RUN(mask_sums, job, first, last) }
template <typename T> void run_mask_gradient(const MaskJob<T> &job, int64_t first, int64_t last) {
    CT_RUN(mask_gradient, job, first, last)
}
#undef CT_RUN

// w and b with zero rows added up to a multiple of kRows (most heads have one already).
std::pair<at::Tensor, at::Tensor> padded_rows(const at::Tensor &w, const at::Tensor &b) {
    int64_t expanded = w.size(0), rows = (expanded + kRows - 1) / kRows * kRows;
    if (rows == expanded) return {w, b};
    at::Tensor wp = at::zeros({rows, w.size(1)}, w.options()), bp = at::zeros({rows}, b.options());
    wp.narrow(0, 0, expanded).copy_(w);
    bp.narrow(0, 0, expanded).copy_(b);
    return {wp, bp};
}

} // namespace

// The kernels reach about 100 GFLOP/s on the 2-core test machine at any C (their multiply-adds
// are the bound); GEMMs over tiles reach 46 at C = 16, 77 at 32, 105 at 64 and 110 to 145 at
// 128 and more, where OpenBLAS's blocking beats this simple one (forward, D = 512, 32²).
// Timed alone, the kernels with the mask also beat the tiles at C = 64 to 512, by up to 3×, but
// inside the bench config's step (`bench --profile`, C = 64 to 512) their forward gains less
// than their backward loses: block 1's head forward 257 → 195 ms, its backward 549 → 764 ms.
constexpr int64_t kMostChannels = 32;

bool cpu_kernels_apply(const at::Tensor &x) {
    return x.device().is_cpu() && (x.scalar_type() == at::kFloat || x.scalar_type() == at::kDouble) && x.dim() >= 2 &&
           x.size(1) <= kMostChannels;
}

int64_t kernel_group(const at::Tensor &x, int64_t expanded, int64_t tile_elements) {
    int64_t images = x.size(0), positions = x.size(2);
    if (tile_elements > 0) return std::max<int64_t>(1, tile_elements / (expanded * positions));
    int64_t block = x.scalar_type() == at::kDouble ? kBlock<double> : kBlock<float>;
    // At least 32 register blocks a group, so that its partial last block costs little, and at
    // least 4 groups a thread where the batch allows, so that the threads finish together.
    int64_t enough = (32 * block + positions - 1) / positions;
    int64_t balanced = std::max<int64_t>(1, images / (4 * static_cast<int64_t>(at::get_num_threads())));
    return std::max<int64_t>(1, std::min(enough, balanced));
}

at::Tensor pooled_sums(const at::Tensor &x, const at::Tensor &w, const at::Tensor &b, Pooling pooling, int64_t group, at::Tensor *mask) {
    TORCH_CHECK(cpu_kernels_apply(x) && x.is_contiguous() && x.dim() == 3 && group > 0,
                "pooled_sums: expected a contiguous [N, C, P] CPU tensor and a group of images");
    at::Tensor wp, bp;
    std::tie(wp, bp) = padded_rows(w.contiguous(), b.contiguous());
    int64_t images = x.size(0), groups = (images + group - 1) / group;
    at::Tensor sums = at::zeros({w.size(0), images}, x.options());
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "pooled_sums", [&] {
        uint16_t *bits = nullptr;
        if (mask) {
            *mask = at::empty({2 * mask_length<scalar_t>(w.size(0), images, x.size(2))}, x.options().dtype(at::kByte));
            bits = reinterpret_cast<uint16_t *>(mask->data_ptr<uint8_t>());
        }
        SumsJob<scalar_t> job{x.data_ptr<scalar_t>(), wp.data_ptr<scalar_t>(), bp.data_ptr<scalar_t>(), x.size(1), images,
                              x.size(2), wp.size(0), w.size(0), group, pooling, sums.data_ptr<scalar_t>(), bits};
        ctorch::parallel_for(0, groups, 1, [&](int64_t first, int64_t last) {
            for (int64_t i = first; i < last; ++i) run_sums(job, i);
        });
    });
    return sums;
}

std::pair<at::Tensor, at::Tensor> channel_moments(const at::Tensor &x, int64_t group) {
    TORCH_CHECK(cpu_kernels_apply(x) && x.is_contiguous() && x.dim() == 3 && group > 0,
                "channel_moments: expected a contiguous [N, C, P] CPU tensor and a group of images");
    const int64_t images = x.size(0), channels = x.size(1), positions = x.size(2), groups = (images + group - 1) / group;
    const double count = static_cast<double>(images * positions);
    TORCH_CHECK(count > 1, "Expected more than 1 value per channel when training, got ", images * positions);
    at::Tensor mean = at::empty({channels}, x.options()), covariance = at::empty({channels, channels}, x.options());
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "channel_moments", [&] {
        // Each group's sums apart, added in group order: the same sums on any number of threads.
        std::vector<double> sums(static_cast<size_t>(groups * channels), 0.0);
        MomentsJob<scalar_t> job{x.data_ptr<scalar_t>(), nullptr, channels, images, positions, group, sums.data()};
        auto run = [&] {
            ctorch::parallel_for(0, groups, 1, [&](int64_t first, int64_t last) {
                for (int64_t i = first; i < last; ++i) run_moments(job, i);
            });
        };
        run();
        auto *mu = mean.data_ptr<scalar_t>();
        for (int64_t c = 0; c < channels; ++c) {
            double total = 0;
            for (int64_t g = 0; g < groups; ++g) total += sums[g * channels + c];
            mu[c] = static_cast<scalar_t>(total / count);
        }
        sums.assign(static_cast<size_t>(groups * channels * channels), 0.0);
        job.mean = mu;
        job.sums = sums.data();
        run();
        auto *sigma = covariance.data_ptr<scalar_t>();
        for (int64_t i = 0; i < channels; ++i) {
            for (int64_t j = i; j < channels; ++j) {
                double total = 0;
                for (int64_t g = 0; g < groups; ++g) total += sums[(g * channels + i) * channels + j];
                sigma[i * channels + j] = sigma[j * channels + i] = static_cast<scalar_t>(total / count);
            }
        }
    });
    return {mean, covariance};
}

void pooling_backward(const at::Tensor &x, const at::Tensor &w, const at::Tensor &b, const at::Tensor &factor, Pooling pooling,
                      int64_t group, const at::Tensor &mask, at::Tensor *dx, at::Tensor &g_x, at::Tensor &sum_g,
                      const std::function<InputCorrection(const at::Tensor &, const at::Tensor &)> &correct) {
    TORCH_CHECK(cpu_kernels_apply(x) && x.is_contiguous() && x.dim() == 3 && factor.is_contiguous() && group > 0,
                "pooling_backward: expected a contiguous [N, C, P] CPU tensor, a contiguous factor and a group of images");
    TORCH_CHECK(!mask.defined() || pooling == Pooling::mean, "pooling_backward: a mask serves mean pooling only");
    at::Tensor wp, bp;
    std::tie(wp, bp) = padded_rows(w.contiguous(), b.contiguous());
    int64_t images = x.size(0), channels = x.size(1), rows = wp.size(0), expanded = w.size(0);
    int64_t groups = (images + group - 1) / group;
    if (dx) *dx = at::empty_like(x);
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "pooling_backward", [&] {
        const uint16_t *bits = nullptr;
        if (mask.defined()) {
            TORCH_CHECK(mask.numel() == 2 * mask_length<scalar_t>(expanded, images, x.size(2)), "pooling_backward: the mask is not this input's");
            bits = reinterpret_cast<const uint16_t *>(mask.data_ptr<uint8_t>());
        }
        BackwardJob<scalar_t> job{x.data_ptr<scalar_t>(), wp.data_ptr<scalar_t>(), bp.data_ptr<scalar_t>(),
                                  factor.data_ptr<scalar_t>(), channels, images, x.size(2), rows, expanded, group, pooling,
                                  dx ? dx->data_ptr<scalar_t>() : nullptr, bits, nullptr, nullptr};
        // Each task's groups sum into lanes of its own; the tasks are then added in the order of
        // their groups, so that a given thread count always gives the same sums.
        std::mutex lock;
        std::map<int64_t, BackwardLanes<scalar_t>> chunks;
        ctorch::parallel_for(0, groups, 1, [&](int64_t first, int64_t last) {
            BackwardLanes<scalar_t> lanes;
            lanes.g_x.assign(static_cast<size_t>(rows * channels), Vec<scalar_t>{});
            lanes.sum_g.assign(static_cast<size_t>(rows), Vec<scalar_t>{});
            for (int64_t i = first; i < last; ++i) run_backward(job, i, lanes);
            std::lock_guard<std::mutex> hold(lock);
            chunks.emplace(first, std::move(lanes));
        });
        auto *gx = g_x.data_ptr<scalar_t>();
        auto *sg = sum_g.data_ptr<scalar_t>();
        for (const auto &chunk : chunks) {
            const BackwardLanes<scalar_t> &lanes = chunk.second;
            for (int64_t d = 0; d < expanded; ++d) {
                sg[d] += horizontal_sum<scalar_t>(lanes.sum_g[d]);
                for (int64_t c = 0; c < channels; ++c) gx[d * channels + c] += horizontal_sum<scalar_t>(lanes.g_x[d * channels + c]);
            }
        }
        if (!dx) return;
        InputCorrection correction = correct(g_x, sum_g);
        if (!correction.a.defined()) return;
        at::Tensor a = correction.a.to(x.scalar_type()).contiguous(), shift = correction.shift.to(x.scalar_type()).contiguous();
        TORCH_CHECK(a.sizes() == at::IntArrayRef({channels, channels}) && shift.sizes() == at::IntArrayRef({channels}),
                    "pooling_backward: expected a correction A [", channels, ", ", channels, "] and shift [", channels, "]");
        job.a = a.data_ptr<scalar_t>();
        job.shift = shift.data_ptr<scalar_t>();
        ctorch::parallel_for(0, groups, 1, [&](int64_t first, int64_t last) {
            for (int64_t i = first; i < last; ++i) run_input_gradient(job, i);
        });
    });
}

bool masks_apply(const at::Tensor &x, Pooling pooling) {
    return pooling == Pooling::mean && x.device().is_cpu() && (x.scalar_type() == at::kFloat || x.scalar_type() == at::kDouble);
}

int64_t mask_words(int64_t positions) { return (positions + 15) / 16; }

// Rows per task: enough of the tile that a thread's share outweighs handing it out.
static int64_t row_grain(const at::Tensor &y) { return std::max<int64_t>(1, (int64_t{1} << 15) / std::max<int64_t>(1, y.size(1))); }

void mask_sums(const at::Tensor &y, const at::Tensor &b, int64_t image, int64_t images, int64_t positions, at::Tensor &sums,
               uint16_t *bits) {
    TORCH_CHECK(y.is_contiguous() && y.dim() == 2 && y.size(1) == images * positions && sums.is_contiguous() && b.is_contiguous(),
                "mask_sums: expected a contiguous [D, images·positions] tile");
    AT_DISPATCH_FLOATING_TYPES(y.scalar_type(), "mask_sums", [&] {
        MaskJob<scalar_t> job{y.data_ptr<scalar_t>(), b.data_ptr<scalar_t>(), nullptr, bits, sums.data_ptr<scalar_t>(),
                              image, images, positions, mask_words(positions), sums.size(1)};
        ctorch::parallel_for(0, y.size(0), row_grain(y), [&](int64_t first, int64_t last) { run_mask_sums(job, first, last); });
    });
}

void mask_gradient(at::Tensor &g, const uint16_t *bits, const at::Tensor &factor, int64_t image, int64_t images, int64_t positions,
                   at::Tensor &sum_g) {
    TORCH_CHECK(g.is_contiguous() && g.dim() == 2 && g.size(1) == images * positions && factor.is_contiguous() && sum_g.is_contiguous(),
                "mask_gradient: expected a contiguous [D, images·positions] tile and a contiguous factor");
    AT_DISPATCH_FLOATING_TYPES(g.scalar_type(), "mask_gradient", [&] {
        MaskJob<scalar_t> job{g.data_ptr<scalar_t>(), nullptr, factor.data_ptr<scalar_t>(), const_cast<uint16_t *>(bits),
                              sum_g.data_ptr<scalar_t>(), image, images, positions, mask_words(positions), factor.size(1)};
        ctorch::parallel_for(0, g.size(0), row_grain(g), [&](int64_t first, int64_t last) { run_mask_gradient(job, first, last); });
    });
}

} // namespace ctorch

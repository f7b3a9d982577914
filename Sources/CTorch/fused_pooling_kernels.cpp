// CPU kernels of the fused pooling head. The expansion y = W'x + b' is computed in registers,
// 4 output channels × 4 vectors of positions at a time, and is pooled (forward) or turned into
// dL/dy (backward) before it leaves them. As GEMMs over tiles, each expanded value is written
// to memory and read back by the ReLU, the pooling and the gradient: with few input channels a
// value costs only C multiply-adds, so those passes, not the products, set the time (the
// demo's block 1 expands 16 channels to 256). From about 64 input channels OpenBLAS's GEMMs are
// faster than these kernels' simple blocking, so the node uses them only below that.
//
// The kernels are written once on 64-byte vectors (clang's vector extensions) and compiled for
// AVX-512, AVX2 + FMA and the x86-64 baseline; the CPU picks one on first use.
#include "fused_pooling.hpp"
#include "pooling_lanes.hpp"
#include "vectors.hpp"
#include "parallel.hpp"
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

// Positions per register block.
template <typename T> constexpr int64_t kBlock = Lanes<T>::width * kVectors;

// A block of columns of x, packed: x's rows are a whole batch apart, so a block read in place
// maps its C rows to the same few sets of L1 and evicts itself; packed into C × block values it
// stays in L1 for every output channel. The last, partial block is padded with zeros.
template <typename T> struct Block {
    const T *data;  // [C, block]
    int64_t valid;  // columns of x in it
};
template <typename T> Block<T> block_at(const T *x, int64_t stride, int64_t channels, int64_t valid, std::vector<T> &packed) {
    constexpr int64_t B = kBlock<T>;
    packed.resize(static_cast<size_t>(channels * B));
    for (int64_t c = 0; c < channels; ++c) {
        std::memcpy(&packed[c * B], x + c * stride, valid * sizeof(T));
        if (valid < B) std::memset(&packed[c * B + valid], 0, (B - valid) * sizeof(T));
    }
    return {packed.data(), valid};
}

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
        const T *xc = x.data + c * kBlock<T>;
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

// Blocks run over the columns of x [C, images·positions], across images, so that small feature
// maps fill them too. A block inside one image reduces in vector lanes; for a block across
// images (or the last, partial one), a mask per image covered selects its lanes.
template <typename T> struct ColumnBlock {
    int64_t first_image = 0, images = 0;
    bool masked = false;
    std::vector<Vec<T>> masks;  // [images][kVectors]: 1 in the lanes of that image's positions

    void cover(int64_t column, int64_t valid, int64_t positions) {
        constexpr int64_t L = Lanes<T>::width;
        first_image = column / positions;
        images = (column + valid - 1) / positions - first_image + 1;
        masked = images > 1 || valid < kBlock<T>;
        if (!masked) return;
        masks.assign(static_cast<size_t>(images * kVectors), Vec<T>{});
        for (int64_t k = 0; k < valid; ++k) masks[((column + k) / positions - first_image) * kVectors + k / L][k % L] = 1;
    }
    const Vec<T> &mask(int64_t image, int v) const { return masks[image * kVectors + v]; }
};

template <typename T> struct SumsJob {
    const T *x, *w, *b;  // x channel-major [C, N, P]; w [rows, C]; b [rows]
    int64_t channels, images, positions, rows, expanded;
    Pooling pooling;
    T *sums;  // [D, N], zero
};

// Images [first, last): their columns of sums.
template <typename T> [[gnu::always_inline]] inline void sums_of_images(const SumsJob<T> &job, int64_t first, int64_t last) {
    constexpr int64_t B = kBlock<T>;
    std::vector<Vec<T>> lanes(static_cast<size_t>(job.rows));
    std::vector<T> packed;
    ColumnBlock<T> block;
    int64_t held = -1;  // the image whose sums the lanes hold
    auto flush = [&] {
        if (held < 0) return;
        for (int64_t d = 0; d < job.expanded; ++d) job.sums[d * job.images + held] += horizontal_sum<T>(lanes[d]);
        std::fill(lanes.begin(), lanes.end(), Vec<T>{});
    };
    int64_t end = last * job.positions;
    for (int64_t column = first * job.positions; column < end; column += B) {
        Block<T> x = block_at(job.x + column, job.images * job.positions, job.channels, std::min(B, end - column), packed);
        block.cover(column, x.valid, job.positions);
        if (block.images == 1 && block.first_image != held) {
            flush();
            held = block.first_image;
        }
        for (int64_t d0 = 0; d0 < job.rows; d0 += kRows) {
            Vec<T> acc[kRows][kVectors];
            expand(x, job.channels, job.w, job.b, d0, acc);
            CT_UNROLL
            for (int r = 0; r < kRows; ++r) {
                Vec<T> value[kVectors];
                CT_UNROLL
                for (int v = 0; v < kVectors; ++v) value[v] = pooled<T>(acc[r][v], job.pooling);
                if (block.images == 1) {
                    Vec<T> s{};
                    CT_UNROLL
                    for (int v = 0; v < kVectors; ++v) s += block.masked ? value[v] * block.mask(0, v) : value[v];
                    lanes[d0 + r] += s;
                } else if (d0 + r < job.expanded) {
                    for (int64_t i = 0; i < block.images; ++i) {
                        Vec<T> s{};
                        CT_UNROLL
                        for (int v = 0; v < kVectors; ++v) s += value[v] * block.mask(i, v);
                        job.sums[(d0 + r) * job.images + block.first_image + i] += horizontal_sum<T>(s);
                    }
                }
            }
        }
    }
    flush();
}

template <typename T> struct BackwardJob {
    const T *x, *w, *b, *factor;  // x channel-major [C, N, P]; w [rows, C]; b [rows]; factor [D, N]
    int64_t channels, images, positions, rows, expanded;
    Pooling pooling;
    T *dx;  // [C, N, P], or null when x needs no gradient
};

// One chunk of images' part of G = Σ g xᵀ and S1 = Σ g, in vector lanes: [rows][C] and [rows].
template <typename T> struct BackwardLanes {
    std::vector<Vec<T>> g_x, sum_g;
};

// Images [first, last): g = dL/dy computed in registers a block of 4 channels × 4 vectors at a
// time, and at once taken into G and S1 (the chunk's lanes) and into W'ᵀ g (their columns of dx).
template <typename T>
[[gnu::always_inline]] inline void backward_images(const BackwardJob<T> &job, int64_t first, int64_t last, BackwardLanes<T> &out) {
    constexpr int64_t L = Lanes<T>::width, B = kBlock<T>;
    const int64_t C = job.channels;
    out.g_x.assign(static_cast<size_t>(job.rows * C), Vec<T>{});
    out.sum_g.assign(static_cast<size_t>(job.rows), Vec<T>{});
    std::vector<T> packed;
    std::vector<Vec<T>> dx(static_cast<size_t>(C * kVectors));  // the block's columns of W'ᵀ g
    ColumnBlock<T> block;
    int64_t end = last * job.positions, ld = job.images * job.positions;
    for (int64_t column = first * job.positions; column < end; column += B) {
        Block<T> x = block_at(job.x + column, ld, C, std::min(B, end - column), packed);
        block.cover(column, x.valid, job.positions);
        std::fill(dx.begin(), dx.end(), Vec<T>{});
        for (int64_t d0 = 0; d0 < job.rows; d0 += kRows) {
            Vec<T> g[kRows][kVectors];
            expand(x, C, job.w, job.b, d0, g);
            CT_UNROLL
            for (int r = 0; r < kRows; ++r) {
                int64_t d = std::min(d0 + r, job.expanded - 1);
                const T *factors = job.factor + d * job.images + block.first_image;
                // Each lane's factor: its image's, selected rather than multiplied by the masks
                // (another image's factor may be infinite); lanes past the last position, and
                // the rows that only pad w, get 0.
                Vec<T> factor[kVectors];
                CT_UNROLL
                for (int v = 0; v < kVectors; ++v) factor[v] = block.masked || d0 + r >= job.expanded ? Vec<T>{} : splat<T>(factors[0]);
                for (int64_t i = 0; block.masked && d0 + r < job.expanded && i < block.images; ++i) {
                    CT_UNROLL
                    for (int v = 0; v < kVectors; ++v) factor[v] = block.mask(i, v) > 0 ? splat<T>(factors[i]) : factor[v];
                }
                CT_UNROLL
                for (int v = 0; v < kVectors; ++v) g[r][v] = gradient<T>(g[r][v], factor[v], job.pooling);
                Vec<T> s{};
                CT_UNROLL
                for (int v = 0; v < kVectors; ++v) s += g[r][v];
                out.sum_g[d0 + r] += s;
            }
            for (int64_t c = 0; c < C; ++c) {
                Vec<T> xv[kVectors];
                CT_UNROLL
                for (int v = 0; v < kVectors; ++v) xv[v] = load(x.data + c * B + v * L);
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
            T *to = job.dx + c * ld + column;
            const T *from = reinterpret_cast<const T *>(&dx[c * kVectors]);
            std::memcpy(to, from, x.valid * sizeof(T));
        }
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
template <typename T> void sums_baseline(const SumsJob<T> &j, int64_t a, int64_t b) { sums_of_images(j, a, b); }
template <typename T> void backward_baseline(const BackwardJob<T> &j, int64_t a, int64_t b, BackwardLanes<T> &o) {
    backward_images(j, a, b, o);
}
template <typename T> void mask_sums_baseline(const MaskJob<T> &j, int64_t a, int64_t b) { mask_sums_rows(j, a, b); }
template <typename T> void mask_gradient_baseline(const MaskJob<T> &j, int64_t a, int64_t b) { mask_gradient_rows(j, a, b); }

#if defined(__x86_64__)
#define CT_KERNEL_VARIANT(suffix, isa)                                                                                  \
    template <typename T> [[gnu::target(isa)]] void sums_##suffix(const SumsJob<T> &j, int64_t a, int64_t b) {         \
        sums_of_images(j, a, b);                                                                                        \
    }                                                                                                                   \
    template <typename T>                                                                                               \
    [[gnu::target(isa)]] void backward_##suffix(const BackwardJob<T> &j, int64_t a, int64_t b, BackwardLanes<T> &o) {  \
        backward_images(j, a, b, o);                                                                                    \
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

template <typename T> void run_sums(const SumsJob<T> &job, int64_t first, int64_t last) {
    switch (instruction_set()) {
    case InstructionSet::avx512: return sums_avx512(job, first, last);
    case InstructionSet::avx2: return sums_avx2(job, first, last);
    case InstructionSet::baseline: return sums_baseline(job, first, last);
    }
}
template <typename T> void run_backward(const BackwardJob<T> &job, int64_t first, int64_t last, BackwardLanes<T> &out) {
    switch (instruction_set()) {
    case InstructionSet::avx512: return backward_avx512(job, first, last, out);
    case InstructionSet::avx2: return backward_avx2(job, first, last, out);
    case InstructionSet::baseline: return backward_baseline(job, first, last, out);
    }
}
template <typename T> void run_mask_sums(const MaskJob<T> &job, int64_t first, int64_t last) {
    switch (instruction_set()) {
    case InstructionSet::avx512: return mask_sums_avx512(job, first, last);
    case InstructionSet::avx2: return mask_sums_avx2(job, first, last);
    case InstructionSet::baseline: return mask_sums_baseline(job, first, last);
    }
}
template <typename T> void run_mask_gradient(const MaskJob<T> &job, int64_t first, int64_t last) {
    switch (instruction_set()) {
    case InstructionSet::avx512: return mask_gradient_avx512(job, first, last);
    case InstructionSet::avx2: return mask_gradient_avx2(job, first, last);
    case InstructionSet::baseline: return mask_gradient_baseline(job, first, last);
    }
}
#else
template <typename T> void run_mask_sums(const MaskJob<T> &job, int64_t first, int64_t last) { mask_sums_baseline(job, first, last); }
template <typename T> void run_mask_gradient(const MaskJob<T> &job, int64_t first, int64_t last) {
    mask_gradient_baseline(job, first, last);
}
template <typename T> void run_sums(const SumsJob<T> &job, int64_t first, int64_t last) { sums_baseline(job, first, last); }
template <typename T> void run_backward(const BackwardJob<T> &job, int64_t first, int64_t last, BackwardLanes<T> &out) {
    backward_baseline(job, first, last, out);
}
#endif

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
constexpr int64_t kMostChannels = 32;

bool cpu_kernels_apply(const at::Tensor &x) {
    return x.device().is_cpu() && (x.scalar_type() == at::kFloat || x.scalar_type() == at::kDouble) && x.dim() >= 2 &&
           x.size(0) <= kMostChannels;
}

at::Tensor pooled_sums(const at::Tensor &x, const at::Tensor &w, const at::Tensor &b, Pooling pooling) {
    TORCH_CHECK(cpu_kernels_apply(x) && x.is_contiguous() && x.dim() == 3, "pooled_sums: expected a contiguous [C, N, P] CPU tensor");
    at::Tensor wp, bp;
    std::tie(wp, bp) = padded_rows(w.contiguous(), b.contiguous());
    int64_t images = x.size(1);
    at::Tensor sums = at::zeros({w.size(0), images}, x.options());
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "pooled_sums", [&] {
        SumsJob<scalar_t> job{x.data_ptr<scalar_t>(), wp.data_ptr<scalar_t>(), bp.data_ptr<scalar_t>(), x.size(0), images,
                              x.size(2), wp.size(0), w.size(0), pooling, sums.data_ptr<scalar_t>()};
        ctorch::parallel_for(0, images, 1, [&](int64_t first, int64_t last) { run_sums(job, first, last); });
    });
    return sums;
}

void pooling_backward(const at::Tensor &x, const at::Tensor &w, const at::Tensor &b, const at::Tensor &factor, Pooling pooling,
                      at::Tensor *dx, at::Tensor &g_x, at::Tensor &sum_g) {
    TORCH_CHECK(cpu_kernels_apply(x) && x.is_contiguous() && x.dim() == 3 && factor.is_contiguous(),
                "pooling_backward: expected a contiguous [C, N, P] CPU tensor and a contiguous factor");
    at::Tensor wp, bp;
    std::tie(wp, bp) = padded_rows(w.contiguous(), b.contiguous());
    int64_t channels = x.size(0), images = x.size(1), rows = wp.size(0), expanded = w.size(0);
    if (dx) *dx = at::empty_like(x);
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "pooling_backward", [&] {
        BackwardJob<scalar_t> job{x.data_ptr<scalar_t>(), wp.data_ptr<scalar_t>(), bp.data_ptr<scalar_t>(),
                                  factor.data_ptr<scalar_t>(), channels, images, x.size(2), rows, expanded, pooling,
                                  dx ? dx->data_ptr<scalar_t>() : nullptr};
        // Each chunk of images sums into lanes of its own; the chunks are then added in the
        // order of their images, so that a given thread count always gives the same sums.
        std::mutex lock;
        std::map<int64_t, BackwardLanes<scalar_t>> chunks;
        ctorch::parallel_for(0, images, 1, [&](int64_t first, int64_t last) {
            BackwardLanes<scalar_t> lanes;
            run_backward(job, first, last, lanes);
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

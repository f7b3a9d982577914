// Normal samples for the noise injected into block outputs, drawn on every thread.
//
// libtorch draws normal samples on the CPU from one sequential generator (mt19937, a uniform at
// a time) on one thread. Drawn in parallel chunks of libtorch's normal_ (each a stream of its
// own), the noise still took 15–26 ms for one view of the demo's block 1 (3.2 M values), about
// 60 ms of its simultaneous step, whose four block outputs take 12 M values (its end-to-end step
// draws 1 M, for its one block). In float32 and bf16 the values come instead from a
// counter-based generator: value pair k is the Box–Muller transform of SplitMix64's output for
// the state s + k·φ, where s is one 64-bit draw from the caller's generator, 16 pairs to a
// vector register: 3.6–4.9 ms for the same view, 4–5× faster. float64 keeps libtorch's
// normal_, a chunk of 2^16 values to a stream seeded from s.
//
// Either way the values depend on the generator's state and the tensor's size only, never on
// the thread count; the caller's generator advances by one draw per call, so its saved state
// replays them (checkpoints, recomputation). The float32 arithmetic is compiled for each
// instruction set, whose multiply-adds round alike but not as the baseline's separate multiply
// and add: another CPU may give values that differ in their last bits.
#include "bridge.hpp"
#include "parallel.hpp"
#include "vectors.hpp"
#include <ATen/CPUGeneratorImpl.h>
#include <c10/util/BFloat16.h>
#include <mutex>

namespace {

using namespace ctorch::vectors;
using Floats = Vec<float>;  // 16 lanes
using Ints = Vec<int32_t>;
using Words = Vec<uint32_t>;
using Counters = Vec<uint64_t>;  // 8 lanes
typedef uint32_t HalfWords __attribute__((vector_size(32)));

constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;  // SplitMix64's increment φ
constexpr int64_t kPairs = 16;                       // Box–Muller pairs per block
constexpr int64_t kBlock = 2 * kPairs;               // values per block: the pairs' cosines, then their sines

// SplitMix64's finaliser: its output for a state (or for 8 states, Z = Counters).
template <typename Z> [[gnu::always_inline]] inline Z mix(Z z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// ln u for u in (0, 1]: Cephes' logf (about 1 ulp), u = m·2^e with m in [√½, √2).
[[gnu::always_inline]] inline Floats log_unit(Floats u) {
    Ints bits = __builtin_bit_cast(Ints, u);
    Ints e = ((bits >> 23) & 0xff) - 126;
    Floats m = __builtin_bit_cast(Floats, (bits & 0x007fffff) | 0x3f000000);  // [0.5, 1)
    auto low = m < 0.70710678118654752f;
    e = low ? e - 1 : e;
    Floats x = (low ? m + m : m) - 1.0f;
    Floats z = x * x;
    Floats p = 7.0376836292e-2f * x - 1.1514610310e-1f;
    p = p * x + 1.1676998740e-1f;
    p = p * x - 1.2420140846e-1f;
    p = p * x + 1.4249322787e-1f;
    p = p * x - 1.6668057665e-1f;
    p = p * x + 2.0000714765e-1f;
    p = p * x - 2.4999993993e-1f;
    p = p * x + 3.3333331174e-1f;
    Floats fe = __builtin_convertvector(e, Floats);
    Floats y = p * x * z - 2.12194440e-4f * fe - 0.5f * z;
    return x + y + 0.693359375f * fe;
}

// cos and sin of 2πt for t in [0, 1): a quarter turn q = round(4t) and the rest φ in [−π/4, π/4],
// with Cephes' sinf and cosf polynomials on φ.
[[gnu::always_inline]] inline void turn(Floats t, Floats &cosine, Floats &sine) {
    Floats quarters = t * 4.0f;
    Ints q = __builtin_convertvector(quarters + 0.5f, Ints);  // round(4t): 4t ≥ 0
    Floats phi = (quarters - __builtin_convertvector(q, Floats)) * 1.57079632679489662f;
    Floats z = phi * phi;
    Floats s = phi + phi * z * ((-1.9515295891e-4f * z + 8.3321608736e-3f) * z - 1.6666654611e-1f);
    Floats c = 1.0f - 0.5f * z + z * z * ((2.443315711809948e-5f * z - 1.388731625493765e-3f) * z + 4.166664568298827e-2f);
    q &= 3;
    cosine = q == 0 ? c : q == 1 ? -s : q == 2 ? -c : s;
    sine = q == 0 ? s : q == 1 ? c : q == 2 ? -s : -c;
}

// The block'th 32 values of the stream from `seed`: the 16 pairs' r·cos θ, then their r·sin θ.
[[gnu::always_inline]] inline void normal_block(uint64_t seed, int64_t block, float std, Floats &cosines, Floats &sines) {
    const Counters lanes = {0, 1, 2, 3, 4, 5, 6, 7};
    const Counters first = lanes + static_cast<uint64_t>(block * kPairs);
    Counters a = mix(seed + first * kGolden), b = mix(seed + (first + 8) * kGolden);
    HalfWords a_high = __builtin_convertvector(a >> 32, HalfWords), b_high = __builtin_convertvector(b >> 32, HalfWords);
    HalfWords a_low = __builtin_convertvector(a, HalfWords), b_low = __builtin_convertvector(b, HalfWords);
    Words high = __builtin_shufflevector(a_high, b_high, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    Words low = __builtin_shufflevector(a_low, b_low, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    // 24-bit uniforms, exact in float: u in (0, 1] (ln u finite), t in [0, 1).
    Floats u = __builtin_convertvector((high >> 8) + 1u, Floats) * 0x1p-24f;
    Floats t = __builtin_convertvector(low >> 8, Floats) * 0x1p-24f;
    Floats r = __builtin_elementwise_sqrt(__builtin_elementwise_max(-2.0f * log_unit(u), Floats{})) * std;
    Floats cosine, sine;
    turn(t, cosine, sine);
    cosines = r * cosine;
    sines = r * sine;
}

typedef uint16_t Halves __attribute__((vector_size(32)));

// The first `count` (at most 16) of v's lanes to `to`; to bf16 rounded to nearest even, as
// c10::BFloat16 rounds (v holds no NaN).
[[gnu::always_inline]] inline void put(float *to, Floats v, int64_t count) {
    if (count == kPairs) return store(to, v);
    std::memcpy(to, &v, static_cast<size_t>(count) * sizeof(float));
}
[[gnu::always_inline]] inline void put(at::BFloat16 *to, Floats v, int64_t count) {
    Words bits = __builtin_bit_cast(Words, v);
    Halves rounded = __builtin_convertvector((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16, Halves);
    if (count == kPairs) return std::memcpy(to, &rounded, sizeof rounded), void();
    std::memcpy(to, &rounded, static_cast<size_t>(count) * sizeof(uint16_t));
}

// Blocks [first, last) of the stream into out, which holds n values.
template <typename T> [[gnu::always_inline]] inline void fill(uint64_t seed, float std, T *out, int64_t n, int64_t first, int64_t last) {
    for (int64_t block = first; block < last; ++block) {
        Floats cosines, sines;
        normal_block(seed, block, std, cosines, sines);
        const int64_t start = block * kBlock;
        put(out + start, cosines, std::min(kPairs, n - start));
        if (start + kPairs < n) put(out + start + kPairs, sines, std::min(kPairs, n - start - kPairs));
    }
}

template <typename T> void fill_baseline(uint64_t s, float std, T *out, int64_t n, int64_t a, int64_t b) { fill(s, std, out, n, a, b); }
#if defined(__x86_64__)
template <typename T>
[[gnu::target("avx512f,avx512dq")]] void fill_avx512(uint64_t s, float std, T *out, int64_t n, int64_t a, int64_t b) {
    fill(s, std, out, n, a, b);
}
template <typename T> [[gnu::target("avx2,fma")]] void fill_avx2(uint64_t s, float std, T *out, int64_t n, int64_t a, int64_t b) {
    fill(s, std, out, n, a, b);
}
#endif

// The n values of the stream from `seed` into out, on every thread.
template <typename T> void fill_all(uint64_t seed, float std, T *out, int64_t n) {
    // Blocks per task: enough that handing them out costs little.
    constexpr int64_t grain = 512;
    ctorch::parallel_for(0, (n + kBlock - 1) / kBlock, grain, [&](int64_t first, int64_t last) {
#if defined(__x86_64__)
        switch (instruction_set()) {
        case InstructionSet::avx512:
            // The 64-bit multiplies of 8 lanes are AVX-512DQ's.
            if (__builtin_cpu_supports("avx512dq")) return fill_avx512(seed, std, out, n, first, last);
            return fill_avx2(seed, std, out, n, first, last);
        case InstructionSet::avx2: return fill_avx2(seed, std, out, n, first, last);
        case InstructionSet::baseline: break;
        }
#endif
        fill_baseline(seed, std, out, n, first, last);
    });
}

// libtorch's normal_ in chunks of 2^16 values, each from a stream of its own.
void fill_chunks(at::Tensor &flat, uint64_t seed, double std) {
    constexpr int64_t kChunk = int64_t(1) << 16;
    const int64_t n = flat.numel(), chunks = (n + kChunk - 1) / kChunk;
    ctorch::parallel_for(0, chunks, 1, [&](int64_t begin, int64_t end) {
        for (int64_t c = begin; c < end; ++c) {
            auto stream = at::make_generator<at::CPUGeneratorImpl>(mix(seed + static_cast<uint64_t>(c) * kGolden));
            flat.narrow(0, c * kChunk, std::min(kChunk, n - c * kChunk)).normal_(0, std, stream);
        }
    });
}

}  // namespace

int32_t ct_normal_noise(const int64_t *shape, int64_t ndim, ct_options o, ct_generator g, double std, ct_tensor *out) {
    CT_GUARD({
        auto options = ctorch::options(o);
        if (options.device().type() != at::kCPU) {
            *out = ctorch::wrap(at::normal(0, std, dims(shape, ndim), ctorch::gen(g), options));
            return 0;
        }
        at::Generator source = g ? g->g : at::detail::getDefaultCPUGenerator();
        uint64_t seed;
        {
            std::lock_guard<std::mutex> lock(source.mutex());
            // A generator of another device is an error here, not a cast.
            seed = at::check_generator<at::CPUGeneratorImpl>(source)->random64();
        }
        auto noise = at::empty(dims(shape, ndim), options);
        auto flat = noise.view({-1});
        switch (noise.scalar_type()) {
        case at::kFloat: fill_all(seed, static_cast<float>(std), flat.data_ptr<float>(), flat.numel()); break;
        case at::kBFloat16: fill_all(seed, static_cast<float>(std), flat.data_ptr<at::BFloat16>(), flat.numel()); break;
        default: fill_chunks(flat, seed, std);
        }
        *out = ctorch::wrap(noise);
    })
}

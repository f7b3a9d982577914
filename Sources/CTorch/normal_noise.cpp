// Normal samples for the noise injected into block outputs, drawn on every thread.
//
// libtorch draws normal samples on the CPU from one sequential generator, on one thread: at
// 4.5 ns a value that was 7% of the demo's simultaneous step, while the other cores waited.
// Here one 64-bit draw from the caller's generator seeds a stream per chunk of kChunk values,
// and the chunks are filled in parallel, each by libtorch's own normal_ on a generator of its
// own. The values depend on the generator's state and the tensor's size only, never on the
// thread count; the caller's generator advances by one draw per call, so its saved state
// replays them (checkpoints, recomputation).
#include "bridge.hpp"
#include <ATen/CPUGeneratorImpl.h>
#include "parallel.hpp"
#include <mutex>

namespace {
constexpr int64_t kChunk = int64_t(1) << 16;

// SplitMix64's finaliser: neighbouring chunk numbers give unrelated seeds.
uint64_t mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
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
        const int64_t n = flat.numel(), chunks = (n + kChunk - 1) / kChunk;
        ctorch::parallel_for(0, chunks, 1, [&](int64_t begin, int64_t end) {
            for (int64_t c = begin; c < end; ++c) {
                auto stream = at::make_generator<at::CPUGeneratorImpl>(mix(seed + static_cast<uint64_t>(c) * 0x9E3779B97F4A7C15ull));
                flat.narrow(0, c * kChunk, std::min(kChunk, n - c * kChunk)).normal_(0, std, stream);
            }
        });
        *out = ctorch::wrap(noise);
    })
}

// Runtime: start-up (CUDA library loading), version, threads, seeds, grad mode, generators.
#include "bridge.hpp"
#include <ATen/Parallel.h>
#include <ATen/Version.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/api/include/torch/version.h>
#include <chrono>
#include <limits>
#include <dlfcn.h>
#include <mutex>
#include <malloc.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {
// Written once, inside load_once(), and only read afterwards: std::call_once orders the
// writes before every reader on any thread.
std::string library_dir;
std::string cuda_library;
std::string init_error;
std::once_flag init_once;

void initialize() {
    ctorch::shorten_openblas_spin();
    Dl_info info;
    if (dladdr(reinterpret_cast<void *>(&at::get_num_threads), &info) && info.dli_fname) {
        std::string path = info.dli_fname;
        library_dir = path.substr(0, path.find_last_of('/'));
    }
    // Linking alone drops libtorch_cuda with --as-needed; loading it registers the CUDA kernels.
    std::string candidate = library_dir + "/libtorch_cuda.so";
    struct stat st;
    if (!library_dir.empty() && stat(candidate.c_str(), &st) == 0) {
        if (dlopen(candidate.c_str(), RTLD_NOW | RTLD_GLOBAL)) {
            cuda_library = candidate;
        } else {
            const char *why = dlerror();
            init_error = "cannot load " + candidate + ": " + (why ? why : "unknown dlopen error");
        }
    }
}

// Every reader of the start-up facts goes through here, so none reads them half-written.
void load_once() { std::call_once(init_once, initialize); }
} // namespace

at::ScalarType ctorch::scalar_type(int32_t code) {
    switch (code) {
    case CT_DTYPE_FLOAT32: return at::kFloat;
    case CT_DTYPE_FLOAT64: return at::kDouble;
    case CT_DTYPE_FLOAT16: return at::kHalf;
    case CT_DTYPE_BFLOAT16: return at::kBFloat16;
    case CT_DTYPE_INT64: return at::kLong;
    case CT_DTYPE_INT32: return at::kInt;
    case CT_DTYPE_UINT8: return at::kByte;
    case CT_DTYPE_BOOL: return at::kBool;
    case CT_DTYPE_INT8: return at::kChar;
    case CT_DTYPE_INT16: return at::kShort;
    }
    throw std::invalid_argument("unknown dtype code " + std::to_string(code));
}

int32_t ctorch::dtype_code(at::ScalarType type) {
    switch (type) {
    case at::kFloat: return CT_DTYPE_FLOAT32;
    case at::kDouble: return CT_DTYPE_FLOAT64;
    case at::kHalf: return CT_DTYPE_FLOAT16;
    case at::kBFloat16: return CT_DTYPE_BFLOAT16;
    case at::kLong: return CT_DTYPE_INT64;
    case at::kInt: return CT_DTYPE_INT32;
    case at::kByte: return CT_DTYPE_UINT8;
    case at::kBool: return CT_DTYPE_BOOL;
    case at::kChar: return CT_DTYPE_INT8;
    case at::kShort: return CT_DTYPE_INT16;
    default: break;
    }
    throw std::invalid_argument(std::string("dtype not supported by the bridge: ") + c10::toString(type));
}

at::Device ctorch::device(int32_t type, int32_t index) {
    switch (type) {
    case CT_DEVICE_CPU: return at::Device(at::kCPU);
    case CT_DEVICE_CUDA: return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index));
    }
    throw std::invalid_argument("unknown device type " + std::to_string(type));
}

at::TensorOptions ctorch::options(ct_options o) {
    return at::TensorOptions().dtype(scalar_type(o.dtype)).device(device(o.device_type, o.device_index));
}

at::Scalar ctorch::scalar(ct_scalar s) {
    switch (s.kind) {
    case CT_SCALAR_DOUBLE: return at::Scalar(s.f);
    case CT_SCALAR_INT: return at::Scalar(s.i);
    case CT_SCALAR_BOOL: return at::Scalar(s.i != 0);
    }
    throw std::invalid_argument("unknown scalar kind " + std::to_string(s.kind));
}

extern "C" {

int32_t ct_init(void) {
    CT_GUARD({
        load_once();
        if (!init_error.empty()) throw std::runtime_error(init_error);
    })
}

// A string literal: nothing is written, so any thread may read it at any time.
const char *ct_version(void) { return TORCH_VERSION; }

int32_t ct_library_dir(const char **out) {
    CT_GUARD({
        load_once();
        *out = library_dir.c_str();
    })
}

int32_t ct_cuda_library(const char **out) {
    CT_GUARD({
        load_once();
        *out = cuda_library.c_str();
    })
}

int32_t ct_build_config(const char **out) {
    CT_GUARD({
        // A function-local static is initialised once even when threads race to it; an
        // exception leaves it uninitialised, so a later call tries again.
        static const std::string config = at::show_config();
        *out = config.c_str();
    })
}

int32_t ct_cuda_device_count(int64_t *out) { CT_GUARD(*out = at::detail::getCUDAHooks().getNumGPUs()) }

int32_t ct_cuda_synchronize(int32_t index) {
    CT_GUARD({
        auto device = ctorch::device(CT_DEVICE_CUDA, index);
        auto t = at::zeros({1}, at::TensorOptions().device(device));
        (void)t.cpu();
    })
}

int32_t ct_core_count(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0) return CPU_COUNT(&set);
    return static_cast<int32_t>(sysconf(_SC_NPROCESSORS_ONLN));
}

int32_t ct_set_num_threads(int32_t n) {
    CT_GUARD({
        at::set_num_threads(n);
        ctorch::set_openblas_threads(n);
    })
}
int32_t ct_get_num_threads(int32_t *out) { CT_GUARD(*out = at::get_num_threads()) }

int32_t ct_manual_seed(uint64_t seed) { CT_GUARD(at::manual_seed(seed)) }

void ct_release_free_memory(void) { malloc_trim(0); }

// 2 GiB: the largest value mallopt takes (an int). One arena: glibc gives each thread that
// allocates an arena of its own, made of heaps of at most 64 MiB that are unmapped as soon as
// they are empty, whatever the trim threshold; a loader thread's batch of views (tens of MB)
// then took a fresh heap, faulted in page by page, every batch. The main arena keeps its
// memory; threads still allocate small blocks from their own caches (tcache) without its lock.
int32_t ct_malloc_retain_freed(void) {
    int threshold = std::numeric_limits<int>::max();
    return mallopt(M_MMAP_THRESHOLD, threshold) == 1 && mallopt(M_TRIM_THRESHOLD, threshold) == 1
        && mallopt(M_ARENA_MAX, 1) == 1 ? 1 : 0;
}

int64_t ct_malloc_free_bytes(void) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    return static_cast<int64_t>(mallinfo2().fordblks);
#else
    // Older glibc's counters are ints, which wrap above 2 GiB.
    return static_cast<int64_t>(static_cast<unsigned>(mallinfo().fordblks));
#endif
}

int32_t ct_grad_enabled(void) { return c10::GradMode::is_enabled() ? 1 : 0; }
void ct_set_grad_enabled(int32_t enabled) { c10::GradMode::set_enabled(enabled != 0); }

int32_t ct_bench_native_add(int64_t iterations, double *out) {
    CT_GUARD({
        if (iterations <= 0) throw std::invalid_argument("bench_native_add needs at least one iteration");
        auto a = at::ones({1});
        auto b = at::ones({1});
        auto start = std::chrono::steady_clock::now();
        for (int64_t i = 0; i < iterations; ++i) {
            auto c = at::add(a, b);
        }
        std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
        *out = elapsed.count() / static_cast<double>(iterations);
    })
}

int32_t ct_generator_new(int32_t device_type, int32_t device_index, uint64_t seed, ct_generator *out) {
    CT_GUARD({
        auto device = ctorch::device(device_type, device_index);
        // Context::defaultGenerator exists in libtorch 1.13 and 2.x (the CUDA hook was renamed in 2.x).
        at::Generator g = at::globalContext().defaultGenerator(device).clone();
        g.set_current_seed(seed);
        *out = new ct_generator_s{g};
    })
}

void ct_generator_free(ct_generator g) { delete g; }

int32_t ct_generator_get_state(ct_generator g, ct_tensor *out) {
    CT_GUARD({
        if (!g) throw std::invalid_argument("null generator");
        std::lock_guard<std::mutex> lock(g->g.mutex());
        *out = ctorch::wrap(g->g.get_state());
    })
}

int32_t ct_generator_set_state(ct_generator g, ct_tensor state) {
    CT_GUARD({
        if (!g) throw std::invalid_argument("null generator");
        std::lock_guard<std::mutex> lock(g->g.mutex());
        g->g.set_state(T(state));
    })
}

int32_t ct_generator_seed(ct_generator g, uint64_t *out) {
    CT_GUARD({
        if (!g) throw std::invalid_argument("null generator");
        *out = g->g.current_seed();
    })
}

} // extern "C"

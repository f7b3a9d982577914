// OpenBLAS's own thread pool, where libtorch's matrix products run on OpenBLAS built with
// pthreads (Debian's libtorch). That pool stands beside libtorch's OpenMP team, and two things
// about it are left to the bridge:
//
// - Its size. at::set_num_threads sizes the OpenMP team (and MKL), not OpenBLAS, which keeps
//   one thread per core from its start. Processes that share a machine's cores (data- or
//   block-parallel ranks, `run.threads`) then each ran products on every core.
// - How long its idle workers spin. After each product they call sched_yield for 2^28 cycles
//   (a tenth of a second) before they sleep, while the OpenMP team runs libtorch's other ops
//   on the same cores: a blockwise step, with its heads and projectors, alternates between the
//   two pools dozens of times. 2^20 cycles (about 0.3 ms, as long as libgomp's own spin) keeps
//   the workers awake through a run of products, such as a fused head's tiles, and asleep
//   through the rest. OPENBLAS_THREAD_TIMEOUT, when set, is left as the user set it.
//
// OpenBLAS reads its environment and starts its workers when it is loaded, before main; the
// bridge sets the variable, has OpenBLAS read it again, and stops the workers, which OpenBLAS
// starts again, with the new timeout, at the next product. Its functions are found at run
// time: with another BLAS (MKL in PyPI's wheels, whose threads are OpenMP's) nothing is done.
#include "bridge.hpp"
#include <algorithm>
#include <cstdlib>

namespace {

constexpr const char *kTimeoutVariable = "OPENBLAS_THREAD_TIMEOUT";
constexpr const char *kSpinExponent = "20";

struct OpenBLAS {
    int (*parallel)() = nullptr;  // 0: sequential, 1: pthreads, 2: OpenMP
    void (*set_num_threads)(int) = nullptr;
    int (*get_num_threads)() = nullptr;
    void (*read_env)() = nullptr;
    int (*thread_timeout)() = nullptr;
    int (*shutdown)() = nullptr;

    OpenBLAS() {
        parallel = ctorch::loaded_symbol<decltype(parallel)>("openblas_get_parallel");
        set_num_threads = ctorch::loaded_symbol<decltype(set_num_threads)>("openblas_set_num_threads");
        get_num_threads = ctorch::loaded_symbol<decltype(get_num_threads)>("openblas_get_num_threads");
        read_env = ctorch::loaded_symbol<decltype(read_env)>("openblas_read_env");
        thread_timeout = ctorch::loaded_symbol<decltype(thread_timeout)>("openblas_thread_timeout");
        shutdown = ctorch::loaded_symbol<decltype(shutdown)>("blas_thread_shutdown_");
    }

    // OpenBLAS with a pool of its own, whose size and spin the bridge sets.
    bool own_pool() const { return parallel && parallel() == 1 && set_num_threads && get_num_threads; }
};

const OpenBLAS &openblas() {
    static const OpenBLAS library;
    return library;
}

}  // namespace

namespace ctorch {

// Called once, before the first product (ct_init).
void shorten_openblas_spin() {
    const auto &b = openblas();
    if (!b.own_pool() || !b.read_env || !b.thread_timeout || !b.shutdown || std::getenv(kTimeoutVariable)) return;
    setenv(kTimeoutVariable, kSpinExponent, 0);
    b.read_env();
    // Out of the environment again: processes this one starts (ranks, Python) get it unchanged.
    unsetenv(kTimeoutVariable);
    b.shutdown();
}

void set_openblas_threads(int threads) {
    const auto &b = openblas();
    if (b.own_pool()) b.set_num_threads(threads);
}

}  // namespace ctorch

extern "C" int32_t ct_openblas_pool(int32_t *threads, int32_t *spin_exponent) {
    CT_GUARD({
        const auto &b = openblas();
        *threads = b.own_pool() ? b.get_num_threads() : 0;
        // As OpenBLAS applies it: its build's 28 when unset, else clamped to [4, 30].
        int exponent = b.own_pool() && b.thread_timeout ? b.thread_timeout() : 0;
        *spin_exponent = !b.own_pool() ? 0 : exponent <= 0 ? 28 : std::min(std::max(exponent, 4), 30);
    })
}

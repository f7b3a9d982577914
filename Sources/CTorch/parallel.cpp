// The bridge's own kernels split over libtorch's intra-op threads.
//
// at::parallel_for is a header template: its threads come from `#pragma omp parallel`, compiled
// into the caller. This target is not compiled with OpenMP (clang would bring LLVM's libomp, a
// second runtime with threads of its own beside libtorch's libgomp), so there the template ran
// every range on the calling thread, and the fused heads' kernels and the noise left the other
// cores idle. Here the parallel region is opened through the OpenMP runtime libtorch itself
// loaded (GOMP_parallel, the entry point gcc's `#pragma omp parallel` compiles to, which
// libgomp and Intel's libiomp5 both export), so the same team of threads runs ours and
// libtorch's ops. The work is split as at::parallel_for splits it.
#include "parallel.hpp"
#include "bridge.hpp"
#include <ATen/Parallel.h>
#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <set>
#include <thread>

namespace {

struct OpenMP {
    void (*parallel)(void (*)(void *), void *, unsigned, unsigned) = nullptr;
    int (*thread_num)() = nullptr;
    int (*num_threads)() = nullptr;

    OpenMP() {
        parallel = ctorch::loaded_symbol<decltype(parallel)>("GOMP_parallel");
        thread_num = ctorch::loaded_symbol<decltype(thread_num)>("omp_get_thread_num");
        num_threads = ctorch::loaded_symbol<decltype(num_threads)>("omp_get_num_threads");
        if (!thread_num || !num_threads) parallel = nullptr;
    }
};

const OpenMP &openmp() {
    static const OpenMP runtime;
    return runtime;
}

struct Region {
    int64_t begin, end, grain;
    const std::function<void(int64_t, int64_t)> *body;
    std::atomic_flag failed = ATOMIC_FLAG_INIT;
    std::exception_ptr error;
};

// One thread of the team: its share of the range, as at::internal::invoke_parallel takes it
// (the team stays whole, with no num_threads clause; threads beyond the grain's tasks idle).
void run_share(void *data) {
    auto &region = *static_cast<Region *>(data);
    const auto &runtime = openmp();
    int64_t tasks = runtime.num_threads();
    if (region.grain > 0) tasks = std::min(tasks, at::divup(region.end - region.begin, region.grain));
    const int64_t tid = runtime.thread_num(), chunk = at::divup(region.end - region.begin, tasks);
    const int64_t first = region.begin + tid * chunk;
    if (first >= region.end) return;
    try {
        at::internal::ThreadIdGuard guard(static_cast<int>(tid));
        (*region.body)(first, std::min(region.end, first + chunk));
    } catch (...) {
        if (!region.failed.test_and_set()) region.error = std::current_exception();
    }
}

} // namespace

namespace ctorch {

void parallel_for(int64_t begin, int64_t end, int64_t grain, const std::function<void(int64_t, int64_t)> &body) {
    if (begin >= end) return;
    const auto &runtime = openmp();
    // A libtorch without OpenMP runs at::parallel_for in its own library (its thread pool).
    if (runtime.parallel == nullptr) return at::parallel_for(begin, end, grain, body);
    if (end - begin <= grain || end - begin == 1 || at::in_parallel_region() || at::get_num_threads() == 1) {
        at::internal::ThreadIdGuard guard(0);
        return body(begin, end);
    }
    Region region{begin, end, grain, &body};
    runtime.parallel(run_share, &region, 0, 0);
    if (region.error) std::rethrow_exception(region.error);
}

} // namespace ctorch

int32_t ct_bridge_parallel_threads(int64_t tasks, int64_t *out) {
    CT_GUARD({
        std::mutex lock;
        std::set<std::thread::id> threads;
        ctorch::parallel_for(0, tasks, 1, [&](int64_t, int64_t) {
            std::lock_guard<std::mutex> hold(lock);
            threads.insert(std::this_thread::get_id());
        });
        *out = static_cast<int64_t>(threads.size());
    })
}

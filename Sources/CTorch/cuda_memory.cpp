// CUDA memory: the caching allocator's own statistics (torch.cuda.memory_allocated and
// friends). Process-wide figures such as VmHWM do not see device memory at all.
#include "bridge.hpp"
#ifdef CTORCH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#endif

namespace {
c10::DeviceIndex cuda_index(int32_t index) {
#ifdef CTORCH_CUDA
    int devices = c10::cuda::device_count();
    if (index < 0 || index >= devices) {
        throw std::invalid_argument("cuda:" + std::to_string(index) + " does not exist: libtorch sees " +
                                    std::to_string(devices) + " CUDA device(s)");
    }
    return static_cast<c10::DeviceIndex>(index);
#else
    (void)index;
    throw std::invalid_argument("this libtorch build has no CUDA allocator (a CPU build)");
#endif
}
} // namespace

extern "C" {

int32_t ct_cuda_memory_stats(int32_t index, ct_cuda_memory *out) {
    CT_GUARD({
        auto device = cuda_index(index);
#ifdef CTORCH_CUDA
        auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device);
        // Entry 0 is StatType::AGGREGATE (all pools) in 1.13 and 2.x alike; its namespace moved.
        out->allocated = stats.allocated_bytes[0].current;
        out->peak_allocated = stats.allocated_bytes[0].peak;
        out->reserved = stats.reserved_bytes[0].current;
        out->peak_reserved = stats.reserved_bytes[0].peak;
#else
        (void)device;
#endif
    })
}

int32_t ct_cuda_reset_peak_memory(int32_t index) {
    CT_GUARD({
        auto device = cuda_index(index);
#ifdef CTORCH_CUDA
        c10::cuda::CUDACachingAllocator::resetPeakStats(device);
#else
        (void)device;
#endif
    })
}

} // extern "C"

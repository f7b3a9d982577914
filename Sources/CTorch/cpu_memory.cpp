// CPU tensor memory, counted like the CUDA caching allocator counts device memory
// (torch.cuda.memory_allocated, max_memory_allocated): bytes held by tensors now and at most.
// Resident memory (VmRSS, VmHWM) also sees what malloc keeps after a free and the heap's
// fragmentation, which depend on the allocator rather than on what a step needs.
//
// Counting installs an allocator in front of libtorch's default CPU allocator: the same
// alloc_cpu/free_cpu (64-byte alignment), with each allocation's size kept in a side table so
// that a free knows what it returns. The data pointer is exactly alloc_cpu's, so a pointer
// freed by the other allocator's deleter, or one of the default allocator's freed by ours
// (libtorch 2.x frees some raw allocations through whichever CPU allocator is current), is
// still a valid free_cpu: a header in front of the data made such frees crash. Tensors
// allocated before counting began are never counted, so figures are meant as differences and
// peaks after it.
#include "bridge.hpp"
#include <atomic>
#include <cstring>
#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <mutex>
#include <unordered_map>

namespace {

std::atomic<int64_t> allocated{0};
std::atomic<int64_t> peak{0};
std::atomic<bool> counting{false};

// Sizes of live counted allocations. A step makes hundreds to a few thousand allocations,
// so one lock is not worth sharding.
std::mutex sizes_lock;
std::unordered_map<void *, size_t> sizes;

void counted_delete(void *data) {
    if (data == nullptr) return;
    size_t n = 0;
    {
        std::lock_guard<std::mutex> hold(sizes_lock);
        auto found = sizes.find(data);
        if (found != sizes.end()) {
            n = found->second;
            sizes.erase(found);
        }
    }
    allocated.fetch_sub(static_cast<int64_t>(n), std::memory_order_relaxed);
    c10::free_cpu(data);
}

struct CountingCPUAllocator final : at::Allocator {
    // libtorch 2.3 made allocate non-const and added copy_data: both spellings are defined,
    // and each version overrides the one it declares (hence no `override` here).
    at::DataPtr allocate(size_t n) const { return counted(n); }
    at::DataPtr allocate(size_t n) { return counted(n); }
    void copy_data(void *dest, const void *src, std::size_t count) const { std::memcpy(dest, src, count); }
    // The data is its own context, as the default allocator's is: raw allocations work too.
    at::DeleterFnPtr raw_deleter() const { return &counted_delete; }

    static at::DataPtr counted(size_t n) {
        at::Device cpu(at::DeviceType::CPU);
        if (n == 0) return {nullptr, nullptr, &counted_delete, cpu};
        void *data = c10::alloc_cpu(n);
        {
            std::lock_guard<std::mutex> hold(sizes_lock);
            sizes[data] = n;
        }
        auto now = allocated.fetch_add(static_cast<int64_t>(n), std::memory_order_relaxed) + static_cast<int64_t>(n);
        auto highest = peak.load(std::memory_order_relaxed);
        while (now > highest && !peak.compare_exchange_weak(highest, now, std::memory_order_relaxed)) {}
        return {data, data, &counted_delete, cpu};
    }
};

CountingCPUAllocator counting_allocator;

} // namespace

extern "C" {

int32_t ct_cpu_memory_count(void) {
    CT_GUARD({
        static std::once_flag once;
        // Above the default allocator's priority (0), so libtorch keeps it from now on.
        std::call_once(once, [] {
            c10::SetCPUAllocator(&counting_allocator, 1);
            counting.store(c10::GetCPUAllocator() == &counting_allocator);
        });
        if (!counting.load()) throw std::runtime_error("libtorch kept another CPU allocator; CPU tensor memory cannot be counted");
    })
}

int32_t ct_cpu_memory_stats(ct_cpu_memory *out) {
    CT_GUARD({
        if (!counting.load()) throw std::logic_error("CPU tensor memory is not being counted (ct_cpu_memory_count)");
        out->allocated = allocated.load();
        out->peak_allocated = peak.load();
    })
}

void ct_cpu_reset_peak_memory(void) { peak.store(allocated.load()); }

} // extern "C"

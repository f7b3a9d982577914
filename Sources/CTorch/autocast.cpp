// Autocast (torch.autocast): ops of the lower-precision list (convolutions, matmuls) run in
// bf16 or fp16, the rest as the dispatcher's autocast policy says, exactly as in PyTorch.
// The state is per thread; the cast copies of weights are cached within a region and dropped
// when the outermost region ends, as torch.autocast's __exit__ does: after an optimizer step
// the cached copies would be stale.
#include "bridge.hpp"
#include <ATen/autocast_mode.h>
#include <torch/csrc/api/include/torch/version.h>

namespace {

// libtorch 2.x keys the state by device type; 1.13 has one function pair per device.
bool autocast_enabled(bool cuda) {
#if TORCH_VERSION_MAJOR >= 2
    return at::autocast::is_autocast_enabled(cuda ? at::kCUDA : at::kCPU);
#else
    return cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}

void set_autocast_enabled(bool cuda, bool enabled) {
#if TORCH_VERSION_MAJOR >= 2
    at::autocast::set_autocast_enabled(cuda ? at::kCUDA : at::kCPU, enabled);
#else
    if (cuda) at::autocast::set_enabled(enabled); else at::autocast::set_cpu_enabled(enabled);
#endif
}

at::ScalarType autocast_dtype(bool cuda) {
#if TORCH_VERSION_MAJOR >= 2
    return at::autocast::get_autocast_dtype(cuda ? at::kCUDA : at::kCPU);
#else
    return cuda ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
#endif
}

void set_autocast_dtype(bool cuda, at::ScalarType type) {
#if TORCH_VERSION_MAJOR >= 2
    at::autocast::set_autocast_dtype(cuda ? at::kCUDA : at::kCPU, type);
#else
    if (cuda) at::autocast::set_autocast_gpu_dtype(type); else at::autocast::set_autocast_cpu_dtype(type);
#endif
}

} // namespace

int32_t ct_autocast_enter(int32_t cuda, int32_t enabled, int32_t dtype, int32_t *was_enabled, int32_t *was_dtype) {
    CT_GUARD({
        *was_enabled = autocast_enabled(cuda != 0) ? 1 : 0;
        *was_dtype = ctorch::dtype_code(autocast_dtype(cuda != 0));
        set_autocast_enabled(cuda != 0, enabled != 0);
        if (enabled != 0) set_autocast_dtype(cuda != 0, ctorch::scalar_type(dtype));
        at::autocast::increment_nesting();
    })
}

int32_t ct_autocast_exit(int32_t cuda, int32_t was_enabled, int32_t was_dtype) {
    CT_GUARD({
        if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
        set_autocast_enabled(cuda != 0, was_enabled != 0);
        set_autocast_dtype(cuda != 0, ctorch::scalar_type(was_dtype));
    })
}

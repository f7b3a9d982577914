// at::parallel_for for the bridge's own kernels, on libtorch's intra-op threads (parallel.cpp:
// the template itself runs serially in code compiled without OpenMP, as this target is).
#pragma once

#include <cstdint>
#include <functional>

namespace ctorch {

void parallel_for(int64_t begin, int64_t end, int64_t grain, const std::function<void(int64_t, int64_t)> &body);

} // namespace ctorch

// Raw memory access, for data loaders that fill tensors in place.
#include "bridge.hpp"

extern "C" {

int32_t ct_empty(const int64_t *shape, int64_t ndim, ct_options o, ct_tensor *out) {
    CT_RETURN(at::empty(dims(shape, ndim), ctorch::options(o)))
}

int32_t ct_data_ptr(ct_tensor h, void **out) {
    CT_GUARD({
        const auto &t = T(h);
        if (!t.device().is_cpu()) throw std::invalid_argument("data_ptr: the tensor is not on the CPU");
        if (!t.is_contiguous()) throw std::invalid_argument("data_ptr: the tensor is not contiguous");
        *out = t.data_ptr();
    })
}

int32_t ct_index_copy_(ct_tensor t, int64_t dim, ct_tensor index, ct_tensor source) {
    CT_GUARD(T(t).index_copy_(dim, T(index), T(source)))
}

} // extern "C"

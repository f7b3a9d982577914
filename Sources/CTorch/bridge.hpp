// Internal helpers of the bridge: one error mechanism used by every function.
#pragma once

#include "ctorch.h"
#include <ATen/ATen.h>
#include <dlfcn.h>
#include <string>
#include <vector>

struct ct_tensor_s { at::Tensor t; };
struct ct_generator_s { at::Generator g; };

namespace ctorch {

void record_error(const char *message) noexcept;

// A NULL or undefined handle is a usage error, reported like any libtorch error.
inline const at::Tensor &T(ct_tensor h) {
    if (h == nullptr) throw std::invalid_argument("undefined tensor (an earlier error left no value)");
    return h->t;
}
inline at::Tensor opt(ct_tensor h) { return h ? h->t : at::Tensor(); }
inline ct_tensor wrap(at::Tensor t) { return new ct_tensor_s{std::move(t)}; }
inline c10::optional<at::Generator> gen(ct_generator g) {
    if (g == nullptr) return c10::nullopt;
    return g->g;
}
inline at::IntArrayRef dims(const int64_t *p, int64_t n) { return at::IntArrayRef(p, static_cast<size_t>(n)); }

at::ScalarType scalar_type(int32_t code);
int32_t dtype_code(at::ScalarType type);
at::Device device(int32_t type, int32_t index);
at::TensorOptions options(ct_options o);
at::Scalar scalar(ct_scalar s);

// A function of a library already loaded (libtorch's OpenMP runtime, its BLAS), found at run
// time rather than linked: null where that library is another or lacks it.
template <typename F> F loaded_symbol(const char *name) { return reinterpret_cast<F>(dlsym(RTLD_DEFAULT, name)); }

// OpenBLAS's own thread pool, where libtorch's products run on it (openblas.cpp): its spin
// shortened once at start-up, and its size kept to libtorch's thread count.
void shorten_openblas_spin();
void set_openblas_threads(int threads);

} // namespace ctorch

// The one exception barrier: every bridge body runs inside it.
#define CT_GUARD(...)                                                              \
    try {                                                                          \
        __VA_ARGS__;                                                                    \
        return 0;                                                                  \
    } catch (const c10::Error &e) {                                                \
        ctorch::record_error(e.what_without_backtrace());                          \
    } catch (const std::exception &e) {                                            \
        ctorch::record_error(e.what());                                            \
    } catch (...) {                                                                \
        ctorch::record_error("unknown C++ exception in libtorch");                 \
    }                                                                              \
    return 1;

// Most functions produce one new tensor.
#define CT_RETURN(...) CT_GUARD(*out = ctorch::wrap(__VA_ARGS__))

using ctorch::T;
using ctorch::opt;
using ctorch::dims;

// Tensor basics: lifetime, data in and out, properties, conversion, creation.
#include "bridge.hpp"
#include <cstring>
#include <sstream>

using ctorch::wrap;
using ctorch::options;
using ctorch::scalar;
using ctorch::gen;

extern "C" {

void ct_free(ct_tensor t) { delete t; }

int32_t ct_from_data(const void *data, int64_t nbytes, const int64_t *shape, int64_t ndim, int32_t dtype,
                     ct_tensor *out) {
    CT_GUARD({
        auto t = at::empty(dims(shape, ndim), at::TensorOptions().dtype(ctorch::scalar_type(dtype)));
        int64_t size = t.numel() * static_cast<int64_t>(t.element_size());
        if (size != nbytes)
            throw std::invalid_argument("shape " + c10::str(t.sizes()) + " needs " + std::to_string(size) +
                                        " bytes of data, got " + std::to_string(nbytes));
        if (t.numel() > 0) std::memcpy(t.data_ptr(), data, t.numel() * t.element_size());
        *out = wrap(std::move(t));
    })
}

int32_t ct_copy_to_buffer(ct_tensor h, void *dst, int64_t nbytes) {
    CT_GUARD({
        auto t = T(h).detach().to(at::kCPU).contiguous();
        int64_t size = t.numel() * static_cast<int64_t>(t.element_size());
        if (size != nbytes)
            throw std::invalid_argument("buffer of " + std::to_string(nbytes) + " bytes for a tensor of " +
                                        std::to_string(size) + " bytes");
        if (size > 0) std::memcpy(dst, t.data_ptr(), static_cast<size_t>(size));
    })
}

int32_t ct_ndim(ct_tensor t, int64_t *out) { CT_GUARD(*out = T(t).dim()) }

int32_t ct_sizes(ct_tensor t, int64_t *out, int64_t capacity) {
    CT_GUARD({
        auto sizes = T(t).sizes();
        for (int64_t i = 0; i < capacity && i < static_cast<int64_t>(sizes.size()); ++i) out[i] = sizes[i];
    })
}

int32_t ct_strides(ct_tensor t, int64_t *out, int64_t capacity) {
    CT_GUARD({
        auto strides = T(t).strides();
        for (int64_t i = 0; i < capacity && i < static_cast<int64_t>(strides.size()); ++i) out[i] = strides[i];
    })
}

int32_t ct_dtype(ct_tensor t, int32_t *out) { CT_GUARD(*out = ctorch::dtype_code(T(t).scalar_type())) }

int32_t ct_device(ct_tensor t, int32_t *type, int32_t *index) {
    CT_GUARD({
        auto d = T(t).device();
        if (d.is_cpu()) {
            *type = CT_DEVICE_CPU;
            *index = 0;
        } else if (d.is_cuda()) {
            *type = CT_DEVICE_CUDA;
            *index = d.index();
        } else {
            throw std::invalid_argument("device not supported by the bridge: " + d.str());
        }
    })
}

int32_t ct_item(ct_tensor t, double *out) { CT_GUARD(*out = T(t).item<double>()) }
int32_t ct_item_int(ct_tensor t, int64_t *out) { CT_GUARD(*out = T(t).item<int64_t>()) }

int32_t ct_is_contiguous(ct_tensor t, int32_t channels_last, int32_t *out) {
    CT_GUARD(*out = T(t).is_contiguous(channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous))
}

int32_t ct_to(ct_tensor t, ct_options o, int32_t non_blocking, ct_tensor *out) {
    CT_RETURN(T(t).to(ctorch::device(o.device_type, o.device_index), ctorch::scalar_type(o.dtype), non_blocking != 0))
}

int32_t ct_pin_memory(ct_tensor t, ct_tensor *out) { CT_RETURN(T(t).pin_memory()) }

int32_t ct_contiguous(ct_tensor t, int32_t channels_last, ct_tensor *out) {
    CT_RETURN(T(t).contiguous(channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous))
}

int32_t ct_clone(ct_tensor t, ct_tensor *out) { CT_RETURN(T(t).clone()) }
int32_t ct_alias(ct_tensor t, ct_tensor *out) { CT_RETURN(T(t)) }
int32_t ct_equal(ct_tensor a, ct_tensor b, int32_t *out) { CT_GUARD(*out = at::equal(T(a), T(b))) }
int32_t ct_allclose(ct_tensor a, ct_tensor b, double rtol, double atol, int32_t *out) {
    CT_GUARD(*out = at::allclose(T(a), T(b), rtol, atol))
}

int32_t ct_to_string(ct_tensor t, char *buffer, int64_t capacity, int64_t *needed) {
    CT_GUARD({
        std::ostringstream s;
        s << T(t);
        auto text = s.str();
        *needed = static_cast<int64_t>(text.size()) + 1;
        if (capacity > 0) snprintf(buffer, static_cast<size_t>(capacity), "%s", text.c_str());
    })
}

int32_t ct_zeros(const int64_t *shape, int64_t ndim, ct_options o, ct_tensor *out) {
    CT_RETURN(at::zeros(dims(shape, ndim), options(o)))
}
int32_t ct_ones(const int64_t *shape, int64_t ndim, ct_options o, ct_tensor *out) {
    CT_RETURN(at::ones(dims(shape, ndim), options(o)))
}
int32_t ct_full(const int64_t *shape, int64_t ndim, ct_scalar value, ct_options o, ct_tensor *out) {
    CT_RETURN(at::full(dims(shape, ndim), scalar(value), options(o)))
}
int32_t ct_arange(ct_scalar start, ct_scalar end, ct_scalar step, ct_options o, ct_tensor *out) {
    CT_RETURN(at::arange(scalar(start), scalar(end), scalar(step), options(o)))
}
int32_t ct_linspace(double start, double end, int64_t steps, ct_options o, ct_tensor *out) {
    CT_RETURN(at::linspace(start, end, steps, options(o)))
}
int32_t ct_eye(int64_t n, ct_options o, ct_tensor *out) { CT_RETURN(at::eye(n, options(o))) }

int32_t ct_randn(const int64_t *shape, int64_t ndim, ct_options o, ct_generator g, ct_tensor *out) {
    CT_RETURN(at::randn(dims(shape, ndim), gen(g), options(o)))
}
int32_t ct_rand(const int64_t *shape, int64_t ndim, ct_options o, ct_generator g, ct_tensor *out) {
    CT_RETURN(at::rand(dims(shape, ndim), gen(g), options(o)))
}
int32_t ct_randint(int64_t low, int64_t high, const int64_t *shape, int64_t ndim, ct_options o, ct_generator g,
                   ct_tensor *out) {
    CT_RETURN(at::randint(low, high, dims(shape, ndim), gen(g), options(o)))
}
int32_t ct_randperm(int64_t n, ct_options o, ct_generator g, ct_tensor *out) {
    CT_RETURN(at::randperm(n, gen(g), options(o)))
}
int32_t ct_bernoulli(ct_tensor p, ct_generator g, ct_tensor *out) { CT_RETURN(at::bernoulli(T(p), gen(g))) }
int32_t ct_uniform_(ct_tensor t, double from, double to, ct_generator g) {
    CT_GUARD(T(t).uniform_(from, to, gen(g)))
}
int32_t ct_normal_(ct_tensor t, double mean, double std, ct_generator g) {
    CT_GUARD(T(t).normal_(mean, std, gen(g)))
}
int32_t ct_poisson(ct_tensor rates, ct_generator g, ct_tensor *out) { CT_RETURN(at::poisson(T(rates), gen(g))) }

} // extern "C"

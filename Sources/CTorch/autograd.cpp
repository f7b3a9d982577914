// Autograd: libtorch's own imperative engine.
#include "bridge.hpp"
#include <torch/csrc/autograd/autograd.h>

using ctorch::wrap;

extern "C" {

int32_t ct_set_requires_grad(ct_tensor t, int32_t requires_grad) { CT_GUARD(T(t).requires_grad_(requires_grad != 0)) }
int32_t ct_requires_grad(ct_tensor t, int32_t *out) { CT_GUARD(*out = T(t).requires_grad()) }
int32_t ct_is_leaf(ct_tensor t, int32_t *out) { CT_GUARD(*out = T(t).is_leaf()) }

int32_t ct_backward(ct_tensor t, ct_tensor grad, int32_t retain_graph, int32_t create_graph) {
    CT_GUARD(T(t).backward(opt(grad), retain_graph ? c10::optional<bool>(true) : c10::nullopt, create_graph != 0))
}

int32_t ct_grad(ct_tensor t, ct_tensor *out) {
    CT_GUARD({
        const at::Tensor &g = T(t).grad();
        *out = g.defined() ? wrap(g) : nullptr;
    })
}

int32_t ct_set_grad(ct_tensor t, ct_tensor grad) { CT_GUARD(T(t).mutable_grad() = opt(grad)) }

int32_t ct_detach(ct_tensor t, ct_tensor *out) { CT_RETURN(T(t).detach()) }

int32_t ct_autograd_grad(const ct_tensor *outputs, int64_t noutputs, const ct_tensor *inputs, int64_t ninputs,
                         const ct_tensor *grad_outputs, int32_t retain_graph, int32_t create_graph,
                         int32_t allow_unused, ct_tensor *outs) {
    CT_GUARD({
        std::vector<at::Tensor> ys, xs, gs;
        for (int64_t i = 0; i < noutputs; ++i) {
            ys.push_back(T(outputs[i]));
            gs.push_back(grad_outputs ? opt(grad_outputs[i]) : at::Tensor());
        }
        for (int64_t i = 0; i < ninputs; ++i) xs.push_back(T(inputs[i]));
        auto grads = torch::autograd::grad(ys, xs, gs, retain_graph ? c10::optional<bool>(true) : c10::nullopt,
                                           create_graph != 0, allow_unused != 0);
        for (int64_t i = 0; i < ninputs; ++i) {
            const auto &g = grads[static_cast<size_t>(i)];
            outs[i] = g.defined() ? wrap(g) : nullptr;
        }
    })
}

} // extern "C"

// Support for modules: replacing a tensor's data while keeping the tensor itself.
#include "bridge.hpp"

extern "C" {

int32_t ct_set_data(ct_tensor t, ct_tensor data) {
    // `param.data = new` in PyTorch: the same autograd leaf now holds other storage,
    // dtype or device, so references held elsewhere (optimizers) stay valid.
    CT_GUARD(T(t).set_data(T(data)))
}

} // extern "C"

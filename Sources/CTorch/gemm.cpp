// The fused heads' GEMMs over tiles, through oneDNN's sgemm where libtorch loaded oneDNN.
//
// libtorch's matrix products on Debian run on OpenBLAS built with pthreads, whose pool stands
// beside libtorch's OpenMP team: each product wakes OpenBLAS's worker, which then spins
// (sched_yield) while the team runs the next ops on the same cores (openblas.cpp). A fused
// head's tiles make dozens of products a step. oneDNN, which libtorch links for its
// convolutions, runs its sgemm on libgomp's team, libtorch's own: no third thread. Its function
// is found at run time (no header needed): without it, or for other types and devices, ATen's
// product runs as before.
#include "bridge.hpp"
#include "gemm.hpp"

namespace {

// oneDNN's row-major sgemm: C = alpha·op(A)·op(B) + beta·C, op(X) = X or Xᵀ ('N' or 'T').
using Sgemm = int (*)(char, char, int64_t, int64_t, int64_t, float, const float *, int64_t, const float *, int64_t, float, float *,
                      int64_t);

Sgemm onednn_sgemm() {
    static const Sgemm found = ctorch::loaded_symbol<Sgemm>("dnnl_sgemm");
    return found;
}

// How oneDNN reads a matrix: row-major as it lies ('N'), or as the transpose of a row-major one
// ('T'); 0 where neither holds (no unit stride).
struct Operand {
    char trans = 0;
    int64_t ld = 0;
    explicit Operand(const at::Tensor &m) {
        if (m.stride(1) == 1 && m.stride(0) >= std::max<int64_t>(1, m.size(1))) {
            trans = 'N';
            ld = m.stride(0);
        } else if (m.stride(0) == 1 && m.stride(1) >= std::max<int64_t>(1, m.size(0))) {
            trans = 'T';
            ld = m.stride(1);
        }
    }
};

} // namespace

namespace ctorch {

void gemm(at::Tensor &c, const at::Tensor &a, const at::Tensor &b, double beta) {
    Sgemm sgemm = onednn_sgemm();
    bool floats = a.scalar_type() == at::kFloat && b.scalar_type() == at::kFloat && c.scalar_type() == at::kFloat;
    bool cpu = a.device().is_cpu() && b.device().is_cpu() && c.device().is_cpu();
    Operand left(a), right(b), out(c);
    if (sgemm && floats && cpu && left.trans && right.trans && out.trans == 'N' && a.size(0) > 0 && b.size(1) > 0 &&
        a.size(1) > 0) {
        int status = sgemm(left.trans, right.trans, a.size(0), b.size(1), a.size(1), 1.0f, a.data_ptr<float>(), left.ld,
                           b.data_ptr<float>(), right.ld, static_cast<float>(beta), c.data_ptr<float>(), out.ld);
        TORCH_CHECK(status == 0, "oneDNN's sgemm failed with status ", status);
        return;
    }
    if (beta == 0) {
        at::mm_out(c, a, b);
    } else {
        c.addmm_(a, b, beta);
    }
}

} // namespace ctorch

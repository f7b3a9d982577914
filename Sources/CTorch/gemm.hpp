// c = a·b + beta·c for the fused heads' tiles (gemm.cpp): oneDNN's sgemm on libtorch's OpenMP
// team where it can, else ATen's product.
#pragma once
#include <ATen/ATen.h>

namespace ctorch {

void gemm(at::Tensor &c, const at::Tensor &a, const at::Tensor &b, double beta);

} // namespace ctorch

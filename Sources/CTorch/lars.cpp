// One LARS update of one parameter, the Barlow Twins reference's rule (LARS.swift says it):
//
//     d ← g + wd·p;  d ← d · η‖p‖/‖d‖ (1 when ‖p‖ or ‖d‖ is 0);  μ ← m·μ + d;  p ← p − lr·μ
//
// Composed from ATen ops the update makes about 17 passes over memory per parameter (a copy of
// g, the decay, two norms, the scaling, the momentum and the step), and the simultaneous
// step's optimizer holds four projectors of 9.4 M weights each on the bench config. On the CPU
// it runs here in two: one reads p and g for both norms, the other reads g, p and μ and writes
// μ and p. Other devices, dtypes and layouts take the composed ops, which compute the same.
#include "bridge.hpp"
#include "parallel.hpp"
#include <cmath>

namespace {

// Elements per chunk of the norms' partial sums: the chunks, not the threads, set the order
// of the sums, so the result does not depend on the thread count.
constexpr int64_t kChunk = int64_t(1) << 15;

bool fusable(const at::Tensor &p, const at::Tensor &g, const at::Tensor &mu) {
    bool floating = p.scalar_type() == at::kFloat || p.scalar_type() == at::kDouble;
    return floating && p.device().is_cpu() && g.device().is_cpu() && mu.device().is_cpu() &&
           g.scalar_type() == p.scalar_type() && mu.scalar_type() == p.scalar_type() && p.is_contiguous() &&
           g.is_contiguous() && mu.is_contiguous() && g.sizes() == p.sizes() && mu.sizes() == p.sizes();
}

double trust_ratio(double parameter_norm, double update_norm, double eta) {
    return parameter_norm > 0 && update_norm > 0 ? eta * parameter_norm / update_norm : 1.0;
}

template <typename T>
void fused(T *__restrict p, const T *__restrict g, T *__restrict mu, int64_t n, double lr, double weight_decay,
           double momentum, double eta, bool scaled) {
    const T decay = static_cast<T>(weight_decay);
    T ratio = 1;
    if (scaled) {
        int64_t chunks = (n + kChunk - 1) / kChunk;
        std::vector<double> squares(static_cast<size_t>(2 * chunks), 0.0);
        ctorch::parallel_for(0, chunks, 1, [&](int64_t begin, int64_t end) {
            for (int64_t c = begin; c < end; ++c) {
                // Lanes of independent sums, which the compiler can keep in vectors (one sum
                // would be a serial chain: a reduction is not reordered without fast-math).
                constexpr int64_t kLanes = 8;
                double pp[kLanes] = {}, dd[kLanes] = {};
                int64_t i = c * kChunk, last = std::min(n, i + kChunk);
                for (; i + kLanes <= last; i += kLanes) {
                    for (int64_t l = 0; l < kLanes; ++l) {
                        double w = p[i + l], d = static_cast<double>(g[i + l] + decay * p[i + l]);
                        pp[l] += w * w;
                        dd[l] += d * d;
                    }
                }
                for (int64_t l = 0; i < last; ++i, ++l) {
                    double w = p[i], d = static_cast<double>(g[i] + decay * p[i]);
                    pp[l] += w * w;
                    dd[l] += d * d;
                }
                for (int64_t l = 0; l < kLanes; ++l) {
                    squares[2 * c] += pp[l];
                    squares[2 * c + 1] += dd[l];
                }
            }
        });
        double pp = 0, dd = 0;
        for (int64_t c = 0; c < chunks; ++c) {
            pp += squares[2 * c];
            dd += squares[2 * c + 1];
        }
        ratio = static_cast<T>(trust_ratio(std::sqrt(pp), std::sqrt(dd), eta));
    }
    const T m = static_cast<T>(momentum), step = static_cast<T>(lr), applied = scaled ? decay : T(0);
    ctorch::parallel_for(0, n, kChunk, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
            T d = (g[i] + applied * p[i]) * ratio;
            T v = m * mu[i] + d;
            mu[i] = v;
            p[i] -= step * v;
        }
    });
}

// The same update in ATen ops, on any device: no synchronisation to read the norms.
void composed(at::Tensor &p, const at::Tensor &g, at::Tensor &mu, double lr, double weight_decay, double momentum,
              double eta, bool scaled) {
    at::Tensor d = g;
    if (scaled) {
        d = g.add(p, weight_decay);
        at::Tensor parameter_norm = p.norm(), update_norm = d.norm();
        at::Tensor one = at::ones_like(parameter_norm);
        at::Tensor ratio = at::where(parameter_norm > 0, at::where(update_norm > 0, eta * parameter_norm / update_norm, one), one);
        d.mul_(ratio);
    }
    mu.mul_(momentum).add_(d);
    p.add_(mu, -lr);
}

} // namespace

int32_t ct_lars_update_(ct_tensor parameter, ct_tensor grad, ct_tensor momentum_buffer, double lr, double weight_decay,
                        double momentum, double eta, int32_t scaled, int32_t allow_fused) {
    CT_GUARD({
        at::NoGradGuard no_grad;
        at::Tensor p = T(parameter), mu = T(momentum_buffer);
        const at::Tensor &g = T(grad);
        if (allow_fused && fusable(p, g, mu)) {
            AT_DISPATCH_FLOATING_TYPES(p.scalar_type(), "lars_update", [&] {
                fused<scalar_t>(p.data_ptr<scalar_t>(), g.data_ptr<scalar_t>(), mu.data_ptr<scalar_t>(), p.numel(), lr,
                                weight_decay, momentum, eta, scaled != 0);
            });
        } else {
            composed(p, g, mu, lr, weight_decay, momentum, eta, scaled != 0);
        }
    })
}

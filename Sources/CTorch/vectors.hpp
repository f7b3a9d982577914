// 64-byte vectors (clang's vector extensions) shared by the bridge's CPU kernels
// (fused_pooling_kernels.cpp, batch_norm_pooling.cpp). Kernels are written once on them, as
// always-inline templates, and compiled into one copy per instruction set (AVX-512, AVX2 + FMA
// and the x86-64 baseline), of which the CPU picks one on first use.
#pragma once
#include <cstdint>
#include <cstring>

// The helpers pass vectors by value; they are always inlined into the copies compiled for each
// instruction set, so no call with the baseline's vector ABI is ever made.
#pragma clang diagnostic ignored "-Wpsabi"

// Loops over a register block unroll fully: indexed by a loop variable, the block would live
// on the stack.
#define CT_UNROLL _Pragma("unroll")

namespace ctorch {
namespace vectors {

template <typename T> struct Lanes {
    typedef T Vector __attribute__((vector_size(64)));
    static constexpr int64_t width = 64 / sizeof(T);
};
template <typename T> using Vec = typename Lanes<T>::Vector;

template <typename T> [[gnu::always_inline]] inline Vec<T> load(const T *p) {
    Vec<T> v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
template <typename T> [[gnu::always_inline]] inline void store(T *p, Vec<T> v) { std::memcpy(p, &v, sizeof v); }
// Lane by lane, so that it compiles to one broadcast from memory: `Vec<T>{} + s` kept the
// addition (−0 + s), which took the multiply-add units' ports.
template <typename T> [[gnu::always_inline]] inline Vec<T> splat(T s) {
    Vec<T> v;
    for (int64_t i = 0; i < Lanes<T>::width; ++i) v[i] = s;
    return v;
}
template <typename T> [[gnu::always_inline]] inline T horizontal_sum(Vec<T> v) {
    T s = 0;
    for (int64_t i = 0; i < Lanes<T>::width; ++i) s += v[i];
    return s;
}

enum class InstructionSet { avx512, avx2, baseline };
inline InstructionSet instruction_set() {
#if defined(__x86_64__)
    static const InstructionSet found = __builtin_cpu_supports("avx512f") ? InstructionSet::avx512
                                        : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? InstructionSet::avx2
                                                                                                         : InstructionSet::baseline;
    return found;
#else
    return InstructionSet::baseline;
#endif
}

} // namespace vectors
} // namespace ctorch

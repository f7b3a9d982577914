// 64-byte vectors (clang's vector extensions) shared by the bridge's CPU kernels
// (fused_pooling_kernels.cpp, batch_norm_pooling.cpp, lean_backward.cpp). Kernels are written
// once on them, as always-inline templates, and compiled into one copy per instruction set
// (AVX-512, AVX2 + FMA and the x86-64 baseline), of which the CPU picks one on first use.
#pragma once
#include <cstdint>
#include <cstring>
#include <type_traits>

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

// A vector's lanes as bits (lane k: bit k), from a comparison's lanes of 0 and −1.
template <typename T, typename Lanes_> [[gnu::always_inline]] inline uint32_t bits_of(Lanes_ on) {
    typedef bool Mask __attribute__((ext_vector_type(Lanes<T>::width)));
    Mask m = __builtin_convertvector(on, Mask);
    if constexpr (Lanes<T>::width == 16) {
        return __builtin_bit_cast(uint16_t, m);
    } else {
        return __builtin_bit_cast(uint8_t, m);
    }
}

// `value` where the bits (lane k: bit k) are set, else 0.
template <typename T> [[gnu::always_inline]] inline Vec<T> where_bits(uint32_t bits, Vec<T> value) {
    typedef bool Mask __attribute__((ext_vector_type(Lanes<T>::width)));
    using Word = std::conditional_t<Lanes<T>::width == 16, uint16_t, uint8_t>;
    using Int = decltype(Vec<T>{} == Vec<T>{});
    Int on = __builtin_convertvector(__builtin_bit_cast(Mask, static_cast<Word>(bits)), Int);
    return on != 0 ? value : Vec<T>{};
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

// One copy of a kernel per x86-64 vector level, picked by the CPU at load time: AVX2 has the
// 32-bit vector multiply (vpmulld, 8 lanes) and 8-wide float vectors that the baseline lacks;
// AVX-512 has 16 lanes and mask registers for the selects (the hue kernel: 19 → 4.8 ms for 64
// views of 224², against AVX2, on this project's 2-core EPYC). Elsewhere the compiler's vectors
// for the target.
#ifndef BLOCKWISE_CLONES_H
#define BLOCKWISE_CLONES_H
#if defined(__x86_64__)
#define CI_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CI_VECTOR_CLONES
#endif
#endif

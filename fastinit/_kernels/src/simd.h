/*
 * FI_VECTOR_CLONES: on x86-64 GCC also builds AVX-512 (x86-64-v4) and AVX2 clones of a loop
 * function, picked at load time where the CPU has them (2-4x faster than the SSE2 baseline).
 * Every loop that wears it keeps one accumulator per lane and combines them in a fixed order,
 * and fp-contract=off stops FMA fusion, so every clone gives bit-identical results.
 */
#ifndef FASTINIT_SIMD_H
#define FASTINIT_SIMD_H

#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define FI_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#endif
#endif
#ifndef FI_VECTOR_CLONES
#define FI_VECTOR_CLONES
#endif

/* FI_FMA_CLONES: an FMA clone of a function that calls fmaf, so that the call becomes one
 * instruction where the CPU has it (elsewhere libm's fmaf, correctly rounded too: the same
 * bits, several times slower). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define FI_FMA_CLONES __attribute__((target_clones("fma", "default")))
#endif
#endif
#ifndef FI_FMA_CLONES
#define FI_FMA_CLONES
#endif

/* The hand-written vector paths (intrinsics, dispatched at run time) can be limited, per
 * extension module, so that tests check every path gives the same bits: 2 allows AVX-512,
 * 1 AVX2 at most, 0 the portable C only. */
static int fi_simd_level = 2;
#define FI_USE_AVX2() (fi_simd_level >= 1 && __builtin_cpu_supports("avx2"))
/* The AVX-512 subset every hand-written AVX-512 path here needs. */
#define FI_USE_AVX512()                                                                       \
    (fi_simd_level >= 2 && __builtin_cpu_supports("avx512f") &&                               \
     __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&              \
     __builtin_cpu_supports("avx512vl"))

/* The fastest hand-written path this CPU has and fi_simd_level allows: 2 AVX-512, 1 AVX2,
 * 0 portable C. */
static inline int fi_simd_path(void)
{
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
    if (FI_USE_AVX512())
        return 2;
    if (FI_USE_AVX2())
        return 1;
#endif
    return 0;
}

/* Elements to write one by one before out + k is 64-byte aligned for streaming stores (all of
 * them when the array is not even element-aligned). Streaming (non-temporal) stores skip the
 * read of each line before it is written: for buffers far larger than the caches they are the
 * memory floor; for small ones regular stores keep the data in cache for what reads it next. */
static inline size_t fi_stream_head(const void *out, size_t size, size_t n)
{
    uintptr_t address = (uintptr_t)out;
    if (address % size)
        return n;
    size_t head = ((64 - address % 64) % 64) / size;
    return head < n ? head : n;
}

#endif /* FASTINIT_SIMD_H */

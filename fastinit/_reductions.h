/*
 * Chunk reductions for the fused layer pass. A plain `s += x[i]` loop waits on the previous
 * add each step; four interleaved accumulators (combined in a fixed order, so the result is
 * the same on every run) keep the adder busy and let the compiler use vector lanes.
 */
#ifndef FASTINIT_REDUCTIONS_H
#define FASTINIT_REDUCTIONS_H

#include <stddef.h>

#define FI_DEFINE_REDUCTIONS(T, SUFFIX)                                                       \
    static inline double fi_sum_##SUFFIX(const T *x, size_t n)                                \
    {                                                                                         \
        double a0 = 0, a1 = 0, a2 = 0, a3 = 0;                                                \
        size_t i = 0;                                                                         \
        for (; i + 4 <= n; i += 4) {                                                          \
            a0 += x[i]; a1 += x[i + 1]; a2 += x[i + 2]; a3 += x[i + 3];                       \
        }                                                                                     \
        for (; i < n; i++) a0 += x[i];                                                        \
        return (a0 + a1) + (a2 + a3);                                                         \
    }                                                                                         \
    /* sum of (x - mean)^2 */                                                                 \
    static inline double fi_sqdev_##SUFFIX(const T *x, size_t n, double mean)                 \
    {                                                                                         \
        double a0 = 0, a1 = 0, a2 = 0, a3 = 0, d0, d1, d2, d3;                                \
        size_t i = 0;                                                                         \
        for (; i + 4 <= n; i += 4) {                                                          \
            d0 = x[i] - mean; d1 = x[i + 1] - mean; d2 = x[i + 2] - mean; d3 = x[i + 3] - mean; \
            a0 += d0 * d0; a1 += d1 * d1; a2 += d2 * d2; a3 += d3 * d3;                       \
        }                                                                                     \
        for (; i < n; i++) { d0 = x[i] - mean; a0 += d0 * d0; }                               \
        return (a0 + a1) + (a2 + a3);                                                         \
    }                                                                                         \
    /* min, max and the number of exact zeros */                                             \
    static inline void fi_range_##SUFFIX(const T *x, size_t n, double *lo, double *hi,        \
                                         long long *zeros)                                    \
    {                                                                                         \
        T l0 = x[0], l1 = x[0], h0 = x[0], h1 = x[0];                                         \
        long long z0 = 0, z1 = 0;                                                             \
        size_t i = 0;                                                                         \
        for (; i + 2 <= n; i += 2) {                                                          \
            l0 = x[i] < l0 ? x[i] : l0; h0 = x[i] > h0 ? x[i] : h0; z0 += x[i] == 0;          \
            l1 = x[i + 1] < l1 ? x[i + 1] : l1; h1 = x[i + 1] > h1 ? x[i + 1] : h1;           \
            z1 += x[i + 1] == 0;                                                              \
        }                                                                                     \
        for (; i < n; i++) {                                                                  \
            l0 = x[i] < l0 ? x[i] : l0; h0 = x[i] > h0 ? x[i] : h0; z0 += x[i] == 0;          \
        }                                                                                     \
        *lo = l0 < l1 ? l0 : l1;                                                              \
        *hi = h0 > h1 ? h0 : h1;                                                              \
        *zeros = z0 + z1;                                                                     \
    }

FI_DEFINE_REDUCTIONS(double, d)
FI_DEFINE_REDUCTIONS(float, f)

#endif /* FASTINIT_REDUCTIONS_H */

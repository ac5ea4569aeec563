/*
 * Chunk reductions for the fused layer pass. A plain `s += x[i]` loop waits on the previous
 * add each step; eight accumulators, one per lane, keep the adders busy and let the compiler
 * vectorise without reassociating anything (they are combined in a fixed order, so every build
 * and every clone gives the same bits).
 */
#ifndef FASTINIT_REDUCTIONS_H
#define FASTINIT_REDUCTIONS_H

#include <stddef.h>
#include <string.h>
#include "_simd.h"

#define FI_LANES 8

static inline double fi_combine(const double *a)
{
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

#define FI_DEFINE_REDUCTIONS(T, C, SUFFIX)                                                       \
    FI_VECTOR_CLONES static double fi_sum_##SUFFIX(const T *x, size_t n)                      \
    {                                                                                         \
        double acc[FI_LANES] = {0};                                                           \
        size_t i = 0;                                                                         \
        for (; i + FI_LANES <= n; i += FI_LANES)                                              \
            for (int j = 0; j < FI_LANES; j++) acc[j] += (double)x[i + j];                    \
        for (; i < n; i++) acc[i % FI_LANES] += (double)x[i];                                 \
        return fi_combine(acc);                                                               \
    }                                                                                         \
    /* sum of (x - mean)^2 */                                                                 \
    FI_VECTOR_CLONES static double fi_sqdev_##SUFFIX(const T *x, size_t n, double mean)       \
    {                                                                                         \
        double acc[FI_LANES] = {0};                                                           \
        size_t i = 0;                                                                         \
        for (; i + FI_LANES <= n; i += FI_LANES)                                              \
            for (int j = 0; j < FI_LANES; j++) {                                              \
                double d = (double)x[i + j] - mean;                                           \
                acc[j] += d * d;                                                              \
            }                                                                                 \
        for (; i < n; i++) {                                                                  \
            double d = (double)x[i] - mean;                                                   \
            acc[i % FI_LANES] += d * d;                                                       \
        }                                                                                     \
        return fi_combine(acc);                                                               \
    }                                                                                         \
    /* exact zeros, and values below `below` or above `above` (saturated). Counters C are as  \
     * wide as T so that comparison masks add straight in; n < 2^31. */                       \
    FI_VECTOR_CLONES static void fi_count_##SUFFIX(const T *x, size_t n, T below, T above,    \
                                                   long long *zeros, long long *outside)      \
    {                                                                                         \
        C z[FI_LANES] = {0}, o[FI_LANES] = {0};                                               \
        long long zs = 0, os = 0;                                                             \
        size_t i = 0;                                                                         \
        for (; i + FI_LANES <= n; i += FI_LANES)                                              \
            for (int j = 0; j < FI_LANES; j++) {                                              \
                T v = x[i + j];                                                               \
                z[j] += v == 0 ? 1 : 0;                                                       \
                o[j] += (v < below || v > above) ? 1 : 0;                                     \
            }                                                                                 \
        for (; i < n; i++) {                                                                  \
            zs += x[i] == 0;                                                                  \
            os += x[i] < below || x[i] > above;                                               \
        }                                                                                     \
        for (int j = 0; j < FI_LANES; j++) { zs += z[j]; os += o[j]; }                        \
        *zeros = zs;                                                                          \
        *outside = os;                                                                        \
    }                                                                                         \
    /* np.histogram's counts for equal-width edges (last bin closed), added to hist. The     \
     * index from the scaled offset is corrected against the edges exactly as NumPy does.     \
     * Neighbouring values often share a bin: four interleaved sub-histograms keep their      \
     * increments from waiting on each other. */                                              \
    static void fi_histogram_##SUFFIX(const T *x, size_t n, const double *edges, int bins,    \
                                      double scale, long long *hist)                          \
    {                                                                                         \
        long long sub[4][FI_SMALL_BINS];                                                      \
        long long *target[4];                                                                 \
        double first = edges[0], last = edges[bins];                                          \
        int split = bins <= FI_SMALL_BINS;                                                    \
        for (int k = 0; k < 4; k++) {                                                         \
            target[k] = split ? sub[k] : hist;                                                \
            if (split) memset(sub[k], 0, sizeof(long long) * (size_t)bins);                   \
        }                                                                                     \
        for (size_t i = 0; i < n; i++) {                                                      \
            double v = (double)x[i];                                                          \
            long b;                                                                           \
            if (!(v >= first && v <= last)) continue;                                         \
            b = (long)((v - first) * scale);                                                  \
            b = b >= bins ? bins - 1 : b;                                                     \
            b -= v < edges[b];                                                                \
            b += (b != bins - 1) & (v >= edges[b + 1]);                                       \
            target[i & 3][b]++;                                                               \
        }                                                                                     \
        if (split)                                                                            \
            for (int b = 0; b < bins; b++)                                                    \
                hist[b] += (sub[0][b] + sub[1][b]) + (sub[2][b] + sub[3][b]);                 \
    }

#define FI_SMALL_BINS 128

FI_DEFINE_REDUCTIONS(double, long long, d)
FI_DEFINE_REDUCTIONS(float, int, f)

/*
 * min and max. GCC will not turn `v < m ? v : m` into vector min/max without fast-math, so the
 * AVX2 path says it with intrinsics: _mm256_min_ps(v, m) is exactly `v < m ? v : m` per lane
 * (NaN and signed zeros included), and lanes are combined in the scalar path's order, so both
 * paths give the same result.
 */
#define FI_DEFINE_RANGE_SCALAR(T, SUFFIX)                                                     \
    /* combine the 8 lanes' extremes, then fold in the tail x[i..n): every path ends here */  \
    static inline void fi_range_finish_##SUFFIX(const T *l, const T *h, const T *x, size_t i, \
                                                size_t n, double *lo, double *hi)             \
    {                                                                                         \
        T lo_all = l[0], hi_all = h[0];                                                       \
        for (int j = 1; j < 8; j++) {                                                         \
            lo_all = l[j] < lo_all ? l[j] : lo_all;                                           \
            hi_all = h[j] > hi_all ? h[j] : hi_all;                                           \
        }                                                                                     \
        for (; i < n; i++) {                                                                  \
            lo_all = x[i] < lo_all ? x[i] : lo_all;                                           \
            hi_all = x[i] > hi_all ? x[i] : hi_all;                                           \
        }                                                                                     \
        *lo = lo_all;                                                                         \
        *hi = hi_all;                                                                         \
    }                                                                                         \
    static void fi_range_scalar_##SUFFIX(const T *x, size_t n, double *lo, double *hi)        \
    {                                                                                         \
        T l[8], h[8];                                                                         \
        size_t i = 0;                                                                         \
        for (int j = 0; j < 8; j++) l[j] = h[j] = x[0];                                       \
        for (; i + 8 <= n; i += 8)                                                            \
            for (int j = 0; j < 8; j++) {                                                     \
                l[j] = x[i + j] < l[j] ? x[i + j] : l[j];                                     \
                h[j] = x[i + j] > h[j] ? x[i + j] : h[j];                                     \
            }                                                                                 \
        fi_range_finish_##SUFFIX(l, h, x, i, n, lo, hi);                                      \
    }

FI_DEFINE_RANGE_SCALAR(double, d)
FI_DEFINE_RANGE_SCALAR(float, f)

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define FI_HAVE_AVX2 1


__attribute__((target("avx2"))) static void fi_range_avx2_f(const float *x, size_t n,
                                                            double *lo, double *hi)
{
    __m256 l = _mm256_set1_ps(x[0]), h = l;
    float ls[8], hs[8];
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        l = _mm256_min_ps(v, l);
        h = _mm256_max_ps(v, h);
    }
    _mm256_storeu_ps(ls, l);
    _mm256_storeu_ps(hs, h);
    fi_range_finish_f(ls, hs, x, i, n, lo, hi);
}

/* doubles: two registers make the same 8 lanes as the scalar path */
__attribute__((target("avx2"))) static void fi_range_avx2_d(const double *x, size_t n,
                                                            double *lo, double *hi)
{
    __m256d l0 = _mm256_set1_pd(x[0]), l1 = l0, h0 = l0, h1 = l0;
    double ls[8], hs[8];
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256d v0 = _mm256_loadu_pd(x + i), v1 = _mm256_loadu_pd(x + i + 4);
        l0 = _mm256_min_pd(v0, l0);
        l1 = _mm256_min_pd(v1, l1);
        h0 = _mm256_max_pd(v0, h0);
        h1 = _mm256_max_pd(v1, h1);
    }
    _mm256_storeu_pd(ls, l0);
    _mm256_storeu_pd(ls + 4, l1);
    _mm256_storeu_pd(hs, h0);
    _mm256_storeu_pd(hs + 4, h1);
    fi_range_finish_d(ls, hs, x, i, n, lo, hi);
}
#endif

#define FI_DEFINE_RANGE(T, SUFFIX)                                                            \
    static inline void fi_range_##SUFFIX(const T *x, size_t n, double *lo, double *hi)        \
    {                                                                                         \
        FI_RANGE_DISPATCH(SUFFIX)                                                             \
        fi_range_scalar_##SUFFIX(x, n, lo, hi);                                            \
    }
#ifdef FI_HAVE_AVX2
#define FI_RANGE_DISPATCH(SUFFIX)                                                             \
    if (FI_USE_AVX2()) {                                                                      \
        fi_range_avx2_##SUFFIX(x, n, lo, hi);                                                 \
        return;                                                                               \
    }
#else
#define FI_RANGE_DISPATCH(SUFFIX)
#endif

FI_DEFINE_RANGE(double, d)
FI_DEFINE_RANGE(float, f)

/*
 * Histograms over linspace edges (edges[i] == i * step + first for i < bins, edges[bins] ==
 * last, checked by the caller), AVX2 path: the scalar path's arithmetic four values at a time,
 * with each edge recomputed exactly as linspace made it instead of gathered (gathers are slow
 * here), so every count matches; only the increments stay scalar, one sub-histogram per lane.
 * Values outside [first, last] (and NaN) land in a dump slot past the last bin.
 */
#ifdef FI_HAVE_AVX2
#define FI_DEFINE_HISTOGRAM_LINEAR(T, SUFFIX, LOAD4)                                          \
    __attribute__((target("avx2"))) static void fi_histogram_linear_avx2_##SUFFIX(           \
        const T *x, size_t n, double first, double step, double last, int bins,              \
        double scale, long long *hist)                                                        \
    {                                                                                         \
        long long sub[4][FI_SMALL_BINS + 1];                                                  \
        int index[4];                                                                         \
        const __m256d vfirst = _mm256_set1_pd(first), vlast = _mm256_set1_pd(last);           \
        const __m256d vstep = _mm256_set1_pd(step), vscale = _mm256_set1_pd(scale);           \
        const __m256d top = _mm256_set1_pd((double)(bins - 1)), dump = _mm256_set1_pd(bins); \
        const __m256d one = _mm256_set1_pd(1.0);                                              \
        size_t i = 0;                                                                         \
        memset(sub, 0, sizeof sub);                                                           \
        for (; i + 4 <= n; i += 4) {                                                          \
            __m256d v = LOAD4(x + i), b, lower, upper, inside, up;                            \
            inside = _mm256_and_pd(_mm256_cmp_pd(v, vfirst, _CMP_GE_OQ),                      \
                                   _mm256_cmp_pd(v, vlast, _CMP_LE_OQ));                      \
            b = _mm256_and_pd(_mm256_mul_pd(_mm256_sub_pd(v, vfirst), vscale), inside);       \
            b = _mm256_min_pd(_mm256_round_pd(b, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC), top);\
            lower = _mm256_add_pd(_mm256_mul_pd(b, vstep), vfirst);                           \
            b = _mm256_sub_pd(b, _mm256_and_pd(_mm256_cmp_pd(v, lower, _CMP_LT_OQ), one));    \
            up = _mm256_add_pd(b, one);                                                       \
            upper = _mm256_blendv_pd(_mm256_add_pd(_mm256_mul_pd(up, vstep), vfirst), vlast,  \
                                     _mm256_cmp_pd(up, dump, _CMP_EQ_OQ));                    \
            b = _mm256_add_pd(b, _mm256_and_pd(_mm256_and_pd(                                 \
                _mm256_cmp_pd(v, upper, _CMP_GE_OQ), _mm256_cmp_pd(b, top, _CMP_NEQ_OQ)),     \
                one));                                                                        \
            b = _mm256_blendv_pd(dump, b, inside);                                            \
            _mm_storeu_si128((__m128i *)index, _mm256_cvttpd_epi32(b));                      \
            sub[0][index[0]]++;                                                               \
            sub[1][index[1]]++;                                                               \
            sub[2][index[2]]++;                                                               \
            sub[3][index[3]]++;                                                               \
        }                                                                                     \
        for (int k = 0; k < bins; k++)                                                        \
            hist[k] += (sub[0][k] + sub[1][k]) + (sub[2][k] + sub[3][k]);                     \
        for (; i < n; i++) {                                                                  \
            double v = (double)x[i], lower, upper;                                            \
            long b;                                                                           \
            if (!(v >= first && v <= last)) continue;                                         \
            b = (long)((v - first) * scale);                                                  \
            b = b >= bins ? bins - 1 : b;                                                     \
            lower = (double)b * step + first;                                                 \
            b -= v < lower;                                                                   \
            upper = b + 1 == bins ? last : (double)(b + 1) * step + first;                    \
            b += (b != bins - 1) & (v >= upper);                                              \
            hist[b]++;                                                                        \
        }                                                                                     \
    }

__attribute__((target("avx2"))) static inline __m256d fi_load4_d(const double *x)
{
    return _mm256_loadu_pd(x);
}

__attribute__((target("avx2"))) static inline __m256d fi_load4_f(const float *x)
{
    return _mm256_cvtps_pd(_mm_loadu_ps(x));
}

FI_DEFINE_HISTOGRAM_LINEAR(double, d, fi_load4_d)
FI_DEFINE_HISTOGRAM_LINEAR(float, f, fi_load4_f)
#endif

/* np.histogram's counts; step > 0 says the edges are linspace's (see above). */
#define FI_DEFINE_HISTOGRAM_DISPATCH(T, SUFFIX)                                               \
    static inline void fi_histogram_fast_##SUFFIX(const T *x, size_t n, const double *edges,  \
                                                  int bins, double scale, double step,        \
                                                  long long *hist)                            \
    {                                                                                         \
        FI_HISTOGRAM_LINEAR(SUFFIX)                                                           \
        fi_histogram_##SUFFIX(x, n, edges, bins, scale, hist);                                \
    }
#ifdef FI_HAVE_AVX2
#define FI_HISTOGRAM_LINEAR(SUFFIX)                                                           \
    if (step > 0 && bins <= FI_SMALL_BINS && FI_USE_AVX2()) {                                 \
        fi_histogram_linear_avx2_##SUFFIX(x, n, edges[0], step, edges[bins], bins, scale,     \
                                          hist);                                              \
        return;                                                                               \
    }
#else
#define FI_HISTOGRAM_LINEAR(SUFFIX)
#endif
FI_DEFINE_HISTOGRAM_DISPATCH(double, d)
FI_DEFINE_HISTOGRAM_DISPATCH(float, f)

#endif /* FASTINIT_REDUCTIONS_H */

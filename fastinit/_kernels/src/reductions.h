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
#include <math.h>
#include "simd.h"

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
/* a unit in the last place at 1, per data type (the guess-and-check histograms' margin) */
#define FI_UNIT_d 0x1p-52
#define FI_UNIT_f 0x1p-23

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

#ifdef FI_HAVE_AVX2
/*
 * The same histogram, eight values at a time in AVX-512: the bin and its corrections against
 * the recomputed edges in mask registers, 32-bit counts in one sub-histogram per lane (a
 * chunk holds far fewer than 2^32 values; the caller passes n < 2^31), and the same scalar
 * tail. Counts are integers: every path gives the same ones.
 */
#define FI_AVX512_TARGET __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl")))
#define FI_DEFINE_HISTOGRAM_LINEAR512(T, SUFFIX, LOAD8)                                       \
    FI_AVX512_TARGET static void fi_histogram_linear_avx512_##SUFFIX(                         \
        const T *x, size_t n, double first, double step, double last, int bins,              \
        double scale, long long *hist)                                                        \
    {                                                                                         \
        uint32_t sub[8][FI_SMALL_BINS + 1];                                                   \
        int index[8];                                                                         \
        const __m512d vfirst = _mm512_set1_pd(first), vlast = _mm512_set1_pd(last);           \
        const __m512d vstep = _mm512_set1_pd(step), vscale = _mm512_set1_pd(scale);           \
        const __m512d top = _mm512_set1_pd((double)(bins - 1)), dump = _mm512_set1_pd(bins); \
        const __m512d one = _mm512_set1_pd(1.0);                                              \
        size_t i = 0;                                                                         \
        for (int k = 0; k < 8; k++) memset(sub[k], 0, sizeof(uint32_t) * (size_t)(bins + 1)); \
        for (; i + 8 <= n; i += 8) {                                                          \
            __m512d v = LOAD8(x + i), b, lower, upper, up;                                    \
            __mmask8 inside = _mm512_cmp_pd_mask(v, vfirst, _CMP_GE_OQ) &                     \
                              _mm512_cmp_pd_mask(v, vlast, _CMP_LE_OQ);                       \
            b = _mm512_maskz_roundscale_pd(                                                   \
                inside, _mm512_mul_pd(_mm512_sub_pd(v, vfirst), vscale),                      \
                _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);                                      \
            b = _mm512_min_pd(b, top);                                                        \
            lower = _mm512_add_pd(_mm512_mul_pd(b, vstep), vfirst);                           \
            b = _mm512_mask_sub_pd(b, _mm512_cmp_pd_mask(v, lower, _CMP_LT_OQ), b, one);      \
            up = _mm512_add_pd(b, one);                                                       \
            upper = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(up, dump, _CMP_EQ_OQ),            \
                                         _mm512_add_pd(_mm512_mul_pd(up, vstep), vfirst),     \
                                         vlast);                                              \
            b = _mm512_mask_add_pd(b, _mm512_cmp_pd_mask(v, upper, _CMP_GE_OQ) &              \
                                      _mm512_cmp_pd_mask(b, top, _CMP_NEQ_OQ), b, one);       \
            b = _mm512_mask_blend_pd(inside, dump, b);                                        \
            _mm256_storeu_si256((__m256i *)index, _mm512_cvttpd_epi32(b));                    \
            sub[0][index[0]]++;                                                               \
            sub[1][index[1]]++;                                                               \
            sub[2][index[2]]++;                                                               \
            sub[3][index[3]]++;                                                               \
            sub[4][index[4]]++;                                                               \
            sub[5][index[5]]++;                                                               \
            sub[6][index[6]]++;                                                               \
            sub[7][index[7]]++;                                                               \
        }                                                                                     \
        for (int k = 0; k < bins; k++)                                                        \
            hist[k] += (long long)(((sub[0][k] + sub[1][k]) + (sub[2][k] + sub[3][k])) +      \
                                   ((sub[4][k] + sub[5][k]) + (sub[6][k] + sub[7][k])));     \
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

FI_AVX512_TARGET static inline __m512d fi_load8_d(const double *x)
{
    return _mm512_loadu_pd(x);
}

FI_AVX512_TARGET static inline __m512d fi_load8_f(const float *x)
{
    return _mm512_cvtps_pd(_mm256_loadu_ps(x));
}

FI_DEFINE_HISTOGRAM_LINEAR512(double, d, fi_load8_d)
FI_DEFINE_HISTOGRAM_LINEAR512(float, f, fi_load8_f)

/* NumPy's bin of one value over linspace edges (-1: outside [first, last] or NaN) */
static inline long fi_bin_exact(double v, double first, double step, double last, int bins,
                                double scale)
{
    double lower, upper;
    long b;
    if (!(v >= first && v <= last)) return -1;
    b = (long)((v - first) * scale);
    b = b >= bins ? bins - 1 : b;
    lower = (double)b * step + first;
    b -= v < lower;
    upper = b + 1 == bins ? last : (double)(b + 1) * step + first;
    b += (b != bins - 1) & (v >= upper);
    return b;
}

/*
 * Guess and check, in the data's own precision: the position p = (v - first) * scale, its
 * whole part is the bin whenever its fraction keeps more than `margin` away from 0 and 1 --
 * margin bounds the rounding of p (a few units in the last place of the reach of the edges,
 * times scale) and of the edges themselves, with a factor of 4 to spare -- and the rare value
 * that sits closer to an edge takes NumPy's own rule above. So every count is NumPy's, at
 * about a third of the instructions of checking every value against its edges. The caller
 * checks that margin < 0.25 (else the edges are too far from 0 for their width to tell).
 */
static inline double fi_histogram_margin(double first, double last, int bins, double scale,
                                         double unit)
{
    double reach = (first < 0 ? -first : first) + (last < 0 ? -last : last);
    return 16.0 * unit * (reach * scale + bins);
}

/* one increment per lane, lane k into sub[k]: indices taken out of the register two at a time
 * (a vector store read back by scalar loads stalls store forwarding on some CPUs) */
FI_AVX512_TARGET static inline void fi_count4(uint32_t (*sub)[FI_SMALL_BINS + 1], __m128i idx)
{
    uint64_t low = (uint64_t)_mm_cvtsi128_si64(idx), high = (uint64_t)_mm_extract_epi64(idx, 1);
    sub[0][(uint32_t)low]++;
    sub[1][low >> 32]++;
    sub[2][(uint32_t)high]++;
    sub[3][high >> 32]++;
}

FI_AVX512_TARGET static inline void fi_count16(uint32_t (*sub)[FI_SMALL_BINS + 1], __m512i idx)
{
    fi_count4(sub, _mm512_castsi512_si128(idx));
    fi_count4(sub + 4, _mm512_extracti32x4_epi32(idx, 1));
    fi_count4(sub + 8, _mm512_extracti32x4_epi32(idx, 2));
    fi_count4(sub + 12, _mm512_extracti32x4_epi32(idx, 3));
}

FI_AVX512_TARGET static void fi_histogram_guess_avx512_f(const float *x, size_t n,
                                                          double first, double step,
                                                          double last, int bins, double scale,
                                                          double margin, long long *hist)
{
    uint32_t sub[16][FI_SMALL_BINS + 1];
    /* v >= first and v <= last for a float v, said in floats */
    float lo = (float)first, hi = (float)last;
    if ((double)lo < first) lo = nextafterf(lo, INFINITY);
    if ((double)hi > last) hi = nextafterf(hi, -INFINITY);
    const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    const __m512 vfirst = _mm512_set1_ps((float)first), vscale = _mm512_set1_ps((float)scale);
    const __m512 vmargin = _mm512_set1_ps((float)margin);
    const __m512 vfar = _mm512_set1_ps(1.0f - (float)margin);
    const __m512i dump = _mm512_set1_epi32(bins);
    size_t i = 0;
    for (int k = 0; k < 16; k++) memset(sub[k], 0, sizeof(uint32_t) * (size_t)(bins + 1));
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        __mmask16 inside = _mm512_cmp_ps_mask(v, vlo, _CMP_GE_OQ) &
                           _mm512_cmp_ps_mask(v, vhi, _CMP_LE_OQ);
        __m512 p = _mm512_mul_ps(_mm512_sub_ps(v, vfirst), vscale);
        __m512 b = _mm512_roundscale_ps(p, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        __m512 frac = _mm512_sub_ps(p, b);
        __mmask16 sure = inside & _mm512_cmp_ps_mask(frac, vmargin, _CMP_GE_OQ) &
                         _mm512_cmp_ps_mask(frac, vfar, _CMP_LE_OQ);
        __mmask16 near = inside & ~sure;
        fi_count16(sub, _mm512_mask_blend_epi32(sure, dump, _mm512_cvttps_epi32(b)));
        while (near) {
            int k = __builtin_ctz(near);
            hist[fi_bin_exact((double)x[i + k], first, step, last, bins, scale)]++;
            near &= near - 1;
        }
    }
    for (int k = 0; k < bins; k++) {
        uint32_t total = 0;
        for (int j = 0; j < 16; j++) total += sub[j][k];
        hist[k] += total;
    }
    for (; i < n; i++) {
        long b = fi_bin_exact((double)x[i], first, step, last, bins, scale);
        if (b >= 0) hist[b]++;
    }
}

FI_AVX512_TARGET static void fi_histogram_guess_avx512_d(const double *x, size_t n,
                                                          double first, double step,
                                                          double last, int bins, double scale,
                                                          double margin, long long *hist)
{
    uint32_t sub[8][FI_SMALL_BINS + 1];
    const __m512d vlo = _mm512_set1_pd(first), vhi = _mm512_set1_pd(last);
    const __m512d vscale = _mm512_set1_pd(scale);
    const __m512d vmargin = _mm512_set1_pd(margin), vfar = _mm512_set1_pd(1.0 - margin);
    const __m256i dump = _mm256_set1_epi32(bins);
    size_t i = 0;
    for (int k = 0; k < 8; k++) memset(sub[k], 0, sizeof(uint32_t) * (size_t)(bins + 1));
    for (; i + 8 <= n; i += 8) {
        __m512d v = _mm512_loadu_pd(x + i);
        __mmask8 inside = _mm512_cmp_pd_mask(v, vlo, _CMP_GE_OQ) &
                          _mm512_cmp_pd_mask(v, vhi, _CMP_LE_OQ);
        __m512d p = _mm512_mul_pd(_mm512_sub_pd(v, vlo), vscale);
        __m512d b = _mm512_roundscale_pd(p, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        __m512d frac = _mm512_sub_pd(p, b);
        __mmask8 sure = inside & _mm512_cmp_pd_mask(frac, vmargin, _CMP_GE_OQ) &
                        _mm512_cmp_pd_mask(frac, vfar, _CMP_LE_OQ);
        __mmask8 near = inside & ~sure;
        __m256i idx = _mm256_mask_blend_epi32(sure, dump, _mm512_cvttpd_epi32(b));
        fi_count4(sub, _mm256_castsi256_si128(idx));
        fi_count4(sub + 4, _mm256_extracti128_si256(idx, 1));
        while (near) {
            int k = __builtin_ctz(near);
            hist[fi_bin_exact(x[i + k], first, step, last, bins, scale)]++;
            near &= near - 1;
        }
    }
    for (int k = 0; k < bins; k++) {
        uint32_t total = 0;
        for (int j = 0; j < 8; j++) total += sub[j][k];
        hist[k] += total;
    }
    for (; i < n; i++) {
        long b = fi_bin_exact(x[i], first, step, last, bins, scale);
        if (b >= 0) hist[b]++;
    }
}
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
    if (step > 0 && bins <= FI_SMALL_BINS && n < (1u << 31) && FI_USE_AVX512()) {             \
        double margin = fi_histogram_margin(edges[0], edges[bins], bins, scale,               \
                                            FI_UNIT_##SUFFIX);                                \
        if (margin < 0.25)                                                                    \
            fi_histogram_guess_avx512_##SUFFIX(x, n, edges[0], step, edges[bins], bins,       \
                                               scale, margin, hist);                          \
        else                                                                                  \
            fi_histogram_linear_avx512_##SUFFIX(x, n, edges[0], step, edges[bins], bins,      \
                                                scale, hist);                                 \
        return;                                                                               \
    }                                                                                         \
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

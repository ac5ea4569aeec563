/*
 * The ziggurat's fast path over a whole chunk of stream words: out[k] = shift + scale * x_k for
 * every candidate x_k = rabs * w[idx] (sign from one bit), and the indices of the ~1% whose
 * candidate fails the test rabs < k[idx]; the caller finishes those (wedge, tail) one by one.
 * The AVX-512 and AVX2 paths do the scalar path's exact arithmetic sixteen, eight or four lanes
 * at a time, with the table lookups as gathers, so all write the same bits (fastinit.sources
 * documents the layout).
 */
#ifndef FASTINIT_NORMAL_H
#define FASTINIT_NORMAL_H

#include <stddef.h>
#include <stdint.h>
#include "simd.h"

#define FI_MASK52 ((UINT64_C(1) << 52) - 1)
#define FI_MASK23 ((UINT32_C(1) << 23) - 1)

static size_t fi_normal_scalar_d(const uint64_t *words, size_t start, size_t n,
                                 const uint64_t *K, const double *W, double shift, double scale,
                                 double *out, uint32_t *rejects, size_t nrej)
{
    for (size_t k = start; k < n; k++) {
        uint64_t w = words[k], idx = w & 0xff, rabs = (w >> 9) & FI_MASK52;
        double x = (double)(int64_t)rabs * W[idx];
        x = (w >> 8) & 1 ? -x : x;
        out[k] = shift + scale * x;
        if (!(rabs < K[idx])) rejects[nrej++] = (uint32_t)k;
    }
    return nrej;
}

/* float32: the 32-bit halves h of the stream; the candidate is made in float arithmetic, the
 * affine map in double, then rounded to float */
static size_t fi_normal_scalar_f(const uint32_t *halves, size_t start, size_t n,
                                 const uint32_t *K, const float *W, double shift, double scale,
                                 float *out, uint32_t *rejects, size_t nrej)
{
    for (size_t k = start; k < n; k++) {
        uint32_t h = halves[k], idx = h & 0xff, rabs = (h >> 9) & FI_MASK23;
        float x = (float)(int32_t)rabs * W[idx];
        x = (h >> 8) & 1 ? -x : x;
        out[k] = (float)(shift + scale * (double)x);
        if (!(rabs < K[idx])) rejects[nrej++] = (uint32_t)k;
    }
    return nrej;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

__attribute__((target("avx2"))) static size_t fi_normal_avx2_d(
    const uint64_t *words, size_t n, const uint64_t *K, const double *W, double shift,
    double scale, double *out, uint32_t *rejects)
{
    const __m256i low8 = _mm256_set1_epi64x(0xff), mask52 = _mm256_set1_epi64x(FI_MASK52);
    const __m256i one = _mm256_set1_epi64x(1);
    /* rabs < 2^52: OR-ing it into the mantissa of 2^52 and subtracting 2^52 converts exactly */
    const __m256i exponent52 = _mm256_set1_epi64x(0x4330000000000000LL);
    const __m256d two52 = _mm256_set1_pd(4503599627370496.0);
    const __m256d vshift = _mm256_set1_pd(shift), vscale = _mm256_set1_pd(scale);
    size_t k = 0, nrej = 0;
    for (; k + 4 <= n; k += 4) {
        __m256i w = _mm256_loadu_si256((const __m256i *)(words + k));
        __m256i idx = _mm256_and_si256(w, low8);
        __m256i rabs = _mm256_and_si256(_mm256_srli_epi64(w, 9), mask52);
        __m256i sign = _mm256_slli_epi64(_mm256_and_si256(_mm256_srli_epi64(w, 8), one), 63);
        __m256d r = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(rabs, exponent52)), two52);
        __m256d x = _mm256_mul_pd(r, _mm256_i64gather_pd(W, idx, 8));
        __m256i k_idx = _mm256_i64gather_epi64((const long long *)K, idx, 8);
        /* both below 2^63: the signed compare is the unsigned one */
        int failed = _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpgt_epi64(k_idx, rabs)))
                     ^ 0xf;
        x = _mm256_xor_pd(x, _mm256_castsi256_pd(sign));
        _mm256_storeu_pd(out + k, _mm256_add_pd(vshift, _mm256_mul_pd(vscale, x)));
        while (failed) {
            rejects[nrej++] = (uint32_t)(k + (size_t)__builtin_ctz((unsigned)failed));
            failed &= failed - 1;
        }
    }
    return fi_normal_scalar_d(words, k, n, K, W, shift, scale, out, rejects, nrej);
}

__attribute__((target("avx2"))) static size_t fi_normal_avx2_f(
    const uint32_t *halves, size_t n, const uint32_t *K, const float *W, double shift,
    double scale, float *out, uint32_t *rejects)
{
    const __m256i low8 = _mm256_set1_epi32(0xff), mask23 = _mm256_set1_epi32(FI_MASK23);
    const __m256i one = _mm256_set1_epi32(1);
    const __m256d vshift = _mm256_set1_pd(shift), vscale = _mm256_set1_pd(scale);
    size_t k = 0, nrej = 0;
    for (; k + 8 <= n; k += 8) {
        __m256i h = _mm256_loadu_si256((const __m256i *)(halves + k));
        __m256i idx = _mm256_and_si256(h, low8);
        __m256i rabs = _mm256_and_si256(_mm256_srli_epi32(h, 9), mask23);
        __m256i sign = _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(h, 8), one), 31);
        __m256 x = _mm256_mul_ps(_mm256_cvtepi32_ps(rabs), _mm256_i32gather_ps(W, idx, 4));
        __m256i k_idx = _mm256_i32gather_epi32((const int *)K, idx, 4);
        int failed = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(k_idx, rabs)))
                     ^ 0xff;
        __m256d lo, hi;
        x = _mm256_xor_ps(x, _mm256_castsi256_ps(sign));
        lo = _mm256_add_pd(vshift, _mm256_mul_pd(vscale, _mm256_cvtps_pd(
            _mm256_castps256_ps128(x))));
        hi = _mm256_add_pd(vshift, _mm256_mul_pd(vscale, _mm256_cvtps_pd(
            _mm256_extractf128_ps(x, 1))));
        _mm_storeu_ps(out + k, _mm256_cvtpd_ps(lo));
        _mm_storeu_ps(out + k + 4, _mm256_cvtpd_ps(hi));
        while (failed) {
            rejects[nrej++] = (uint32_t)(k + (size_t)__builtin_ctz((unsigned)failed));
            failed &= failed - 1;
        }
    }
    return fi_normal_scalar_f(halves, k, n, K, W, shift, scale, out, rejects, nrej);
}
__attribute__((target("avx512f,avx512dq,avx512vl"))) static size_t fi_normal_avx512_d(
    const uint64_t *words, size_t n, const uint64_t *K, const double *W, double shift,
    double scale, double *out, uint32_t *rejects)
{
    const __m512i low8 = _mm512_set1_epi64(0xff), mask52 = _mm512_set1_epi64(FI_MASK52);
    const __m512i one = _mm512_set1_epi64(1);
    const __m512d vshift = _mm512_set1_pd(shift), vscale = _mm512_set1_pd(scale);
    size_t k = 0, nrej = 0;
    for (; k + 8 <= n; k += 8) {
        __m512i w = _mm512_loadu_si512((const void *)(words + k));
        __m512i idx = _mm512_and_si512(w, low8);
        __m512i rabs = _mm512_and_si512(_mm512_srli_epi64(w, 9), mask52);
        __m512i sign = _mm512_slli_epi64(_mm512_and_si512(_mm512_srli_epi64(w, 8), one), 63);
        /* rabs < 2^52: the conversion is exact */
        __m512d x = _mm512_mul_pd(_mm512_cvtepi64_pd(rabs), _mm512_i64gather_pd(idx, W, 8));
        __m512i k_idx = _mm512_i64gather_epi64(idx, (const long long *)K, 8);
        unsigned failed = (unsigned)_mm512_cmpge_epu64_mask(rabs, k_idx);
        x = _mm512_castsi512_pd(_mm512_xor_si512(_mm512_castpd_si512(x), sign));
        _mm512_storeu_pd(out + k, _mm512_add_pd(vshift, _mm512_mul_pd(vscale, x)));
        while (failed) {
            rejects[nrej++] = (uint32_t)(k + (size_t)__builtin_ctz(failed));
            failed &= failed - 1;
        }
    }
    return fi_normal_scalar_d(words, k, n, K, W, shift, scale, out, rejects, nrej);
}

/* float32 on AVX-512 reads each layer's scale and threshold with one 64-bit gather from
 * KW[i] = bits(W[i]) | K[i] << 32 (half the gathered elements of two 32-bit lookups; gathers
 * cost per element) and splits the pairs with two permutes. */
__attribute__((target("avx512f,avx512dq,avx512vl"))) static size_t fi_normal_avx512_f(
    const uint32_t *halves, size_t n, const uint32_t *K, const float *W, const uint64_t *KW,
    double shift, double scale, float *out, uint32_t *rejects)
{
    const __m512i evens = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4,
                                           2, 0);
    const __m512i odds = _mm512_add_epi32(evens, _mm512_set1_epi32(1));
    const __m512i low8 = _mm512_set1_epi32(0xff), mask23 = _mm512_set1_epi32(FI_MASK23);
    const __m512i one = _mm512_set1_epi32(1);
    const __m512d vshift = _mm512_set1_pd(shift), vscale = _mm512_set1_pd(scale);
    size_t k = 0, nrej = 0;
    for (; k + 16 <= n; k += 16) {
        __m512i h = _mm512_loadu_si512((const void *)(halves + k));
        __m512i idx = _mm512_and_si512(h, low8);
        __m512i rabs = _mm512_and_si512(_mm512_srli_epi32(h, 9), mask23);
        __m512i sign = _mm512_slli_epi32(_mm512_and_si512(_mm512_srli_epi32(h, 8), one), 31);
        __m512i pairs_lo = _mm512_i32gather_epi64(_mm512_castsi512_si256(idx),
                                                  (const long long *)KW, 8);
        __m512i pairs_hi = _mm512_i32gather_epi64(_mm512_extracti64x4_epi64(idx, 1),
                                                  (const long long *)KW, 8);
        __m512 w_idx = _mm512_castsi512_ps(_mm512_permutex2var_epi32(pairs_lo, evens, pairs_hi));
        __m512i k_idx = _mm512_permutex2var_epi32(pairs_lo, odds, pairs_hi);
        __m512 x = _mm512_mul_ps(_mm512_cvtepi32_ps(rabs), w_idx);
        unsigned failed = (unsigned)_mm512_cmpge_epu32_mask(rabs, k_idx);
        x = _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(x), sign));
        __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(x));
        __m512d hi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(
            _mm512_castps_pd(x), 1)));
        _mm256_storeu_ps(out + k, _mm512_cvtpd_ps(_mm512_add_pd(vshift,
                                                                _mm512_mul_pd(vscale, lo))));
        _mm256_storeu_ps(out + k + 8, _mm512_cvtpd_ps(_mm512_add_pd(vshift,
                                                                    _mm512_mul_pd(vscale, hi))));
        while (failed) {
            rejects[nrej++] = (uint32_t)(k + (size_t)__builtin_ctz(failed));
            failed &= failed - 1;
        }
    }
    return fi_normal_scalar_f(halves, k, n, K, W, shift, scale, out, rejects, nrej);
}

#define FI_NORMAL_X86 1
#endif

/* Returns how many candidates failed; their indices, ascending, are in rejects[0 ..). */
static inline size_t fi_normal_d(const uint64_t *words, size_t n, const uint64_t *K,
                                 const double *W, double shift, double scale, double *out,
                                 uint32_t *rejects)
{
#ifdef FI_NORMAL_X86
    if (FI_USE_AVX512())
        return fi_normal_avx512_d(words, n, K, W, shift, scale, out, rejects);
    if (FI_USE_AVX2())
        return fi_normal_avx2_d(words, n, K, W, shift, scale, out, rejects);
#endif
    return fi_normal_scalar_d(words, 0, n, K, W, shift, scale, out, rejects, 0);
}

static inline size_t fi_normal_f(const uint32_t *halves, size_t n, const uint32_t *K,
                                 const float *W, const uint64_t *KW, double shift,
                                 double scale, float *out, uint32_t *rejects)
{
#ifdef FI_NORMAL_X86
    if (FI_USE_AVX512())
        return fi_normal_avx512_f(halves, n, K, W, KW, shift, scale, out, rejects);
    if (FI_USE_AVX2())
        return fi_normal_avx2_f(halves, n, K, W, shift, scale, out, rejects);
#endif
    return fi_normal_scalar_f(halves, 0, n, K, W, shift, scale, out, rejects, 0);
}

#endif /* FASTINIT_NORMAL_H */

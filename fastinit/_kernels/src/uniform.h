/*
 * Uniform values from stream words, the dtype's way (fastinit/sources.py).
 *
 * float64: u = (word64 >> 11) * 2^-53, then low + (high - low) * u in double (fp-contract=off
 * keeps the multiply and the add apart), clamped to [lo, hi], the first and last doubles in
 * [low, high).
 *
 * float32 (stream version 3): u = (word32 >> 8) * 2^-24 and v = fma(width, u, low) in float,
 * width and low being high - low and low rounded to float: the exact value width * u + low
 * rounded once, then clamped to [lo, hi]. (Version 2 did this in double and rounded twice;
 * the double converts cost a third of a float32 fill.) A width too large for a float keeps
 * the double formula (fi_uniform_wide_f). With width * 2^-24 exact (no underflow), the vector
 * paths take fma(width * 2^-24, word >> 8, low): the same real number, so the same rounding.
 *
 * Every path writes the same bits: integer to double or float conversions are exact here,
 * and the fused multiply-add rounds once on every path (fmaf in C is correctly rounded).
 */
#ifndef FASTINIT_UNIFORM_H
#define FASTINIT_UNIFORM_H

#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include "philox.h"
#include "simd.h"

static void fi_uniform_scalar_d(const uint64_t *w, size_t start, size_t n, double shift,
                                double scale, double lo, double hi, double *out)
{
    for (size_t k = start; k < n; k++) {
        double v = shift + scale * ((double)(int64_t)(w[k] >> 11) * 0x1p-53);
        v = v < lo ? lo : v;
        out[k] = v > hi ? hi : v;
    }
}

/* float32 with a width too large for a float: version 2's formula, in double */
static void fi_uniform_wide_f(const uint32_t *w, size_t n, double shift, double scale, float lo,
                              float hi, float *out)
{
    for (size_t k = 0; k < n; k++) {
        float v = (float)(shift + scale * ((double)(int32_t)(w[k] >> 8) * 0x1p-24));
        v = v < lo ? lo : v;
        out[k] = v > hi ? hi : v;
    }
}

FI_FMA_CLONES static void fi_uniform_scalar_f(const uint32_t *w, size_t start, size_t n,
                                              float low, float width, float lo, float hi,
                                              float *out)
{
    for (size_t k = start; k < n; k++) {
        float v = fmaf(width, (float)(int32_t)(w[k] >> 8) * 0x1p-24f, low);
        v = v < lo ? lo : v;
        out[k] = v > hi ? hi : v;
    }
}

/* width * 2^-24 is exact: zero, or no smaller than the least normal float times 2^24 */
static inline int fi_uniform_step_exact(float width)
{
    return width == 0.0f || fabsf(width) >= 0x1p-102f;
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>

__attribute__((target("avx512f,avx512dq,avx512vl")))
static void fi_uniform_avx512_d(const uint64_t *w, size_t n, double shift, double scale,
                                double lo, double hi, double *out, int nt)
{
    const __m512d vs = _mm512_set1_pd(shift), vk = _mm512_set1_pd(scale);
    const __m512d vlo = _mm512_set1_pd(lo), vhi = _mm512_set1_pd(hi);
    const __m512d step = _mm512_set1_pd(0x1p-53);
    size_t k = nt ? fi_stream_head(out, sizeof *out, n) : 0;
    fi_uniform_scalar_d(w, 0, k, shift, scale, lo, hi, out);
    for (; k + 8 <= n; k += 8) {
        __m512i x = _mm512_srli_epi64(_mm512_loadu_si512((const void *)(w + k)), 11);
        __m512d v = _mm512_add_pd(vs, _mm512_mul_pd(vk, _mm512_mul_pd(_mm512_cvtepi64_pd(x),
                                                                       step)));
        /* max(lo, v) then min(hi, .), v second: on a tie (zeros of either sign) or a NaN the
         * instructions return their second operand, v, as the scalar selects do */
        v = _mm512_min_pd(vhi, _mm512_max_pd(vlo, v));
        if (nt)
            _mm512_stream_pd(out + k, v);
        else
            _mm512_storeu_pd(out + k, v);
    }
    if (nt)
        _mm_sfence();
    fi_uniform_scalar_d(w, k, n, shift, scale, lo, hi, out);
}

/* Sixteen float32 uniforms of sixteen stream words: fma(step, word >> 8, low) clamped. */
__attribute__((target("avx512f,avx512dq,avx512vl")))
static inline __m512 fi_uniform16(__m512i words, __m512 step, __m512 vlow, __m512 vlo,
                                  __m512 vhi)
{
    __m512 v = _mm512_fmadd_ps(step, _mm512_cvtepi32_ps(_mm512_srli_epi32(words, 8)), vlow);
    /* max(lo, v) then min(hi, .), v second: on a tie (zeros of either sign) or a NaN the
     * instructions return their second operand, v, as the scalar selects do */
    return _mm512_min_ps(vhi, _mm512_max_ps(vlo, v));
}

__attribute__((target("avx512f,avx512dq,avx512vl")))
static void fi_uniform_avx512_f(const uint32_t *w, size_t n, float low, float width, float lo,
                                float hi, float *out, int nt)
{
    const __m512 step = _mm512_set1_ps(width * 0x1p-24f), vlow = _mm512_set1_ps(low);
    const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    size_t k = nt ? fi_stream_head(out, sizeof *out, n) : 0;
    fi_uniform_scalar_f(w, 0, k, low, width, lo, hi, out);
    for (; k + 16 <= n; k += 16) {
        __m512 v = fi_uniform16(_mm512_loadu_si512(w + k), step, vlow, vlo, vhi);
        if (nt)
            _mm512_stream_ps(out + k, v);
        else
            _mm512_storeu_ps(out + k, v);
    }
    if (nt)
        _mm_sfence();
    fi_uniform_scalar_f(w, k, n, low, width, lo, hi, out);
}

__attribute__((target("avx2")))
static void fi_uniform_avx2_d(const uint64_t *w, size_t n, double shift, double scale,
                              double lo, double hi, double *out)
{
    const __m256d vs = _mm256_set1_pd(shift), vk = _mm256_set1_pd(scale);
    const __m256d vlo = _mm256_set1_pd(lo), vhi = _mm256_set1_pd(hi);
    /* x < 2^53: OR-ing it into the mantissa of 2^52... would lose its top bit, so split:
     * x = hi21 * 2^32 + lo32, each converted exactly */
    const __m256i exp52 = _mm256_set1_epi64x(0x4330000000000000LL);
    const __m256d two52 = _mm256_set1_pd(0x1p52), two32 = _mm256_set1_pd(0x1p32);
    const __m256i low32 = _mm256_set1_epi64x(0xFFFFFFFFLL);
    const __m256d step = _mm256_set1_pd(0x1p-53);
    size_t k = 0;
    for (; k + 4 <= n; k += 4) {
        __m256i x = _mm256_srli_epi64(_mm256_loadu_si256((const __m256i *)(w + k)), 11);
        __m256d xl = _mm256_sub_pd(_mm256_castsi256_pd(
            _mm256_or_si256(_mm256_and_si256(x, low32), exp52)), two52);
        __m256d xh = _mm256_sub_pd(_mm256_castsi256_pd(
            _mm256_or_si256(_mm256_srli_epi64(x, 32), exp52)), two52);
        __m256d xd = _mm256_add_pd(_mm256_mul_pd(xh, two32), xl);  /* exact: < 2^53 */
        __m256d v = _mm256_add_pd(vs, _mm256_mul_pd(vk, _mm256_mul_pd(xd, step)));
        _mm256_storeu_pd(out + k, _mm256_min_pd(vhi, _mm256_max_pd(vlo, v)));
    }
    fi_uniform_scalar_d(w, k, n, shift, scale, lo, hi, out);
}

__attribute__((target("avx2,fma")))
static void fi_uniform_avx2_f(const uint32_t *w, size_t n, float low, float width, float lo,
                              float hi, float *out)
{
    const __m256 step = _mm256_set1_ps(width * 0x1p-24f), vlow = _mm256_set1_ps(low);
    const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
    size_t k = 0;
    for (; k + 8 <= n; k += 8) {
        __m256 x = _mm256_cvtepi32_ps(
            _mm256_srli_epi32(_mm256_loadu_si256((const __m256i *)(w + k)), 8));
        __m256 v = _mm256_fmadd_ps(step, x, vlow);
        _mm256_storeu_ps(out + k, _mm256_min_ps(vhi, _mm256_max_ps(vlo, v)));
    }
    fi_uniform_scalar_f(w, k, n, low, width, lo, hi, out);
}

/* float32 uniforms of stream words first + i, i in [*begin, *end), made in registers: Philox
 * (eight registers of four blocks, as fi_philox_blocks_avx512) straight into the fused
 * multiply-add, 128 elements per step, with no words written to memory and read back. *begin
 * is the first element on a block boundary (and, with nt, on a 64-byte boundary of out); the
 * caller makes the elements outside [*begin, *end) the usual way. */
__attribute__((target("avx512f,avx512dq,avx512bw,avx512vl")))
static void fi_uniform_philox_avx512_f(const uint32_t key[2], uint64_t first, size_t n,
                                       float low, float width, float lo, float hi, float *out,
                                       int nt, size_t *begin, size_t *end)
{
    size_t i = (size_t)((4 - first % 4) % 4);
    if (nt) {
        while (i < 64 && ((uintptr_t)(out + i) % 64 != 0 || (first + i) % 4 != 0))
            i++;
        if (i == 64) {  /* no element starts both a block and a line of out: plain stores */
            nt = 0;
            i = (size_t)((4 - first % 4) % 4);
        }
    }
    *begin = *end = i < n ? i : n;
    const __m512 step = _mm512_set1_ps(width * 0x1p-24f), vlow = _mm512_set1_ps(low);
    const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    __m512i keys[10];
    fi_philox_keys512(key, keys);
    for (; i + 128 <= n; i += 128) {
        uint64_t b = (first + i) / 4;
        if ((uint32_t)b > 0xFFFFFFFFu - 31u)  /* the low counter word would wrap: stop here */
            break;
        __m512i x[8];
        fi_philox_counters512(b, x);
        fi_philox_rounds512(x, keys);
        for (int j = 0; j < 8; j++) {
            /* words back in stream order, then values */
            __m512 v = fi_uniform16(fi_philox_swap13(x[j]), step, vlow, vlo, vhi);
            if (nt)
                _mm512_stream_ps(out + i + 16 * j, v);
            else
                _mm512_storeu_ps(out + i + 16 * j, v);
        }
        *end = i + 128;
    }
    if (nt)
        _mm_sfence();
}
#define FI_UNIFORM_X86 1
#endif

/* z = clamp(shift + scale * z, lo, hi) in double, then rounded to the array's dtype. */
/* The truncated normal's pass over a chunk of standard normals z: the indices k of the z[k]
 * outside [alpha, beta] (NaN counts as outside) go to idx (returned: how many), and every z[k]
 * becomes clamp(shift + scale * z[k], lo, hi), computed in double and rounded to the dtype
 * (the outside ones are drawn again later). The scalar loops start at `start` with m indices
 * already found. */
static size_t fi_truncate_map_scalar_d(double *z, size_t start, size_t n, const double *q,
                                       uint32_t *idx, size_t m)
{
    for (size_t k = start; k < n; k++) {
        double x = z[k], v = q[2] + q[3] * x;
        idx[m] = (uint32_t)k;
        m += !(q[0] <= x && x <= q[1]);
        v = v < q[4] ? q[4] : v;
        z[k] = v > q[5] ? q[5] : v;
    }
    return m;
}

static size_t fi_truncate_map_scalar_f(float *z, size_t start, size_t n, const double *q,
                                       uint32_t *idx, size_t m)
{
    for (size_t k = start; k < n; k++) {
        double x = (double)z[k], v = q[2] + q[3] * x;
        idx[m] = (uint32_t)k;
        m += !(q[0] <= x && x <= q[1]);
        v = v < q[4] ? q[4] : v;
        z[k] = (float)(v > q[5] ? q[5] : v);
    }
    return m;
}

#ifdef FI_UNIFORM_X86
/* The outside indices by compress: a whole vector of lane indices is stored at idx + m, which
 * never passes idx + k + lanes <= idx + n, and m advances by the count. */
__attribute__((target("avx512f,avx512dq,avx512vl")))
static inline __m512d fi_truncate_map8(__m512d x, const double *q, __mmask8 *outside)
{
    *outside = (__mmask8)~(_mm512_cmp_pd_mask(_mm512_set1_pd(q[0]), x, _CMP_LE_OQ) &
                           _mm512_cmp_pd_mask(x, _mm512_set1_pd(q[1]), _CMP_LE_OQ));
    __m512d v = _mm512_add_pd(_mm512_set1_pd(q[2]), _mm512_mul_pd(_mm512_set1_pd(q[3]), x));
    return _mm512_min_pd(_mm512_set1_pd(q[5]), _mm512_max_pd(_mm512_set1_pd(q[4]), v));
}

__attribute__((target("avx512f,avx512dq,avx512vl")))
static size_t fi_truncate_map_avx512_d(double *z, size_t n, const double *q, uint32_t *idx)
{
    __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    size_t k = 0, m = 0;
    for (; k + 8 <= n; k += 8) {
        __mmask8 outside;
        _mm512_storeu_pd(z + k, fi_truncate_map8(_mm512_loadu_pd(z + k), q, &outside));
        _mm256_storeu_si256((__m256i *)(idx + m), _mm256_maskz_compress_epi32(outside, lanes));
        m += (size_t)__builtin_popcount(outside);
        lanes = _mm256_add_epi32(lanes, _mm256_set1_epi32(8));
    }
    return fi_truncate_map_scalar_d(z, k, n, q, idx, m);
}

__attribute__((target("avx512f,avx512dq,avx512vl")))
static size_t fi_truncate_map_avx512_f(float *z, size_t n, const double *q, uint32_t *idx)
{
    __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    size_t k = 0, m = 0;
    for (; k + 16 <= n; k += 16) {
        __mmask8 out_lo, out_hi;
        /* float to double is exact: the scalar loop's comparisons and arithmetic */
        __m512d lo = fi_truncate_map8(_mm512_cvtps_pd(_mm256_loadu_ps(z + k)), q, &out_lo);
        __m512d hi = fi_truncate_map8(_mm512_cvtps_pd(_mm256_loadu_ps(z + k + 8)), q, &out_hi);
        __mmask16 outside = (__mmask16)(out_lo | (unsigned)out_hi << 8);
        _mm256_storeu_ps(z + k, _mm512_cvtpd_ps(lo));
        _mm256_storeu_ps(z + k + 8, _mm512_cvtpd_ps(hi));
        _mm512_storeu_si512((void *)(idx + m), _mm512_maskz_compress_epi32(outside, lanes));
        m += (size_t)__builtin_popcount(outside);
        lanes = _mm512_add_epi32(lanes, _mm512_set1_epi32(16));
    }
    return fi_truncate_map_scalar_f(z, k, n, q, idx, m);
}
#endif

/* q: alpha, beta, shift, scale, lo, hi */
static inline size_t fi_truncate_map_d(double *z, size_t n, const double *q, uint32_t *idx)
{
#ifdef FI_UNIFORM_X86
    if (fi_simd_path() == 2)
        return fi_truncate_map_avx512_d(z, n, q, idx);
#endif
    return fi_truncate_map_scalar_d(z, 0, n, q, idx, 0);
}

static inline size_t fi_truncate_map_f(float *z, size_t n, const double *q, uint32_t *idx)
{
#ifdef FI_UNIFORM_X86
    if (fi_simd_path() == 2)
        return fi_truncate_map_avx512_f(z, n, q, idx);
#endif
    return fi_truncate_map_scalar_f(z, 0, n, q, idx, 0);
}

static inline void fi_uniform_d(const uint64_t *w, size_t n, double shift, double scale,
                                double lo, double hi, double *out, int nt)
{
#ifdef FI_UNIFORM_X86
    int path = fi_simd_path();
    if (path == 2) { fi_uniform_avx512_d(w, n, shift, scale, lo, hi, out, nt); return; }
    if (path == 1) { fi_uniform_avx2_d(w, n, shift, scale, lo, hi, out); return; }
#endif
    fi_uniform_scalar_d(w, 0, n, shift, scale, lo, hi, out);
}

/* shift, scale: low and high - low as doubles (the law's parameters) */
static inline void fi_uniform_f(const uint32_t *w, size_t n, double shift, double scale,
                                float lo, float hi, float *out, int nt)
{
    float low = (float)shift, width = (float)scale;
    if (isinf(width)) {
        fi_uniform_wide_f(w, n, shift, scale, lo, hi, out);
        return;
    }
#ifdef FI_UNIFORM_X86
    if (fi_uniform_step_exact(width)) {
        int path = fi_simd_path();
        if (path == 2) { fi_uniform_avx512_f(w, n, low, width, lo, hi, out, nt); return; }
        if (path == 1 && __builtin_cpu_supports("fma")) {
            fi_uniform_avx2_f(w, n, low, width, lo, hi, out);
            return;
        }
    }
#endif
    fi_uniform_scalar_f(w, 0, n, low, width, lo, hi, out);
}

/* float32 uniforms of stream words first .. first + n - 1 into out: straight from registers
 * where the AVX-512 path runs, else (and for the few elements around that range) words into
 * `words` (n of them, `scratch` n + 8) and fi_uniform_f. */
static inline void fi_uniform_stream_f(const uint32_t key[2], uint64_t first, size_t n,
                                       double shift, double scale, float lo, float hi,
                                       float *out, int nt, uint32_t *words, uint32_t *scratch)
{
    size_t begin = n, end = n;
#ifdef FI_UNIFORM_X86
    float low = (float)shift, width = (float)scale;
    if (!isinf(width) && fi_uniform_step_exact(width) && fi_simd_path() == 2)
        fi_uniform_philox_avx512_f(key, first, n, low, width, lo, hi, out, nt, &begin, &end);
#endif
    if (begin > 0) {
        fi_philox_words32(key, first, begin, words, scratch);
        fi_uniform_f(words, begin, shift, scale, lo, hi, out, nt);
    }
    if (end < n) {
        fi_philox_words32(key, first + end, n - end, words, scratch);
        fi_uniform_f(words, n - end, shift, scale, lo, hi, out + end, nt);
    }
}

#endif /* FASTINIT_UNIFORM_H */

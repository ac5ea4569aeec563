/*
 * float32 -> float16 and bfloat16, rounded to nearest, ties to even (IEEE 754's default, as
 * NumPy's astype(float16) and torch's .to(bfloat16) round). The kernels draw a chunk in
 * float32, then store it here as 16-bit words: no full-size float32 temporary.
 *
 * Every path gives the same bits: bfloat16 is integer arithmetic on the float's bits (the
 * compiler vectorises it); float16 has a portable C conversion and an AVX-512 one
 * (vcvtps2ph, which rounds the same way, subnormals included).
 */
#ifndef FASTINIT_HALF_H
#define FASTINIT_HALF_H

#include <stdint.h>
#include <string.h>
#include "simd.h"
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>
#endif

static inline uint32_t fi_float_bits(float f)
{
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    return x;
}

/* bfloat16: the top 16 bits, rounded on the 16 below; a NaN stays a (quiet) NaN. */
static inline uint16_t fi_bfloat16(float f)
{
    uint32_t x = fi_float_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((x >> 16) | 0x40u);
    x += 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t)(x >> 16);
}

/* float16: sign, then by magnitude: NaN, overflow to infinity (from 65520, the halfway point
 * above the largest half 65504, up), subnormal halves (below 2^-14: the integer
 * round(|f| * 2^24)), normal halves (exponent rebiased by 127 - 15, 13 bits rounded off). */
static inline uint16_t fi_float16(float f)
{
    uint32_t x = fi_float_bits(f);
    uint32_t sign = (x >> 16) & 0x8000u, a = x & 0x7fffffffu;
    if (a > 0x7f800000u)
        return (uint16_t)(sign | 0x7e00u);
    if (a >= 0x477ff000u)
        return (uint16_t)(sign | 0x7c00u);
    if (a < 0x38800000u) {
        uint32_t e = a >> 23, shift, m;
        if (a < 0x33000000u) /* below 2^-25 (and 2^-25 itself, a tie to the even 0) */
            return (uint16_t)sign;
        m = (a & 0x7fffffu) | 0x800000u;
        shift = 126u - e; /* 14 .. 24 */
        m = (m + (1u << (shift - 1)) - 1u + ((m >> shift) & 1u)) >> shift;
        return (uint16_t)(sign | m);
    }
    a -= 0x38000000u;
    a += 0xfffu + ((a >> 13) & 1u);
    return (uint16_t)(sign | (a >> 13));
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
/* fi_bfloat16 on 16 lanes: the same integer arithmetic, then a truncating 32 -> 16 pack. */
__attribute__((target("avx512f")))
static void fi_store_bfloat16_avx512(const float *in, uint16_t *out, size_t n, int nt)
{
    const __m512i round = _mm512_set1_epi32(0x7fff), one = _mm512_set1_epi32(1);
    const __m512i magnitude = _mm512_set1_epi32(0x7fffffff);
    const __m512i infinity = _mm512_set1_epi32(0x7f800000), quiet = _mm512_set1_epi32(0x40);
    size_t i = nt ? fi_stream_head(out, sizeof *out, n) : 0;
    for (size_t k = 0; k < i; k++)
        out[k] = fi_bfloat16(in[k]);
    for (; i + 16 <= n; i += 16) {
        __m512i x = _mm512_castps_si512(_mm512_loadu_ps(in + i));
        __m512i top = _mm512_srli_epi32(x, 16);
        __m512i r = _mm512_add_epi32(x, _mm512_add_epi32(round, _mm512_and_si512(top, one)));
        __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(x, magnitude), infinity);
        r = _mm512_mask_mov_epi32(_mm512_srli_epi32(r, 16), nan, _mm512_or_si512(top, quiet));
        if (nt)
            _mm256_stream_si256((__m256i *)(out + i), _mm512_cvtepi32_epi16(r));
        else
            _mm256_storeu_si256((__m256i *)(out + i), _mm512_cvtepi32_epi16(r));
    }
    if (nt)
        _mm_sfence();
    for (; i < n; i++)
        out[i] = fi_bfloat16(in[i]);
}
#endif

/* nt: streaming stores (see fi_stream_head) */
static inline void fi_store_bfloat16(const float *in, uint16_t *out, size_t n, int nt)
{
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
    if (fi_simd_path() == 2) {
        fi_store_bfloat16_avx512(in, out, n, nt);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++)
        out[i] = fi_bfloat16(in[i]);
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target("avx512f")))
static void fi_store_float16_avx512(const float *in, uint16_t *out, size_t n, int nt)
{
    size_t i = nt ? fi_stream_head(out, sizeof *out, n) : 0;
    for (size_t k = 0; k < i; k++)
        out[k] = fi_float16(in[k]);
    for (; i + 16 <= n; i += 16) {
        __m256i h = _mm512_cvtps_ph(_mm512_loadu_ps(in + i),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        if (nt)
            _mm256_stream_si256((__m256i *)(out + i), h);
        else
            _mm256_storeu_si256((__m256i *)(out + i), h);
    }
    if (nt)
        _mm_sfence();
    for (; i < n; i++)
        out[i] = fi_float16(in[i]);
}
#endif

static inline void fi_store_float16(const float *in, uint16_t *out, size_t n, int nt)
{
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
    if (fi_simd_path() == 2) {
        fi_store_float16_avx512(in, out, n, nt);
        return;
    }
#endif
    for (size_t i = 0; i < n; i++)
        out[i] = fi_float16(in[i]);
}

#endif /* FASTINIT_HALF_H */

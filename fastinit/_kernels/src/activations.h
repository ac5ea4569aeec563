/*
 * Branch-free tanh and exp for the fused layer pass: written so that the compiler vectorises
 * the loops that call them (libm's versions are scalar calls, 3-10x slower here).
 * Both are accurate to a few ulp over the whole double range, far below what the layer
 * statistics can resolve. Coefficients: Cephes (S. Moshier), tanh.c and exp.c.
 */
#ifndef FASTINIT_ACTIVATIONS_H
#define FASTINIT_ACTIVATIONS_H

#include <stdint.h>
#include <string.h>
#include "simd.h"

/* exp(x) for x <= 0 (0 below -708): x = n ln2 + r, |r| <= ln2 / 2, exp(r) by a Pade approximant,
 * 2^n put straight into the exponent bits. */
/* exp(r) for |r| <= ln2 / 2 as the ratio (q + p) / (q - p) of Cephes's Pade approximant, and the
 * 2^n that scales it: exp(x) = scale * (q + p) / (q - p). Returned apart so that callers can
 * fold the division into their own. n and 2^n come from integer operations on the bits of
 * x / ln2 + 1.5 * 2^52 (no int/double conversion, which SSE2 cannot do on 64-bit lanes and
 * which would stop the loops from vectorising). x is clamped to [-700, 0]. */
static inline void fi_exp_parts(double x, double *p, double *q, double *scale)
{
    const double round_magic = 6755399441055744.0;
    double clamped = x < -700.0 ? -700.0 : (x > 0.0 ? 0.0 : x);
    double shifted = clamped * 1.4426950408889634073599 + round_magic;
    double n = shifted - round_magic;
    double r = clamped - n * 6.93145751953125E-1 - n * 1.42860682030941723212E-6;
    double rr = r * r;
    uint64_t shifted_bits, magic_bits, scale_bits;
    *p = r * ((1.26177193074810590878E-4 * rr + 3.02994407707441961300E-2) * rr
              + 9.99999999999999999910E-1);
    *q = ((3.00198505138664455042E-6 * rr + 2.52448340349684104192E-3) * rr
          + 2.27265548208155028766E-1) * rr + 2.00000000000000000009E0;
    memcpy(&shifted_bits, &shifted, sizeof shifted);
    memcpy(&magic_bits, &round_magic, sizeof round_magic);
    scale_bits = (shifted_bits - magic_bits + 1023) << 52; /* n + 1023 >= 13 */
    memcpy(scale, &scale_bits, sizeof *scale);
}

/* exp(x) for x <= 0 (0 below -708) */
static inline double fi_exp_nonpositive(double x)
{
    double p, q, scale;
    fi_exp_parts(x, &p, &q, &scale);
    return x < -708.0 ? 0.0 : scale * (q + p) / (q - p);
}

static inline double fi_tanh(double x)
{
    double a = x < 0 ? -x : x;
    double z = x * x;
    /* |x| < 0.625: x + x^3 P(x^2) / Q(x^2) = (x Q + x^3 P) / Q */
    double den_small = ((z + 1.12811678491632931402E2) * z + 2.23548839060100448583E3) * z
                       + 4.84406305325125486048E3;
    double num_small = x * den_small
                       + x * z * ((-9.64399179425052238628E-1 * z - 9.92877231001918586564E1) * z
                                  - 1.61468768441708447952E3);
    /* otherwise (1 - t) / (1 + t), t = exp(-2|x|) = scale (q + p) / (q - p) <= 0.29 */
    double p, q, scale, a_, b_, num_large, den_large;
    fi_exp_parts(-2.0 * a, &p, &q, &scale);
    a_ = q - p;
    b_ = scale * (q + p);
    num_large = a_ - b_;
    den_large = a_ + b_;
    num_large = x < 0 ? -num_large : num_large;
    /* one division for either branch */
    return (a < 0.625 ? num_small : num_large) / (a < 0.625 ? den_small : den_large);
}

/* tanh in float arithmetic for float32 layers (eight lanes instead of four): Cephes tanhf's
 * odd polynomial below |x| = 0.625, else 1 - 2 / (exp(2|x|) + 1) with a float exp (range
 * reduction by ln 2 in two parts, a degree-6 polynomial, 2^n into the exponent bits). |x| is
 * clamped to 9, where tanh is 1 in float. About 2 ulp: far below what float32 statistics
 * resolve. */
static inline float fi_tanhf(float x)
{
    const float round_magic = 12582912.0f; /* 1.5 * 2^23 */
    float a = x < 0 ? -x : x;
    float z = x * x;
    float small = ((((-5.70498872745E-3f * z + 2.06390887954E-2f) * z - 5.37397155531E-2f) * z
                    + 1.33314422036E-1f) * z - 3.33332819422E-1f) * z * x + x;
    float t = 2.0f * (a > 9.0f ? 9.0f : a);  /* exp(t), 0 <= t <= 18 */
    float shifted = t * 1.44269504088896341f + round_magic;
    float n = shifted - round_magic;
    float r = t - n * 0.693359375f + n * 2.12194440e-4f;
    float p = ((((((1.9875691500E-4f * r + 1.3981999507E-3f) * r + 8.3334519073E-3f) * r
                  + 4.1665795894E-2f) * r + 1.6666665459E-1f) * r + 5.0000001201E-1f) * r * r
               + r + 1.0f);
    uint32_t shifted_bits, magic_bits, scale_bits;
    float scale, large;
    memcpy(&shifted_bits, &shifted, sizeof shifted);
    memcpy(&magic_bits, &round_magic, sizeof round_magic);
    scale_bits = (shifted_bits - magic_bits + 127) << 23; /* n <= 26 */
    memcpy(&scale, &scale_bits, sizeof scale);
    large = 1.0f - 2.0f / (p * scale + 1.0f);
    large = x < 0 ? -large : large;
    return a < 0.625f ? small : large;
}

/* 1 / (1 + exp(-x)), through exp(-|x|) so that nothing overflows */
static inline double fi_sigmoid(double x)
{
    double e = fi_exp_nonpositive(x < 0 ? x : -x);
    return x >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}

/* In-place loops over a chunk, vectorised (see simd.h). */
#define FI_DEFINE_INPLACE(NAME, FUNCTION, T)                                                  \
    FI_VECTOR_CLONES static void NAME(T *h, size_t n)                                         \
    {                                                                                         \
        for (size_t i = 0; i < n; i++) h[i] = (T)FUNCTION(h[i]);                              \
    }

FI_DEFINE_INPLACE(fi_tanh_d, fi_tanh, double)
FI_DEFINE_INPLACE(fi_tanh_f, fi_tanhf, float)
FI_DEFINE_INPLACE(fi_sigmoid_d, fi_sigmoid, double)
FI_DEFINE_INPLACE(fi_sigmoid_f, fi_sigmoid, float)

#endif /* FASTINIT_ACTIVATIONS_H */

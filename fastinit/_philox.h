/*
 * Philox4x64-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011),
 * laid out exactly like numpy.random.Philox so that NumPy can reproduce every word:
 *
 *   word j of the stream of key k  =  philox4x64_10(counter=(j/4 + 1, 0, 0, 0), k)[j % 4]
 *
 * (NumPy increments its 256-bit counter before each block, so its first block uses counter 1.)
 * Words drawn for an element's rare extra needs (ziggurat rejections, truncated-normal
 * fallbacks) come from counters whose third word is non-zero, a region the main stream never
 * reaches; see fastinit/streams.py for the full layout.
 */
#ifndef FASTINIT_PHILOX_H
#define FASTINIT_PHILOX_H

#include <stddef.h>
#include <stdint.h>

#define FI_PHILOX_M0 0xD2E7470EE14C6C93ULL
#define FI_PHILOX_M1 0xCA5A826395121157ULL
#define FI_PHILOX_W0 0x9E3779B97F4A7C15ULL
#define FI_PHILOX_W1 0xBB67AE8584CAA73BULL

/* One round on two independent blocks at once: the multiplies of one block fill the latency of
 * the other's, which is most of the speed of this generator on a scalar core. */
#define FI_PHILOX_ROUND(c, k0, k1)                                              \
    do {                                                                       \
        __uint128_t p0_ = (__uint128_t)FI_PHILOX_M0 * (c)[0];                  \
        __uint128_t p1_ = (__uint128_t)FI_PHILOX_M1 * (c)[2];                  \
        uint64_t x0_ = (uint64_t)(p1_ >> 64) ^ (c)[1] ^ (k0);                  \
        uint64_t x2_ = (uint64_t)(p0_ >> 64) ^ (c)[3] ^ (k1);                  \
        (c)[1] = (uint64_t)p1_;                                                \
        (c)[3] = (uint64_t)p0_;                                                \
        (c)[0] = x0_;                                                          \
        (c)[2] = x2_;                                                          \
    } while (0)

static inline void fi_philox_block(const uint64_t key[2], uint64_t c0, uint64_t c1, uint64_t c2,
                                   uint64_t out[4])
{
    uint64_t k0 = key[0], k1 = key[1];
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = 0;
    for (int r = 0; r < 10; r++) {
        FI_PHILOX_ROUND(out, k0, k1);
        k0 += FI_PHILOX_W0;
        k1 += FI_PHILOX_W1;
    }
}

static inline void fi_philox_block_pair(const uint64_t key[2], uint64_t c0, uint64_t a[4],
                                        uint64_t b[4])
{
    uint64_t k0 = key[0], k1 = key[1];
    a[0] = c0; a[1] = 0; a[2] = 0; a[3] = 0;
    b[0] = c0 + 1; b[1] = 0; b[2] = 0; b[3] = 0;
    for (int r = 0; r < 10; r++) {
        FI_PHILOX_ROUND(a, k0, k1);
        FI_PHILOX_ROUND(b, k0, k1);
        k0 += FI_PHILOX_W0;
        k1 += FI_PHILOX_W1;
    }
}

/* Words [first, first + n) of the main stream of `key` into out[0 .. n). */
static inline void fi_philox_words(const uint64_t key[2], uint64_t first, size_t n, uint64_t *out)
{
    uint64_t block = first >> 2;
    size_t done = 0;
    uint64_t r[4], s[4];
    unsigned skip = (unsigned)(first & 3);

    if (skip) {
        fi_philox_block(key, block + 1, 0, 0, r);
        for (unsigned k = skip; k < 4 && done < n; k++) out[done++] = r[k];
        block++;
    }
    while (n - done >= 8) {
        fi_philox_block_pair(key, block + 1, r, s);
        out[done + 0] = r[0]; out[done + 1] = r[1]; out[done + 2] = r[2]; out[done + 3] = r[3];
        out[done + 4] = s[0]; out[done + 5] = s[1]; out[done + 6] = s[2]; out[done + 7] = s[3];
        done += 8;
        block += 2;
    }
    while (done < n) {
        fi_philox_block(key, block + 1, 0, 0, r);
        for (unsigned k = 0; k < 4 && done < n; k++) out[done++] = r[k];
        block++;
    }
}

/* 32-bit halves [first, first + n) of the main stream (half h is the low half of word h / 2 when h
 * is even, its high half when odd), through `scratch`, room for n / 2 + 2 words. */
static inline void fi_philox_halves(const uint64_t key[2], uint64_t first, size_t n,
                                    uint64_t *scratch, uint32_t *out)
{
    uint64_t w0 = first >> 1;
    size_t skip = (size_t)(first & 1);
    if (n == 0) return;
    fi_philox_words(key, w0, (size_t)(((first + n - 1) >> 1) - w0 + 1), scratch);
    if (skip) out[0] = (uint32_t)(scratch[0] >> 32);
    for (size_t k = skip; k + 1 < n; k += 2) {
        uint64_t w = scratch[(k + skip) >> 1];
        out[k] = (uint32_t)w;
        out[k + 1] = (uint32_t)(w >> 32);
    }
    if ((n - skip) & 1) out[n - 1] = (uint32_t)scratch[(n - 1 + skip) >> 1];
}

#endif /* FASTINIT_PHILOX_H */

/*
 * NumPy's SeedSequence (numpy/random/bit_generator.pyx, after Melissa O'Neill's seed_seq)
 * reduced to what fastinit needs from it: the Philox key ``generate_state(2, uint32)`` of
 * SeedSequence(entropy, spawn_key, pool_size), at C speed and without the GIL, so a sweep can
 * key thousands of networks (and every layer of each) in one call.
 *
 * The caller hands over the entropy already as 32-bit words, exactly as NumPy assembles them:
 * the run entropy's words (an int is its little-endian 32-bit words, 0 is [0]), padded with
 * zeros to pool_size when there is a spawn key and fewer words than the pool, then the spawn
 * key's words. tests/test_seeding.py checks the result against NumPy on >= 10^4 children.
 */
#ifndef FASTINIT_SEED_SEQUENCE_H
#define FASTINIT_SEED_SEQUENCE_H

#include <stddef.h>
#include <stdint.h>

#define FI_SS_INIT_A 0x43b0d7e5u
#define FI_SS_MULT_A 0x931e8875u
#define FI_SS_INIT_B 0x8b51f9ddu
#define FI_SS_MULT_B 0x58f38dedu
#define FI_SS_MIX_MULT_L 0xca01f9ddu
#define FI_SS_MIX_MULT_R 0x4973f715u
#define FI_SS_XSHIFT 16
#define FI_SS_MAX_POOL 64

static inline uint32_t fi_ss_hashmix(uint32_t value, uint32_t *hash_const)
{
    value ^= *hash_const;
    *hash_const *= FI_SS_MULT_A;
    value *= *hash_const;
    value ^= value >> FI_SS_XSHIFT;
    return value;
}

static inline uint32_t fi_ss_mix(uint32_t x, uint32_t y)
{
    uint32_t result = FI_SS_MIX_MULT_L * x - FI_SS_MIX_MULT_R * y;
    return result ^ (result >> FI_SS_XSHIFT);
}

/* The key of the SeedSequence whose assembled entropy is ``head`` (n_head words) followed by
 * ``tail`` (n_tail words): NumPy's mix_entropy into a pool of pool_size words (<=
 * FI_SS_MAX_POOL), then generate_state(2). Split in two so a child's words need no copy. */
static inline void fi_seed_sequence_key(const uint32_t *head, size_t n_head,
                                        const uint32_t *tail, size_t n_tail, int pool_size,
                                        uint32_t key[2])
{
    uint32_t pool[FI_SS_MAX_POOL];
    uint32_t hash_const = FI_SS_INIT_A;
    size_t n = n_head + n_tail;
#define FI_SS_WORD(i) ((i) < n_head ? head[i] : tail[(i) - n_head])
    for (int i = 0; i < pool_size; i++)
        pool[i] = fi_ss_hashmix((size_t)i < n ? FI_SS_WORD((size_t)i) : 0u, &hash_const);
    for (int src = 0; src < pool_size; src++)
        for (int dst = 0; dst < pool_size; dst++)
            if (src != dst)
                pool[dst] = fi_ss_mix(pool[dst], fi_ss_hashmix(pool[src], &hash_const));
    for (size_t src = (size_t)pool_size; src < n; src++)
        for (int dst = 0; dst < pool_size; dst++)
            pool[dst] = fi_ss_mix(pool[dst], fi_ss_hashmix(FI_SS_WORD(src), &hash_const));
#undef FI_SS_WORD
    uint32_t out_const = FI_SS_INIT_B;
    for (int i = 0; i < 2; i++) {
        uint32_t value = pool[i % pool_size] ^ out_const;
        out_const *= FI_SS_MULT_B;
        value *= out_const;
        key[i] = value ^ (value >> FI_SS_XSHIFT);
    }
}

#endif

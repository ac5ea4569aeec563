"""The stream in plain NumPy: the executable spec of fastinit/_kernels/fill.pyx (layout in
fastinit/sources.py). Philox4x32-10 itself is here too, vectorised over blocks: 32x32-bit
products fit in uint64, so NumPy computes every round exactly."""
import math

import numpy as np
from scipy.special import ndtri_exp

from fastinit import _ziggurat as zig
from fastinit.sources import StreamBase

M0, M1 = 0xD2511F53, 0xCD9E8D57
W0, W1 = 0x9E3779B9, 0xBB67AE85
MASK32 = 0xFFFFFFFF
ZIGGURAT_REGION, TRUNCATION_REGION, REDRAW_REGION, MAX_REDRAWS = 1, 2, 3, 64


def philox4x32_10(c0, c1, c2, c3, key):
    """Philox4x32-10 (Salmon et al. 2011) of counters (c0, c1, c2, c3), arrays of uint32 (or
    ints), under key (k0, k1): the four output words, as uint32 arrays."""
    c = [np.asarray(x, np.uint64) for x in (c0, c1, c2, c3)]
    k0, k1 = int(key[0]), int(key[1])
    for _ in range(10):
        p0, p1 = np.uint64(M0) * c[0], np.uint64(M1) * c[2]
        c = [(p1 >> np.uint64(32)) ^ c[1] ^ np.uint64(k0), p1 & np.uint64(MASK32),
             (p0 >> np.uint64(32)) ^ c[3] ^ np.uint64(k1), p0 & np.uint64(MASK32)]
        k0, k1 = (k0 + W0) & MASK32, (k1 + W1) & MASK32
    return [x.astype(np.uint32) for x in c]


def main_words(key, first, n):
    """32-bit main-stream words first .. first + n - 1: block b = (b_lo, b_hi, 0, 0)."""
    b0, b1 = first // 4, (first + n + 3) // 4
    blocks = np.arange(b0, b1, dtype=np.uint64)
    zero = np.zeros_like(blocks)
    words = np.stack(philox4x32_10(blocks & np.uint64(MASK32), blocks >> np.uint64(32), zero,
                                   zero, key), axis=1).reshape(-1)
    return words[first - 4 * b0:][:n]


def main_words64(key, first, n):
    """The 64-bit words of float64 elements first .. first + n - 1 (words 2p and 2p + 1)."""
    halves = main_words(key, 2 * first, 2 * n).astype(np.uint64)
    return halves[0::2] | (halves[1::2] << np.uint64(32))


class ExtraWords:
    """An element's own 64-bit words for rare extra draws: blocks (p_lo, p_hi, i, region).
    ``first``: block 0's two words when the caller computed them already (first_blocks)."""

    def __init__(self, key, element, region, first=None):
        self.key, self.element, self.region = key, element, region
        self.block, self.buffer = (0, []) if first is None else (1, list(first))

    def word(self):
        if not self.buffer:
            w = [int(x) for x in philox4x32_10(self.element & MASK32, self.element >> 32,
                                               self.block, self.region, self.key)]
            self.buffer = [w[0] | (w[1] << 32), w[2] | (w[3] << 32)]
            self.block += 1
        return self.buffer.pop(0)

    def uniform(self):
        return (self.word() >> 11) * 2.0**-53


def first_blocks(key, elements, region):
    """Block 0 of each element's extra words, for many elements in one vectorised Philox call:
    [(word 0, word 1)], the words ExtraWords(key, element, region) gives first."""
    e = np.asarray(elements, np.uint64)
    w = [x.astype(np.uint64) for x in philox4x32_10(e & np.uint64(MASK32), e >> np.uint64(32),
                                                      np.zeros_like(e), np.full_like(e, region),
                                                      key)]
    return zip((w[0] | (w[1] << np.uint64(32))).tolist(), (w[2] | (w[3] << np.uint64(32))).tolist())


def ziggurat_slow(idx, x, negative, extra):
    """Finish a ziggurat draw whose fast test failed (Marsaglia & Tsang): tail, wedge, retry."""
    while True:
        if idx == 0:
            while True:
                xx = -zig.INV_R * math.log1p(-extra.uniform())
                yy = -math.log1p(-extra.uniform())
                if yy + yy > xx * xx:
                    return -(zig.R + xx) if negative else zig.R + xx
        if zig.F[idx] + extra.uniform() * (zig.F[idx - 1] - zig.F[idx]) < math.exp(-0.5 * x * x):
            return x
        w = extra.word()
        idx, negative, rabs = w & 0xFF, (w >> 8) & 1, (w >> 9) & zig.MASK52
        x = float(rabs) * zig.W64[idx] * (-1.0 if negative else 1.0)
        if rabs < zig.K64[idx]:
            return float(x)


def normal64_scalar(word, key, element, region):
    idx, negative, rabs = word & 0xFF, (word >> 8) & 1, (word >> 9) & zig.MASK52
    x = float(rabs) * zig.W64[idx] * (-1.0 if negative else 1.0)
    if rabs < zig.K64[idx]:
        return float(x)
    return ziggurat_slow(idx, float(x), negative, ExtraWords(key, element, region))


def standard_normal(key, first, n, dtype):
    """Ziggurat normals at positions first .. first + n - 1, as ``dtype``."""
    if dtype == np.float64:
        r = main_words64(key, first, n)
        idx, negative, rabs = r & 0xFF, (r >> 8) & 1, (r >> 9) & zig.MASK52
        x = rabs.astype(np.float64) * zig.W64[idx]
        slow = rabs >= zig.K64[idx]
    else:
        r = main_words(key, first, n)
        idx, negative, rabs = r & 0xFF, (r >> 8) & 1, (r >> 9) & zig.MASK23
        x = rabs.astype(np.float32) * zig.W32[idx]
        slow = rabs >= zig.K32[idx]
    x = np.where(negative == 1, -x, x)
    for i in np.flatnonzero(slow):
        extra = ExtraWords(key, first + int(i), ZIGGURAT_REGION)
        x[i] = ziggurat_slow(int(idx[i]), float(x[i]), int(negative[i]), extra)
    return x


def truncated_fallback(law, key, element, first=None, constants=None):
    """A draw for an element whose normal fell outside [alpha, beta] (or every element of a
    narrow interval): redraws from region 2, then inversion. ``first`` (block 0 of its
    region-2 words) and ``constants`` (law.standard_bounds() + law.inversion()) may be given
    by a caller that computed them for many elements at once."""
    alpha, beta, redraw, flip, log_hi, exp_d, one_minus_exp_d = constants or (
        *law.standard_bounds(), *law.inversion())
    extra = ExtraWords(key, element, TRUNCATION_REGION, first)
    if redraw:
        for j in range(MAX_REDRAWS):
            z = normal64_scalar(extra.word(), key, element, REDRAW_REGION + j)
            if alpha <= z <= beta:
                return z
    u = ((extra.word() >> 11) + 0.5) * 2.0**-53
    # the inversion in scalar C arithmetic, as the kernel does it (math.log is C's log;
    # NumPy's vectorised log may differ from it in the last bit)
    z = float(ndtri_exp(log_hi + math.log(exp_d + u * one_minus_exp_d)))
    return -z if flip else z


def uniform32(words, low, width):
    """float32 uniforms of 32-bit words (before the clamp): fma(width, u, low) with u =
    (word >> 8) * 2**-24 and low, width rounded to float32, i.e. the exact width * u + low
    rounded once to float32; a width too large for a float32 keeps the float64 formula."""
    u = (words >> np.uint32(8)).astype(np.float64) * 2.0**-24
    with np.errstate(over="ignore"):
        low32, width32 = np.float32(low), np.float32(width)
        if np.isinf(width32):
            return (low + width * u).astype(np.float32)
        return round_sum_to_float32(float(low32), float(width32) * u)  # the product is exact


def round_sum_to_float32(a, b):
    """a + b rounded once to float32 (a a float, b a float64 array): the float64 sum s with
    its rounding error e (Knuth's TwoSum), s rounded to float32 by NumPy, and where s is
    exactly halfway between two float32 values and e != 0, the neighbour on e's side. (s
    rounds like a + b everywhere else: a float32 midpoint is a float64, so a + b and its
    nearest float64 s lie on the same side of every other one.)"""
    s = a + b
    bb = s - a
    e = (a - (s - bb)) + (b - bb)
    with np.errstate(over="ignore"):
        f = s.astype(np.float32)
        toward = np.nextafter(f, np.where(f.astype(np.float64) < s, np.float32(np.inf),
                                          np.float32(-np.inf)))
        halfway = (f.astype(np.float64) + toward.astype(np.float64)) * 0.5 == s
    # at a tie NumPy took the even neighbour f; a + b lies on e's side of s
    return np.where(halfway & (e != 0) & ((e > 0) == (toward.astype(np.float64) > s)),
                    toward, f)


class Stream(StreamBase):
    """The reference stream: same constructor, methods and numbers as fastinit.Stream."""

    def _fill(self, flat, law, kind, params, offset, threads):
        if flat.itemsize == 2:  # float16/bfloat16: drawn in float32, rounded by NumPy's cast
            values = np.empty(flat.size, np.float32)
            self._fill(values, law, kind, params, offset, threads)
            flat[...] = values.astype(flat.dtype)
            return
        n = flat.size
        if kind == "uniform":
            if flat.dtype == np.float64:
                u = (main_words64(self.key, offset, n) >> np.uint64(11)).astype(np.float64) * 2.0**-53
                flat[...] = params[0] + params[1] * u
            else:
                flat[...] = uniform32(main_words(self.key, offset, n), params[0], params[1])
            np.clip(flat, params[2], params[3], out=flat)  # [low, high) as the dtype holds it
            return
        z = standard_normal(self.key, offset, n, flat.dtype).astype(np.float64)
        if kind == "normal":
            flat[...] = params[0] + params[1] * z
            return
        constants = (*law.standard_bounds(), *law.inversion())
        alpha, beta, redraw = constants[:3]
        outside = np.flatnonzero(~((alpha <= z) & (z <= beta)) if redraw else np.ones(n, bool))
        elements = offset + outside
        firsts = first_blocks(self.key, elements, TRUNCATION_REGION)
        for i, element, first in zip(outside.tolist(), elements.tolist(), firsts):
            z[i] = truncated_fallback(law, self.key, element, first, constants)
        flat[...] = np.clip(law.mean + law.std * z, params[2], params[3])

    def _raw(self, n, offset):
        return main_words(self.key, offset, n)

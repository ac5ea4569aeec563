"""The stream in plain NumPy: the executable spec of fastinit/_fill.pyx (layout in
fastinit/sources.py). Main-stream words come from numpy.random.Philox itself; the rare
per-element extra words from the ten-line Philox below, which the tests check against NumPy's."""
import math

import numpy as np

from fastinit import _ziggurat as zig
from fastinit.sources import StreamBase

M0, M1 = 0xD2E7470EE14C6C93, 0xCA5A826395121157
W0, W1 = 0x9E3779B97F4A7C15, 0xBB67AE8584CAA73B
MASK64 = (1 << 64) - 1
ZIGGURAT_REGION, TRUNCATION_REGION, REDRAW_REGION, MAX_REDRAWS = 1, 2, 3, 64


def philox4x64_10(counter, key):
    """One Philox4x64-10 block: four 64-bit words of (counter, key)."""
    c0, c1, c2, c3 = counter
    k0, k1 = (int(k) for k in key)
    for _ in range(10):
        p0, p1 = M0 * c0, M1 * c2
        c0, c1, c2, c3 = (p1 >> 64) ^ c1 ^ k0, p1 & MASK64, (p0 >> 64) ^ c3 ^ k1, p0 & MASK64
        k0, k1 = (k0 + W0) & MASK64, (k1 + W1) & MASK64
    return c0, c1, c2, c3


def main_words(key, first, n):
    """Main-stream words first .. first + n - 1: NumPy's Philox from block first // 4 on."""
    block, skip = divmod(first, 4)
    # NumPy increments the counter before each block, so counter `block` yields block + 1.
    bitgen = np.random.Philox(key=key, counter=[block, 0, 0, 0])
    return bitgen.random_raw(n + skip)[skip:]


def main_halves(key, first, n):
    """32-bit halves first .. first + n - 1 (low half of each word first)."""
    w0 = first // 2
    words = main_words(key, w0, (first + n + 1) // 2 - w0)
    halves = np.empty(2 * words.size, np.uint32)
    halves[0::2] = words & 0xFFFFFFFF
    halves[1::2] = words >> 32
    return halves[first - 2 * w0:][:n]


class ExtraWords:
    """An element's own words for rare extra draws: counters (element + 1, block, region, 0)."""

    def __init__(self, key, element, region):
        self.key, self.element, self.region = key, element, region
        self.block, self.buffer = 0, []

    def word(self):
        if not self.buffer:
            self.buffer = list(philox4x64_10((self.element + 1, self.block, self.region, 0),
                                             self.key))
            self.block += 1
        return self.buffer.pop(0)

    def uniform(self):
        return (self.word() >> 11) * 2.0**-53


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
        r = main_words(key, first, n)
        idx, negative, rabs = r & 0xFF, (r >> 8) & 1, (r >> 9) & zig.MASK52
        x = rabs.astype(np.float64) * zig.W64[idx]
        slow = rabs >= zig.K64[idx]
    else:
        r = main_halves(key, first, n)
        idx, negative, rabs = r & 0xFF, (r >> 8) & 1, (r >> 9) & zig.MASK23
        x = rabs.astype(np.float32) * zig.W32[idx]
        slow = rabs >= zig.K32[idx]
    x = np.where(negative == 1, -x, x)
    for i in np.flatnonzero(slow):
        extra = ExtraWords(key, first + int(i), ZIGGURAT_REGION)
        x[i] = ziggurat_slow(int(idx[i]), float(x[i]), int(negative[i]), extra)
    return x


def truncated_fallback(law, key, element):
    """A draw for an element whose normal fell outside [alpha, beta] (or every element of a
    narrow interval): redraws from region 2, then inversion."""
    alpha, beta = law.standard_bounds()
    redraw = law.inversion()[0]
    extra = ExtraWords(key, element, TRUNCATION_REGION)
    if redraw:
        for j in range(MAX_REDRAWS):
            z = normal64_scalar(extra.word(), key, element, REDRAW_REGION + j)
            if alpha <= z <= beta:
                return z
    u = ((extra.word() >> 11) + 0.5) * 2.0**-53
    return float(law.standard_from_uniform(u))


class Stream(StreamBase):
    """The reference stream: same constructor, methods and numbers as fastinit.Stream."""

    def _fill(self, flat, law, kind, params, offset, threads):
        n = flat.size
        if kind == "uniform":
            if flat.dtype == np.float64:
                u = (main_words(self.key, offset, n) >> 11).astype(np.float64) * 2.0**-53
            else:
                u = (main_halves(self.key, offset, n) >> 8).astype(np.float64) * 2.0**-24
            flat[...] = params[0] + params[1] * u
            np.clip(flat, params[2], params[3], out=flat)  # [low, high) as the dtype holds it
            return
        z = standard_normal(self.key, offset, n, flat.dtype).astype(np.float64)
        if kind == "normal":
            flat[...] = params[0] + params[1] * z
            return
        alpha, beta = law.standard_bounds()
        redraw = law.inversion()[0]
        outside = ~((alpha <= z) & (z <= beta)) if redraw else np.ones(n, bool)
        for i in np.flatnonzero(outside):
            z[i] = truncated_fallback(law, self.key, offset + int(i))
        flat[...] = np.clip(law.mean + law.std * z, params[2], params[3])

    def _raw(self, n, offset):
        return main_words(self.key, offset, n)

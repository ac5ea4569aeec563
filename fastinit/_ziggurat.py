"""Tables of the 256-layer ziggurat for the standard normal (Marsaglia & Tsang, 2000).

Built once here, in Python, and handed to both the Cython kernels and the NumPy reference, so the
two draw from bit-identical tables.

The density f(x) = exp(-x^2/2) is covered by 255 horizontal layers and a base strip, each of
area ``V``. Layer ``i`` (1..255) spans x in [0, x_i], with x_255 = R the start of the tail and x_i
decreasing towards the peak; the base strip (index 0) is a rectangle of width q = V/f(R) whose
part beyond R stands for the tail. A candidate ``x = rabs * w[i]`` with ``rabs`` uniform on
[0, 2^bits) is accepted at once when ``rabs < k[i]`` (it lies under the layer above); otherwise it
falls in a wedge (test against f) or, for i = 0, in the tail (Marsaglia's exponential method).
"""
import math

import numpy as np

LAYERS = 256
R = 3.6541528853610088  # start of the tail for 256 layers
V = 0.00492867323399  # common area of every layer
INV_R = 1.0 / R
# The largest |z| a draw can give: the tail's R + log(1/u) / R with the smallest u, 2**-53
# (a 53-bit uniform's 1 - u); a hair above it, for the rounding of the sum.
Z_MAX = (R + 53.0 * math.log(2.0) * INV_R) * (1.0 + 1e-12)


def _edges():
    """x_i (layer right edges, x_0 = 0 unused) and f_i = f(x_i), with f_0 = 1."""
    x = np.zeros(LAYERS)
    x[LAYERS - 1] = R
    for i in range(LAYERS - 2, 0, -1):
        x[i] = math.sqrt(-2.0 * math.log(V / x[i + 1] + math.exp(-0.5 * x[i + 1] ** 2)))
    f = np.exp(-0.5 * x * x)
    f[0] = 1.0
    return x, f


def tables(bits):
    """(k, w, f) for candidates with ``bits`` random bits of magnitude.

    ``k`` holds the integer acceptance thresholds, ``w`` the scales turning ``rabs`` into x and
    ``f`` the density at each layer's edge. Index 0 is the base strip, whose layout is
    ``w[0] = q / 2^bits`` and ``k[0] = 2^bits R / q``.
    """
    m = float(2**bits)
    x, f = _edges()
    q = V / math.exp(-0.5 * R * R)
    k = np.zeros(LAYERS, dtype=np.uint64)
    w = np.empty(LAYERS)
    k[0] = int(R / q * m)
    w[0] = q / m
    k[1] = 0
    for i in range(2, LAYERS):
        k[i] = int(x[i - 1] / x[i] * m)
    w[1:] = x[1:] / m
    return k, w, f


K64, W64, F = tables(52)
K32_, W32_, _ = tables(23)
K32 = K32_.astype(np.uint32)
W32 = W32_.astype(np.float32)
# both float32 tables in one 64-bit entry, bits(W32[i]) | K32[i] << 32: the AVX-512 normal
# kernel reads a layer's scale and threshold with one gather
KW32 = W32.view(np.uint32).astype(np.uint64) | (K32.astype(np.uint64) << np.uint64(32))
MASK52 = (1 << 52) - 1
MASK23 = (1 << 23) - 1

"""Where weights come from: a counter-based stream (fastinit.streams.Stream, the engine's, or
fastinit.reference.Stream, NumPy's, both built on StreamBase here) or a NumPy Generator
(GeneratorSource, compat mode). Pure Python: the reference imports it without the kernels.

Counter-based streams fill buffers in place from Philox4x32-10 (stream version
STREAM_VERSION), the same bytes on any number of threads and however a buffer is split.

Stream layout (key k = (k0, k1) from fastinit.seeding.philox_key)
-----------------------------------------------------------------
* Main stream: 32-bit word j = philox4x32_10(counter=(b mod 2**32, b >> 32, 0, 0), k)[j % 4],
  b = j // 4.
* A float32 element at position p uses word p; a float64 element uses the 64-bit word
  ``w[2p] | w[2p + 1] << 32``.
* uniform: float64 ``u = (word64 >> 11) * 2**-53`` and ``low + (high - low) * u`` in float64;
  float32 ``u = (word >> 8) * 2**-24`` and ``fma(width, u, low)`` with ``width = float32(high -
  low)`` and ``low`` rounded to float32, i.e. the exact ``width * u + low`` rounded once (a
  width beyond float32's range keeps the float64 formula, rounded to float32); either kept in
  [low, high) as the dtype holds it (clamped to its first and last value inside).
* normal: a 256-layer ziggurat (fastinit._ziggurat) on the element's word (float64: 8 bits of
  layer, 1 of sign, 52 of magnitude) or 32-bit word (float32: 8, 1, 23); ``mean + std * z``
  as above. The rare draws that miss the fast test take 64-bit words from the element's own
  region: blocks ``counter = (p mod 2**32, p >> 32, i, 1)``, i = 0, 1, ..., each giving
  ``w0 | w1 << 32`` then ``w2 | w3 << 32``; they finish in float64.
* truncated_normal: the element's normal z if it falls in [alpha, beta]; else, for intervals
  of mass >= 0.25, up to 64 float64 normals from the words of region 2 (redraw j finishing
  its ziggurat in region 3 + j); else (and for narrow or far-tail intervals, from the start)
  an inverse-CDF draw from the next word of region 2 (see laws.TruncatedNormal).

Each element is thus a pure function of (key, p): the first k values of a fill of n > k equal a
fill of k, and a fill at ``offset`` continues a fill that stopped there.
"""
import numpy as np

from fastinit._validation import checked_out, integer, num_threads as checked_num_threads
from fastinit.laws import Constant, Normal, TruncatedNormal, Uniform, kernel_params
from fastinit.seeding import child, philox_key, resolve_rng, seed_sequence

LAWS = (Constant, Uniform, Normal, TruncatedNormal)
_MAX_POSITION = 2**62
# The stream's version: the values a seed gives for a scheme, shape and dtype never change
# within it (see docs/stream.md, "Stability policy"). 3: float32 uniforms by one fused multiply-add in
# float32 (2 computed them in float64 and rounded twice); 2: Philox4x32-10 (1: Philox4x64-10).
STREAM_VERSION = 3


def _check_law(law):
    if not isinstance(law, LAWS):
        raise TypeError(f"law must be a fastinit.laws law, got {type(law).__name__}")
    return law


class StreamBase:
    """A Philox stream: validation and parameters here; subclasses supply ``_fill`` (and
    ``_raw``), the engine's in Cython, the reference's in NumPy."""

    def __init__(self, rng=None):
        self.seed_sequence = seed_sequence(rng)
        self.key = philox_key(self.seed_sequence)

    def __repr__(self):
        return f"{type(self).__module__}.{type(self).__name__}(key={self.key.tolist()})"

    def spawn(self, index):
        """The independent stream of child ``index`` (see fastinit.seeding.child)."""
        return type(self)(child(self.seed_sequence, index))

    def uniform(self, out, low=0.0, high=1.0, *, offset=0, num_threads=None):
        """Fill ``out`` with U[low, high) in place; returns ``out``."""
        return self.fill(out, Uniform(low, high), offset=offset, num_threads=num_threads)

    def normal(self, out, mean=0.0, std=1.0, *, offset=0, num_threads=None):
        """Fill ``out`` with N(mean, std^2) in place; returns ``out``."""
        return self.fill(out, Normal(mean, std), offset=offset, num_threads=num_threads)

    def truncated_normal(self, out, mean=0.0, std=1.0, a=-2.0, b=2.0, *, offset=0,
                         num_threads=None):
        """Fill ``out`` with N(mean, std^2) truncated to [a, b] (absolute units) in place."""
        law = TruncatedNormal(mean, std, a, b)
        return self.fill(out, law, offset=offset, num_threads=num_threads)

    def _fill(self, flat, law, kind, params, offset, threads):
        """Fill the flat array ``flat`` from stream element ``offset``: the subclass's."""
        raise NotImplementedError

    def _raw(self, n, offset):
        """``n`` raw 32-bit words from word ``offset``: the subclass's."""
        raise NotImplementedError

    def fill(self, out, law, *, offset=0, num_threads=None):
        """Fill ``out`` (any shape, C-contiguous, of a fill's dtype) from ``law``, its element i
        being stream position ``offset + i``."""
        flat = checked_out(out, half=True).reshape(-1)
        offset = integer(offset, "offset")
        if offset < 0 or offset + flat.size > _MAX_POSITION:
            raise ValueError(f"offset must be in [0, 2**62 - out.size], got {offset}")
        threads = checked_num_threads(num_threads)
        kind, params = kernel_params(_check_law(law), flat.dtype)  # checks, before any write
        if isinstance(law, Constant):
            flat.fill(params[0])
        else:
            self._fill(flat, law, kind, params, offset, threads)
        return out

    def fill_rows(self, out, law, *, offset, row_stride, num_threads=None):
        """Fill row i of the 2-D ``out`` from ``law`` with stream positions ``offset + i *
        row_stride`` onwards: a block of a larger tensor (fastinit.regions)."""
        out = checked_out(out, half=True)
        offset, row_stride = integer(offset, "offset"), integer(row_stride, "row_stride")
        if out.ndim != 2 or (out.shape[0] > 1 and row_stride < out.shape[1]):
            raise ValueError(f"fill_rows needs a 2-D out whose rows fit row_stride, got shape "
                             f"{out.shape} and row_stride {row_stride}")
        last = offset + max(out.shape[0] - 1, 0) * row_stride + out.shape[1]
        if offset < 0 or last > _MAX_POSITION:
            raise ValueError(f"positions {offset} .. {last} are outside the stream")
        threads = checked_num_threads(num_threads)
        kind, params = kernel_params(_check_law(law), out.dtype)
        if isinstance(law, Constant):
            out.fill(params[0])
        else:
            self._fill_rows(out, law, kind, params, offset, row_stride, threads)
        return out

    def _fill_rows(self, out, law, kind, params, offset, row_stride, threads):
        for i, row in enumerate(out):  # the reference: a fill per row (the engine: one call)
            self._fill(row, law, kind, params, offset + i * row_stride, threads)

    def uniform_keys(self, shape):
        """Uniforms that order positions (sparse's zeros): child 0's stream, kept apart from
        the values drawn from this one."""
        return self.spawn(0).uniform(np.empty(shape))

    def raw(self, n, offset=0):
        """Main-stream 32-bit words offset .. offset + n - 1 as uint32."""
        n, offset = integer(n, "n"), integer(offset, "offset")
        if n < 0 or offset < 0 or offset + n > _MAX_POSITION:
            raise ValueError(f"need n >= 0 and 0 <= offset <= 2**62 - n, got n={n}, offset={offset}")
        return self._raw(n, offset)


GENERATOR_CHUNK = 1 << 20  # values a Generator draws per call in compat mode


class GeneratorSource:
    """Compat mode: a numpy Generator's own draws, so ``normal(shape, std=s, rng=g)`` equals
    ``g.standard_normal(shape) * s``. As fast as NumPy is (single-threaded, not counter-based);
    give an int or a SeedSequence for the parallel stream."""

    def __init__(self, generator):
        self.generator = generator

    def fill(self, out, law, *, offset=0, num_threads=None):
        flat = checked_out(out, half=True).reshape(-1)
        checked_num_threads(num_threads)
        _, params = kernel_params(_check_law(law), flat.dtype)  # checks, before any write
        if isinstance(law, Constant):
            flat.fill(params[0])
            return out
        # a Generator's draws are sequential: chunk by chunk they are the same numbers as in
        # one call, and Python answers Ctrl-C between chunks (one call of 10**8 would not)
        for start in range(0, flat.size, GENERATOR_CHUNK):
            self._fill_chunk(flat[start:start + GENERATOR_CHUNK], law, params)
        return out

    def _fill_chunk(self, flat, law, params):
        g = self.generator
        if isinstance(law, Uniform):
            flat[...] = g.random(flat.size) * (law.high - law.low) + law.low
            np.clip(flat, params[2], params[3], out=flat)  # [low, high) as the dtype holds it
        elif isinstance(law, Normal):
            flat[...] = g.standard_normal(flat.size) * law.std + law.mean
        else:
            # g.random() is in [0, 1); half a step moves it into (0, 1), as the inversion needs
            z = law.standard_from_uniform(g.random(flat.size) + 2.0**-54)
            flat[...] = np.clip(law.mean + law.std * z, *law.output_bounds(flat.dtype))

    def uniform_keys(self, shape):
        """Uniforms that order positions (sparse's zeros), from the same Generator."""
        return self.generator.random(shape)


def source(rng, stream_type):
    """What to draw from for ``rng`` (SPEC 7): a ``stream_type`` stream for None, an int or a
    SeedSequence; a GeneratorSource for a Generator."""
    resolved = resolve_rng(rng)
    if isinstance(resolved, np.random.Generator):
        return GeneratorSource(resolved)
    return stream_type(resolved)


def is_compat(rng):
    """Whether ``rng`` (as resolved) draws in compat mode, from a Generator."""
    return isinstance(rng, np.random.Generator)

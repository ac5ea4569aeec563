"""The laws a weight is drawn from. Every random scheme reduces to one of these, which is all a
stream (engine or reference) or a NumPy Generator needs to know to fill a buffer."""
import functools
import math
from dataclasses import dataclass
from typing import Union

import numpy as np
from scipy.special import log_ndtr, ndtri_exp

from fastinit._validation import real
from fastinit._ziggurat import Z_MAX

def representable(value, dtype, name):
    """``value`` if rounding it to ``dtype`` keeps it finite (a float32 std of 1e300 would
    make every weight infinite): else a ValueError naming it."""
    if math.isfinite(value) and abs(value) > float(np.finfo(dtype).max):
        raise ValueError(f"{name}={value!r} is not representable in {np.dtype(dtype).name} "
                         f"(largest {float(np.finfo(dtype).max):.4g})")
    return value


def values_within(lo, hi, dtype, *, closed_high):
    """The smallest and largest value of ``dtype`` in [lo, hi] (or [lo, hi) when not
    ``closed_high``), as floats; a ValueError when no value of ``dtype`` lies there."""
    t = np.dtype(dtype).type
    with np.errstate(over="ignore"):
        first, last = t(lo), t(hi)
    # compared as Python floats: NumPy would compare a float32 with a Python float in float32
    if float(first) < lo:
        first = np.nextafter(first, t(np.inf))
    if float(last) > hi or (not closed_high and float(last) >= hi):
        last = np.nextafter(last, t(-np.inf))
    if not float(first) <= float(last):
        high = f"{hi!r}]" if closed_high else f"{hi!r})"
        raise ValueError(f"no {np.dtype(dtype).name} value lies in [{lo!r}, {high}: widen the "
                         "interval or use float64")
    return float(first) + 0.0, float(last) + 0.0  # + 0.0: a bound of -0.0 is 0.0


# Below this probability mass redrawing a normal until it lands in [a, b] is wasteful; the
# inverse CDF is used directly instead.
REDRAW_MIN_MASS = 0.25


@dataclass(frozen=True)
class Constant:
    value: float
    kind = "constant"

    def __post_init__(self):
        object.__setattr__(self, "value", real(self.value, "value", finite=False))

    def params(self, dtype):
        """The kernel's parameters, as a uniform of width 0 whose one value is ``value``
        rounded to ``dtype``."""
        value = float(np.dtype(dtype).type(representable(self.value, dtype, "value")))
        return [value, 0.0, value, value]


@dataclass(frozen=True)
class Uniform:
    """U[low, high): ``low + (high - low) * u``, u a multiple of 2**-53 (float64) or 2**-24
    (float32) in [0, 1): float64 computes it in float64; float32 rounds ``low`` and ``high -
    low`` to float32 and the exact ``low + width * u`` once (a fused multiply-add). Then kept
    in [low, high) as the dtype can hold it: a value that rounding carried below ``low`` or
    onto ``high`` becomes the nearest dtype value inside (at most a few values in 10**7)."""
    low: float = 0.0
    high: float = 1.0
    kind = "uniform"

    def __post_init__(self):
        low, high = real(self.low, "low"), real(self.high, "high")
        if not low < high:
            raise ValueError(f"low must be < high, got low={low}, high={high}")
        if not math.isfinite(high - low):
            raise ValueError(f"high - low overflows for low={low}, high={high}")
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)

    def params(self, dtype):
        """The kernel's parameter vector: shift and scale of U[0, 1), then the smallest and
        largest values of ``dtype`` in [low, high)."""
        representable(self.low, dtype, "low")
        representable(self.high, dtype, "high")
        return [self.low, self.high - self.low,
                *values_within(self.low, self.high, dtype, closed_high=False)]


@dataclass(frozen=True)
class Normal:
    """N(mean, std^2); std = 0 is allowed and gives the constant mean."""
    mean: float = 0.0
    std: float = 1.0
    kind = "normal"

    def __post_init__(self):
        object.__setattr__(self, "mean", real(self.mean, "mean"))
        object.__setattr__(self, "std", real(self.std, "std", nonnegative=True))

    def params(self, dtype):
        """The kernel's parameter vector: shift and scale of N(0, 1). A law whose draws can
        leave the dtype's range (|mean| + Z_MAX std, Z_MAX = 13.71 the sampler's largest
        |z|) is a ValueError: ``normal(std=3e38, dtype="float32")`` would be a quarter
        infinities."""
        representable(self.mean, dtype, "mean")
        representable(self.std, dtype, "std")
        largest = float(np.finfo(dtype).max)
        if abs(self.mean) + self.std * Z_MAX > largest:
            raise ValueError(f"std={self.std!r} (mean={self.mean!r}) gives values beyond "
                             f"{np.dtype(dtype).name}'s largest, {largest:.4g} (a draw reaches "
                             f"|mean| + {Z_MAX:.4g} std): use a smaller std or float64")
        return [self.mean, self.std]


@dataclass(frozen=True)
class TruncatedNormal:
    """N(mean, std^2) conditioned on [a, b], bounds in absolute units (not clipped: the exact law)."""
    mean: float = 0.0
    std: float = 1.0
    a: float = -2.0
    b: float = 2.0
    kind = "truncated_normal"

    def __post_init__(self):
        object.__setattr__(self, "mean", real(self.mean, "mean"))
        object.__setattr__(self, "std", real(self.std, "std", positive=True))
        a, b = real(self.a, "a", finite=False), real(self.b, "b", finite=False)
        if not a < b:
            raise ValueError(f"a must be < b, got a={a}, b={b}")
        object.__setattr__(self, "a", a)
        object.__setattr__(self, "b", b)

    def standard_bounds(self):
        with np.errstate(over="ignore"):
            return (self.a - self.mean) / self.std, (self.b - self.mean) / self.std

    def inversion(self):
        """Constants of the inverse-CDF draw, shared by the kernels and the NumPy code.

        For the standardised interval [alpha, beta], mirrored to [-beta, -alpha] when it leans
        positive (``flip``) so that both ends sit in the lower tail where log Phi is precise:

            log p = log_hi + log(exp_d + u * one_minus_exp_d),   z = ndtri_exp(log p)

        with log_hi = log Phi(hi), d = log Phi(lo) - log_hi, u uniform on (0, 1). Returns
        (redraw, flip, log_hi, exp_d, one_minus_exp_d); ``redraw`` says the interval holds at
        least REDRAW_MIN_MASS, so that redrawing normals is the cheaper exact method.
        """
        alpha, beta = self.standard_bounds()
        flip = alpha + beta > 0
        lo, hi = (-beta, -alpha) if flip else (alpha, beta)
        log_hi = float(log_ndtr(hi))
        d = float(log_ndtr(lo)) - log_hi
        exp_d, one_minus_exp_d = math.exp(d), -math.expm1(d)
        mass = math.exp(log_hi) * one_minus_exp_d
        return float(mass >= REDRAW_MIN_MASS), float(flip), log_hi, exp_d, one_minus_exp_d

    def output_bounds(self, dtype):
        """[a, b] shrunk to the nearest values ``dtype`` can hold, so rounding never leaves it
        (a ValueError when ``dtype`` has no value in [a, b])."""
        return values_within(self.a, self.b, dtype, closed_high=True)

    def standard_from_uniform(self, u):
        """Inverse-CDF draws of the standardised truncated law from uniforms ``u`` in (0, 1)."""
        _, flip, log_hi, exp_d, one_minus_exp_d = self.inversion()
        z = ndtri_exp(log_hi + np.log(exp_d + u * one_minus_exp_d))
        return -z if flip else z

    def params(self, dtype):
        """The kernel's parameter vector (see fastinit/_kernels/fill.pyx)."""
        representable(self.mean, dtype, "mean")
        representable(self.std, dtype, "std")
        alpha, beta = self.standard_bounds()
        return [self.mean, self.std, *self.output_bounds(dtype), alpha, beta, *self.inversion()]


# The standard deviation of N(0, 1) truncated to [-2, 2]: Keras divides by it so that its
# truncated normal has the variance it asks for.
TRUNCATED_2SIGMA_STD = math.sqrt(
    1.0 - 4.0 * math.exp(-2.0) / math.sqrt(2.0 * math.pi) / math.erf(2.0 / math.sqrt(2.0)))


KERNEL_PARAMS = 11  # the longest parameter vector (truncated normal's)


@functools.lru_cache(maxsize=1024)
def kernel_params(law, dtype):
    """(kind, parameters) of ``law`` drawn into ``dtype``: the one place a law becomes the fill
    kernel's numbers (read-only float64 vector of KERNEL_PARAMS; a constant is a uniform of
    width 0). Checks the law fits the dtype. Cached: laws are frozen, and a truncated normal's
    parameters cost a few ufunc calls."""
    values = law.params(np.dtype(dtype))
    params = np.zeros(KERNEL_PARAMS)
    params[:len(values)] = values
    params.flags.writeable = False
    return ("uniform" if isinstance(law, Constant) else law.kind), params


Law = Union[Constant, Uniform, Normal, TruncatedNormal]
"""Any law a scheme draws from."""

"""The activations: one table that the kernels, the reference, the theory, the CLI and the
specs all read.

A row says everything the rest of the package needs about an activation: its name, the
kernels' code for it (defined in C in ``fastinit/_kernels/shared.pxd``, one branch per code in
``activate`` in ``propagate.pyx`` and ``derivative_times`` in ``backward.pyx``; a test holds
the compiled codes and constants against this table), its NumPy function and derivative, its
derivative read back from its output where that is possible, its bounded range (the default
histogram range), its saturation rule, the negative-side slope of the piecewise-linear ones
(the theory's closed forms), PyTorch's recommended gain and the figures' marker. Adding an
activation is one row here, its code in ``shared.pxd`` and one branch in each kernel.
"""
import functools
import math
from dataclasses import dataclass
from typing import Callable, Optional, Tuple

import numpy as np
from scipy.special import erf

SELU_SCALE, SELU_ALPHA = 1.0507009873554804934193349852946, 1.6732632423543772848170429916717
_SQRT_2PI = math.sqrt(2 * math.pi)


@dataclass(frozen=True)
class Activation:
    """One activation. ``phi(x, slope)`` and ``dphi(x, slope)`` in NumPy (``slope``: the
    negative slope, read by leaky_relu only); ``from_output(h, slope)`` is phi'(z) read from
    h = phi(z), or None when z is needed (then the backward pass recomputes z)."""
    name: str
    code: int
    phi: Callable
    dphi: Callable
    from_output: Optional[Callable] = None
    range: Optional[Tuple[float, float]] = None  # bounded output: the default histogram range
    saturation: Optional[Tuple[float, float]] = None  # h < below or h > above is saturated
    # max(x, 0) + a min(x, 0): a from the user's negative slope (ReLU's closed forms in theory)
    negative_slope: Optional[Callable[[float], float]] = None
    dead_zeros: bool = False  # exact zeros are dead units (the figures show their share)
    gain: Optional[float] = None  # torch.nn.init.calculate_gain's (None: torch has none)
    marker: str = "o"  # the figures' marker

    @property
    def needs_preactivation(self):
        """Whether the derivative needs z (the backward pass then recomputes it)."""
        return self.from_output is None


def _sigmoid(x, slope=None):
    """1 / (1 + exp(-x)) through exp(-|x|), so that nothing overflows (as the engine does)."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _dsigmoid(x, slope=None):
    s = _sigmoid(x)
    return s * (1.0 - s)


def _gelu(x, slope=None):
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def _dgelu(x, slope=None):
    return 0.5 * (1.0 + erf(x / math.sqrt(2.0))) + x * np.exp(-0.5 * x * x) / _SQRT_2PI


def _as(h, values):
    return np.asarray(values).astype(h.dtype, copy=False)


TABLE = {a.name: a for a in (
    Activation("tanh", 1, lambda x, s=None: np.tanh(x), lambda x, s=None: 1.0 - np.tanh(x) ** 2,
               lambda h, s=None: 1.0 - h * h, range=(-1.0, 1.0), saturation=(-0.99, 0.99),
               gain=5.0 / 3.0, marker="o"),
    Activation("relu", 2, lambda x, s=None: np.maximum(x, 0.0),
               lambda x, s=None: (x > 0).astype(float), lambda h, s=None: _as(h, h > 0),
               negative_slope=lambda s: 0.0, dead_zeros=True, gain=math.sqrt(2.0), marker="s"),
    Activation("leaky_relu", 3, lambda x, s: np.where(x > 0, x, s * x),
               lambda x, s: np.where(x > 0, 1.0, s), lambda h, s: _as(h, np.where(h > 0, 1.0, s)),
               negative_slope=lambda s: s, marker="v"),  # gain: fans.calculate_gain's formula
    Activation("sigmoid", 4, _sigmoid, _dsigmoid, lambda h, s=None: h * (1.0 - h),
               range=(0.0, 1.0), saturation=(0.01, 0.99), gain=1.0, marker="^"),
    Activation("linear", 0, lambda x, s=None: x, lambda x, s=None: np.ones_like(x),
               lambda h, s=None: np.ones_like(h), gain=1.0, marker="D"),
    Activation("selu", 5,
               lambda x, s=None: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(
                   np.minimum(x, 0))),
               lambda x, s=None: SELU_SCALE * np.where(x > 0, 1.0, SELU_ALPHA * np.exp(
                   np.minimum(x, 0))),
               lambda h, s=None: _as(h, np.where(h > 0, SELU_SCALE, h + SELU_SCALE * SELU_ALPHA)),
               gain=3.0 / 4.0, marker="X"),
    Activation("elu", 6, lambda x, s=None: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
               lambda x, s=None: np.where(x > 0, 1.0, np.exp(np.minimum(x, 0))),
               lambda h, s=None: _as(h, np.where(h > 0, 1.0, h + 1.0)), marker="<"),
    Activation("gelu", 7, _gelu, _dgelu, marker="P"),
)}
NAMES = tuple(TABLE)


def get(name, what="activation"):
    """The table row of ``name``; a ValueError listing the valid names otherwise."""
    if not isinstance(name, str) or name not in TABLE:
        raise ValueError(f"unknown {what} {name!r}; valid: {', '.join(NAMES)}")
    return TABLE[name]


def phi(x, activation, slope=0.01):
    """The activation ``activation`` of x (the engine's definitions)."""
    return get(activation).phi(x, slope)


def dphi(x, activation, slope=0.01):
    """The activation's derivative (the right one at a kink: it has measure zero)."""
    return get(activation).dphi(x, slope)


@functools.lru_cache(maxsize=64)
def saturation_bounds(activation, dtype):
    """(below, above, counted): values h < below or h > above are saturated. In float32 the
    bounds are the float32 values that make the tests on float32 data the same as in double
    (the nearest float32 on the side away from the saturated region). Without a rule the
    bounds are infinite and ``counted`` is False."""
    rule = get(activation).saturation
    if rule is None:
        return -math.inf, math.inf, False
    below, above = rule
    if np.dtype(dtype) == np.float32:
        b, a = np.float32(below), np.float32(above)
        if float(b) < below:  # the smallest float32 >= below
            b = np.nextafter(b, np.float32(np.inf))
        if float(a) > above:  # the largest float32 <= above
            a = np.nextafter(a, np.float32(-np.inf))
        below, above = float(b), float(a)
    return below, above, True


def saturated_fraction(h, activation):
    """The fraction of h saturated by ``activation``'s rule, NaN where it has none."""
    rule = get(activation).saturation
    if rule is None:
        return math.nan
    return float(np.mean((h < rule[0]) | (h > rule[1])))

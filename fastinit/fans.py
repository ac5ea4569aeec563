"""Fans and gains: the two numbers every variance-preserving scheme is built from."""
from __future__ import annotations

import math
import numbers
from typing import Sequence

from fastinit import activations
from fastinit._validation import as_shape, choice

IN_OUT, OUT_IN = "in_out", "out_in"  # (*kernel, in, out): Keras, JAX, X @ W; (out, in, *kernel): PyTorch
LAYOUTS = (IN_OUT, OUT_IN)
FAN_MODES = ("fan_in", "fan_out", "fan_avg")


class ArgumentTypeError(ValueError, TypeError):
    """An argument of the wrong type where a peer (torch) raises ValueError: caught by either."""


def compute_fans(shape: Sequence[int], layout: str = IN_OUT) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of ``shape``.

    For a kernel both fans are multiplied by the receptive field ``prod(kernel)``:
    ``fan_in = in * prod(kernel)``, ``fan_out = out * prod(kernel)``.

    Parameters
    ----------
    shape : sequence of int
        The weight's shape, at least 2 dimensions.
    layout : {"in_out", "out_in"}, default "in_out"
        "in_out" (Keras/JAX and the classic ``X @ W``): ``(in, out)`` for a dense weight,
        ``(*kernel, in, out)`` for a convolution kernel; "out_in" (PyTorch): ``(out, in)``
        and ``(out, in, *kernel)``.

    Returns
    -------
    (int, int)
        ``(fan_in, fan_out)``.
    """
    kernel, fan_in, fan_out = split_axes(shape, layout)
    receptive_field = math.prod(kernel)
    return fan_in * receptive_field, fan_out * receptive_field


def split_axes(shape, layout="in_out"):
    """``(kernel, in, out)`` of a weight of ``shape``: the one place the layouts are read.
    in_out: ``(*kernel, in, out)``; out_in: ``(out, in, *kernel)``."""
    choice(layout, "layout", LAYOUTS)
    shape = as_shape(shape)
    if len(shape) < 2:
        form = ("(fan_in, fan_out), or (*kernel, in, out) for a convolution" if layout ==
                IN_OUT else "(fan_out, fan_in), or (out, in, *kernel) for a convolution")
        raise ValueError(f"fans need a weight shape of at least 2 dimensions: {form} "
                         f"(layout={layout!r}); got shape {shape}")
    if layout == IN_OUT:
        return shape[:-2], shape[-2], shape[-1]
    return shape[2:], shape[1], shape[0]


def select_fan(shape, mode, layout):
    """The fan a scheme divides by: ``fan_in``, ``fan_out`` or ``fan_avg = (fan_in + fan_out) / 2``
    (1 for a weight with no elements, which draws nothing)."""
    choice(mode, "mode", FAN_MODES)
    fan_in, fan_out = compute_fans(shape, layout)
    if min(fan_in, fan_out) <= 0:
        # a zero fan is a zero-element weight: nothing is drawn, whatever the law, so it is
        # the no-op torch makes it (and the plain schemes agree: he_normal((0, 5)) is empty)
        return 1
    return {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]


def fan_sum(shape, layout):
    """``fan_in + fan_out``, the Glorot denominator, checked to be positive."""
    return 2 * select_fan(shape, "fan_avg", layout)


# Gain: the factor restoring unit second moment through the nonlinearity (PyTorch's table):
# the activations' gains from their table, and PyTorch's linear layer names, which have 1.
_LAYER_NAMES = ("identity", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                "conv_transpose2d", "conv_transpose3d")
_GAINS = {**{row.name: row.gain for row in activations.TABLE.values() if row.gain is not None},
          **dict.fromkeys(_LAYER_NAMES, 1.0)}


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """Recommended gain for ``nonlinearity`` (torch.nn.init.calculate_gain's table).

    ============================  =============================
    linear, identity, conv*, sigmoid  1
    tanh                          5/3
    relu                          sqrt(2)
    leaky_relu                    sqrt(2 / (1 + negative_slope^2)), slope = param (default 0.01)
    selu                          3/4
    ============================  =============================

    Parameters
    ----------
    nonlinearity : str
        An activation of the table, or a PyTorch layer name that has gain 1 (identity,
        conv1d, conv2d, conv3d, conv_transpose1d/2d/3d).
    param : float, optional
        leaky_relu's negative slope (default 0.01).

    Returns
    -------
    float
        The gain.
    """
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, numbers.Real):
            # torch raises ValueError here, fastinit's convention is TypeError: both
            raise ArgumentTypeError(f"param (negative_slope) must be a real number, got "
                                    f"{param!r}")
        if not math.isfinite(slope):
            raise ValueError(f"param (negative_slope) must be finite, got {param!r}")
        if abs(slope) < 1e150:
            return math.sqrt(2.0 / (1.0 + slope**2))
        return math.sqrt(2.0) / abs(slope)  # 1 + slope^2 is slope^2 here, and would overflow
    if not isinstance(nonlinearity, str) or nonlinearity not in _GAINS:
        names = sorted([*_GAINS, "leaky_relu"])
        raise ValueError(f"unknown nonlinearity {nonlinearity!r}; valid: {', '.join(names)}")
    return _GAINS[nonlinearity]

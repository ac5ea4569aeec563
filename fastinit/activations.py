"""The activations in NumPy, and their derivatives: the one definition the reference, the
theory and the backward pass share (the engine's kernels implement the same functions in C)."""
import math

import numpy as np
from scipy.special import erf

SELU_SCALE, SELU_ALPHA = 1.0507009873554804934193349852946, 1.6732632423543772848170429916717


def _sigmoid(x):
    """1 / (1 + exp(-x)) through exp(-|x|), so that nothing overflows (as the engine does)."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def phi(x, activation, slope=0.01):
    """The activation (the engine's definitions)."""
    if activation == "tanh":
        return np.tanh(x)
    if activation == "relu":
        return np.maximum(x, 0.0)
    if activation == "leaky_relu":
        return np.where(x > 0, x, slope * x)
    if activation == "sigmoid":
        return _sigmoid(x)
    if activation == "linear":
        return x
    if activation == "selu":
        return SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0)))
    if activation == "elu":
        return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))
    if activation == "gelu":
        return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))
    raise ValueError(f"unknown activation {activation!r}")


def dphi(x, activation, slope=0.01):
    """The activation's derivative (the right one at a kink: it has measure zero)."""
    if activation == "tanh":
        return 1.0 - np.tanh(x) ** 2
    if activation == "relu":
        return (x > 0).astype(float)
    if activation == "leaky_relu":
        return np.where(x > 0, 1.0, slope)
    if activation == "sigmoid":
        s = _sigmoid(x)
        return s * (1.0 - s)
    if activation == "linear":
        return np.ones_like(x)
    if activation == "selu":
        return SELU_SCALE * np.where(x > 0, 1.0, SELU_ALPHA * np.exp(np.minimum(x, 0)))
    if activation == "elu":
        return np.where(x > 0, 1.0, np.exp(np.minimum(x, 0)))
    if activation == "gelu":
        return 0.5 * (1.0 + erf(x / math.sqrt(2.0))) + x * np.exp(-0.5 * x * x) / math.sqrt(
            2 * math.pi)
    raise ValueError(f"unknown activation {activation!r}")

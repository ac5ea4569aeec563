"""Mean-field theory of signal propagation at initialization (Poole et al., 2016; Schoenholz et
al., 2017, "Deep Information Propagation").

For weights of variance sigma_w^2 / fan_in and biases of variance sigma_b^2, the pre-activations
of a wide layer are Gaussian with variance q^l following the variance map

    q^l = sigma_w^2 E[phi(sqrt(q^{l-1}) z)^2] + sigma_b^2,     z ~ N(0, 1)

(the first layer sees the input's second moment instead of E[phi^2]). Two inputs with
correlation c follow the correlation map, whose slope at c = 1 is

    chi_1 = sigma_w^2 E[phi'(sqrt(q*) z)^2]

(ordered phase: chi_1 < 1, chaotic: chi_1 > 1). Gaussian expectations are computed on each half
line by Gauss-Legendre quadrature, exact to ~1e-12 for every activation here (their kinks sit at
0, where the halves meet); ReLU also has closed forms, used by the tests as a check.
"""
from __future__ import annotations

import math
from typing import Callable, Iterable, Sequence

import numpy as np
from numpy.typing import ArrayLike

from fastinit._docs import documented
from fastinit._typing import Array, FloatOrArray
from fastinit.activations import dphi, get, phi
from fastinit.initializers import Initializer, get_initializer
from fastinit.laws import Constant, Law, Normal, Uniform

__all__ = ["gaussian_expectation", "moments", "variance_map", "fixed_point", "chi_1",
    "joint_expectation", "correlation_map", "predict_correlation", "joint_derivative_expectation",
    "correlation_fixed_point", "chi_c", "depth_scale_correlation", "phase_diagram",
    "critical_line", "law_variance", "weight_variance", "predict", "jacobian_moments",
    "jacobian_density"]

# The theory's parameters, described once (fastinit._docs.numpydoc builds each docstring).
PARAMETER_DOCS = {
    "f": "callable\n    The function of the Gaussian variable, vectorised over arrays.",
    "q": "float or array_like\n    The variance of the Gaussian pre-activation (q^l).",
    "c": "float\n    The correlation of the two pre-activations, in [-1, 1].",
    "sigma_w2": "float or array_like\n    sigma_w^2 = fan_in Var(W), the weight variance.",
    "sigma_b2": "float or array_like\n    sigma_b^2, the bias variance.",
    "activation": "str\n    One of fastinit.ACTIVATIONS.",
    "slope": "float, default 0.01\n    The leaky ReLU's negative slope.",
    "negative_slope": "float, default 0.01\n    The leaky ReLU's negative slope.",
    "q0": "float, default 1.0\n    Where the iteration of the variance map starts.",
    "iterations": "int\n    The most iterations (of the map, or of the bisection).",
    "nodes": "int, default 96\n    Gauss-Legendre nodes per half line.",
    "network": "iterable of (fan_in, width, Var W, Var b, activation)\n    The layers, in order.",
    "input_correlation": "float\n    The correlation of the two inputs' rows.",
    "input_variance": "float, default 1.0\n    The input's second moment.",
    "w_max": "float, default 16.0\n    The largest sigma_w^2 searched.",
    "law": "Constant, Uniform, Normal or TruncatedNormal\n    A law of fastinit.laws.",
    "init": "str or Initializer\n    A scheme name or an initializer with a law.",
    "shape": "(int, int)\n    The weight's (fan_in, fan_out).",
    "hidden_layer_sizes": "sequence of int\n    The width of each layer.",
    "weight_init": "str or Initializer\n    The initializer of every layer's weights.",
    "input_dim": "int, optional\n    The input's width (default: the first layer's).",
    "bias_variance": "float, default 0.0\n    The bias variance sigma_b^2.",
    ("jacobian_moments", "network"): """iterable of (sigma_w^2, Var b, activation, orthogonal)
    The square layers, in order (``orthogonal``: the weights are, else i.i.d.).""",
    ("jacobian_density", "network"): """iterable of (sigma_w^2, Var b, activation, orthogonal)
    The square layers, in order (``orthogonal``: the weights are, else i.i.d.).""",
    "eigenvalues": "array_like\n    Where to evaluate the density (positive).",
    "epsilon": "float, default 1e-3\n    The relative width of the Cauchy kernel it is seen "
                "through.",
}


def _returns(kind, what):  # pragma: no mutate block
    """A numpydoc Returns section."""
    return f"Returns\n-------\n{kind}\n    {what}"


def _theory(kind, what):  # pragma: no mutate block
    return documented(PARAMETER_DOCS, _returns(kind, what))


_HALF_LINE = 10.0  # N(0, 1) mass beyond 10 is 8e-24
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(96)
Z = 0.5 * _HALF_LINE * (_NODES + 1.0)  # nodes on [0, 10]
_W = 0.5 * _HALF_LINE * _WEIGHTS * np.exp(-0.5 * Z * Z) / math.sqrt(2 * math.pi)

@_theory('float or ndarray', 'E[f(sqrt(q) z)], one per q.')
def gaussian_expectation(f: Callable[[Array], Array], q: ArrayLike) -> FloatOrArray:
    """E[f(sqrt(q) z)], z ~ N(0, 1), for every q in an array (vectorised)."""
    root = np.sqrt(np.asarray(q, float))[..., None]
    return np.sum((f(root * Z) + f(-root * Z)) * _W, axis=-1)


@_theory('(mean, std)', 'The mean and std of phi(h), each a float or an array like q.')
def moments(q: ArrayLike, activation: str,
            slope: float = 0.01) -> tuple[FloatOrArray, FloatOrArray]:
    """(mean, std) of phi(h) for h ~ N(0, q): the predicted activation statistics."""
    mean = gaussian_expectation(lambda x: phi(x, activation, slope), q)
    second = gaussian_expectation(lambda x: phi(x, activation, slope) ** 2, q)
    return mean, np.sqrt(np.maximum(second - mean**2, 0.0))


@_theory('float or ndarray', "The next layer's variance q^{l+1}.")
def variance_map(q: ArrayLike, sigma_w2: ArrayLike, sigma_b2: ArrayLike, activation: str,
                 slope: float = 0.01) -> FloatOrArray:
    """q -> sigma_w^2 E[phi(sqrt(q) z)^2] + sigma_b^2."""
    second = gaussian_expectation(lambda x: phi(x, activation, slope) ** 2, q)
    return sigma_w2 * second + sigma_b2


@_theory('float or ndarray', 'q*, broadcast over sigma_w2 and sigma_b2.')
def fixed_point(sigma_w2: ArrayLike, sigma_b2: ArrayLike, activation: str, slope: float = 0.01,
                q0: float = 1.0, iterations: int = 2000) -> FloatOrArray:
    """q*, the stable fixed point of the variance map (vectorised over arrays).

    Bounded activations (tanh, sigmoid: phi^2 <= 1, so q* <= sigma_w^2 + sigma_b^2) by
    bisection on V(q) - q, which is positive below q* and negative above it; the others by
    iterating the map from q0 (capped at 1e12 for maps that explode)."""
    shape = np.broadcast(np.asarray(sigma_w2), np.asarray(sigma_b2)).shape
    sigma_w2 = np.broadcast_to(np.asarray(sigma_w2, float), shape)
    sigma_b2 = np.broadcast_to(np.asarray(sigma_b2, float), shape)
    if get(activation).range is not None:  # bounded within [-1, 1]: phi^2 <= 1
        lo, hi = np.zeros(shape), sigma_w2 + sigma_b2 + 1e-300
        for _ in range(45):  # q* to ~1e-13 of its bracket
            mid = 0.5 * (lo + hi)
            above = variance_map(mid, sigma_w2, sigma_b2, activation, slope) > mid
            lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
        return 0.5 * (lo + hi)
    q = np.full(shape, float(q0))
    for _ in range(iterations):
        q_next = np.minimum(variance_map(q, sigma_w2, sigma_b2, activation, slope), 1e12)
        if np.allclose(q_next, q, rtol=1e-14, atol=1e-300):
            return q_next
        q = q_next
    return q


@_theory('float or ndarray', 'chi_1, broadcast over sigma_w2 and sigma_b2.')
def chi_1(sigma_w2: ArrayLike, sigma_b2: ArrayLike, activation: str,
          slope: float = 0.01) -> FloatOrArray:
    """sigma_w^2 E[phi'(sqrt(q*) z)^2]: the slope of the correlation map at c = 1. For the
    piecewise-linear activations (linear, ReLU, leaky ReLU) phi' depends on the sign of its
    argument alone, so chi_1 = sigma_w^2 E[phi'(z)^2] at any q > 0, without q* (which the
    variance map reaches only geometrically slowly near the critical line)."""
    kind = get(activation)
    if kind.name == "linear" or kind.negative_slope is not None:
        q_star = np.ones(np.broadcast(np.asarray(sigma_w2), np.asarray(sigma_b2)).shape)
    else:
        q_star = fixed_point(sigma_w2, sigma_b2, activation, slope)
    return sigma_w2 * gaussian_expectation(lambda x: dphi(x, activation, slope) ** 2, q_star)


def _relu_kernel(c, q):
    """E[relu(u1) relu(u2)] for (u1, u2) ~ N(0, q [[1, c], [c, 1]]): the arc-cosine kernel
    (Cho & Saul, 2009)."""
    c = np.clip(c, -1.0, 1.0)
    return q / (2 * math.pi) * (np.sqrt(1 - c * c) + (math.pi - np.arccos(c)) * c)


def _pair_grid(c, nodes=96):
    """Nodes and weights for E[g(z1, z2)] over independent standard normals z1, z2, for the
    pair u1 = z1, u2 = c z1 + sqrt(1 - c^2) z2: Gauss-Legendre on each half line of z1 and, for
    every z1 node, on each side of the z2 where u2 = 0. The activations' kinks (at 0) then sit
    on segment ends, so every piece is smooth and the sum is exact to ~1e-12 (2-D Gauss-Hermite
    across the kinks was off by ~1e-5 for SELU). Returns (z1, u2 / sqrt(q) per node, weights)."""
    t, tw = np.polynomial.legendre.leggauss(nodes)
    t, tw = 0.5 * (t + 1.0), 0.5 * tw  # on [0, 1]
    r = math.sqrt(max(1.0 - c * c, 0.0))
    z1 = np.concatenate([-_HALF_LINE * t[::-1], _HALF_LINE * t])[:, None]
    w1 = np.concatenate([tw[::-1], tw]) * _HALF_LINE * np.exp(-0.5 * z1[:, 0] ** 2)
    cut = np.clip(-c * z1 / r, -_HALF_LINE, _HALF_LINE) if r > 0 else np.zeros_like(z1)
    below = -_HALF_LINE + (cut + _HALF_LINE) * t  # (2 nodes, nodes) each
    above = cut + (_HALF_LINE - cut) * t
    z2 = np.concatenate([below, above], axis=1)
    w2 = np.concatenate([(cut + _HALF_LINE) * tw, (_HALF_LINE - cut) * tw], axis=1) \
        * np.exp(-0.5 * z2 ** 2)
    weights = w1[:, None] * w2 / (2 * math.pi)
    return z1, c * z1 + r * z2, weights


@_theory('float or ndarray', 'E[phi(u1) phi(u2)] (an array for ReLU and leaky ReLU given an array c).')
def joint_expectation(c: ArrayLike, q: float, activation: str, slope: float = 0.01,
                      nodes: int = 96) -> FloatOrArray:
    """E[phi(u1) phi(u2)] for (u1, u2) ~ N(0, q [[1, c], [c, 1]]). Closed forms for ReLU and
    leaky ReLU, quadrature split at the kinks (_pair_grid) for the others."""
    kink = get(activation).negative_slope
    if kink is not None:
        a = kink(slope)
        cs = np.asarray(c, float)
        # leaky(x) = relu(x) - a relu(-x)
        return (1 + a * a) * _relu_kernel(cs, q) - 2 * a * _relu_kernel(-cs, q)
    z1, z2, weights = _pair_grid(float(np.clip(np.asarray(c, float), -1.0, 1.0)), nodes)
    root = math.sqrt(q)
    return float(np.sum(phi(root * z1, activation, slope) * phi(root * z2, activation, slope)
                        * weights))


@_theory('float', "The next layer's correlation c^{l+1}.")
def correlation_map(c: float, q: float, sigma_w2: float, sigma_b2: float, activation: str,
                    slope: float = 0.01, nodes: int = 96) -> float:
    """The next layer's correlation of two inputs with correlation c, both of variance q:
    (sigma_w^2 E[phi(u1) phi(u2)] + sigma_b^2) / q_next."""
    q_next = variance_map(q, sigma_w2, sigma_b2, activation, slope)
    return (sigma_w2 * joint_expectation(c, q, activation, slope, nodes) + sigma_b2) / q_next


@_theory('list of float', 'The predicted cosine per layer (NaN where the outputs are all zero).')
def predict_correlation(network: Iterable[tuple[int, int, float, float, str]],
                        input_correlation: float, slope: float = 0.01,
                        input_variance: float = 1.0) -> list[float]:
    """Per layer, the predicted cosine sum(h1 h2) / sqrt(sum h1^2 sum h2^2) between a network's
    outputs for two inputs of second moment ``input_variance`` whose rows have correlation
    ``input_correlation``: E[phi(u1) phi(u2)] / E[phi(u)^2] with (u1, u2) the layer's
    pre-activations, of variance q^l and correlation c^l. ``network``: per layer (fan_in,
    width, Var W, Var b, activation), as forward_prop's results are predicted."""
    second, cross = float(input_variance), float(input_correlation) * float(input_variance)
    out = []
    for fan_in, _, weight_variance, bias_variance, activation in network:
        q = fan_in * weight_variance * second + bias_variance
        second = float(gaussian_expectation(lambda x, a=activation: phi(x, a, slope) ** 2, q))
        if q > 0:
            c = (fan_in * weight_variance * cross + bias_variance) / q
            cross = float(joint_expectation(min(max(c, -1.0), 1.0), q, activation, slope))
        else:  # zero variance: both pre-activations are exactly 0, both outputs phi(0)
            cross = second
        # 0 / 0 (every output exactly zero, as zeros init gives) is NaN, as measured
        out.append(cross / second if second > 0 else math.nan)
    return out


@_theory('float', "E[phi'(u1) phi'(u2)].")
def joint_derivative_expectation(c: float, q: float, activation: str, slope: float = 0.01,
                                 nodes: int = 96) -> float:
    """E[phi'(u1) phi'(u2)] for (u1, u2) ~ N(0, q [[1, c], [c, 1]]): closed forms for ReLU
    and leaky ReLU (P(u1 > 0, u2 > 0) = (pi - arccos c) / (2 pi)), quadrature split at the
    kinks (_pair_grid) for the others (SELU's and ELU's derivatives jump at 0)."""
    c = float(min(max(c, -1.0), 1.0))
    kink = get(activation).negative_slope
    if kink is not None:
        a = kink(slope)
        same = (math.pi - math.acos(c)) / (2 * math.pi)  # both positive, or both negative
        mixed = math.acos(c) / (2 * math.pi)
        return same * (1 + a * a) + 2 * a * mixed
    z1, z2, weights = _pair_grid(c, nodes)
    root = math.sqrt(q)
    return float(np.sum(dphi(root * z1, activation, slope) * dphi(root * z2, activation, slope)
                        * weights))


@_theory('float', 'c* (1 in the ordered phase).')
def correlation_fixed_point(sigma_w2: float, sigma_b2: float, activation: str,
                            slope: float = 0.01) -> float:
    """c*, the stable fixed point of the correlation map at q*: 1 in the ordered phase
    (chi_1 <= 1); in the chaotic phase the fixed point in [0, 1), where the map crosses the
    diagonal from above (bisection: C(0) = sigma_b^2 / q* >= 0, and C(c) < c just below 1)."""
    q_star = float(fixed_point(sigma_w2, sigma_b2, activation, slope))
    if float(chi_1(sigma_w2, sigma_b2, activation, slope)) <= 1.0 or q_star <= 0:
        return 1.0

    def above(c):
        return float(correlation_map(c, q_star, sigma_w2, sigma_b2, activation, slope)) > c

    lo, hi = 0.0, 1.0 - 1e-9
    if not above(lo):
        return 0.0  # C(0) = 0: with no bias an odd activation keeps c* = 0
    if above(hi):
        return 1.0  # no crossing below 1 (the map does not bend down): c* = 1
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if above(mid) else (lo, mid)
    return 0.5 * (lo + hi)


@_theory('float', 'chi_c.')
def chi_c(sigma_w2: float, sigma_b2: float, activation: str, slope: float = 0.01) -> float:
    """chi_c = sigma_w^2 E[phi'(u1) phi'(u2)] at (q*, c*): the slope of the correlation map at
    its stable fixed point (chi_1 in the ordered phase, where c* = 1)."""
    c_star = correlation_fixed_point(sigma_w2, sigma_b2, activation, slope)
    if c_star == 1.0:
        return float(chi_1(sigma_w2, sigma_b2, activation, slope))
    q_star = float(fixed_point(sigma_w2, sigma_b2, activation, slope))
    return sigma_w2 * joint_derivative_expectation(c_star, q_star, activation, slope)


# |chi - 1| at most this is the critical line: well above the quadrature's error, far below
# any chi a grid of sigma_w^2 would meet off the line (xi_c = 1e10 layers there)
CRITICAL_TOLERANCE = 1e-10


@_theory('float or ndarray', 'xi_c in layers (inf on the critical line).')
def depth_scale_correlation(sigma_w2: ArrayLike, sigma_b2: ArrayLike, activation: str,
                            slope: float = 0.01) -> FloatOrArray:
    """xi_c = -1 / log(chi_c) (Schoenholz et al. 2017, eq. 9): over how many layers the
    correlation of two inputs relaxes to its fixed point c*, in either phase; chi_c is the
    map's slope at c* (chi_1 in the ordered phase). Infinite at the critical line. Accepts
    arrays of sigma_w2 and sigma_b2."""
    def one(w2, b2):
        chi = chi_c(float(w2), float(b2), activation, slope)
        # on the critical line chi_c is 1 up to the quadrature's error (about 1e-14: relu at
        # sigma_w^2 = 2 gives 1 - 1.1e-14), which would make xi_c about 1e14, not infinite
        return math.inf if abs(chi - 1.0) <= CRITICAL_TOLERANCE else -1.0 / math.log(chi)
    return np.vectorize(one, otypes=[float])(sigma_w2, sigma_b2)[()]


@_theory('ndarray', 'chi_1 of shape (len(sigma_b2), len(sigma_w2)).')
def phase_diagram(sigma_w2: ArrayLike, sigma_b2: ArrayLike, activation: str,
                  slope: float = 0.01) -> Array:
    """chi_1 over a grid: arrays sigma_w2 (columns) x sigma_b2 (rows). chi_1 < 1 is ordered,
    > 1 chaotic; the critical line is chi_1 = 1."""
    w2, b2 = np.meshgrid(np.asarray(sigma_w2, float), np.asarray(sigma_b2, float))
    return chi_1(w2, b2, activation, slope)


@_theory('ndarray', 'The critical sigma_w^2 per sigma_b^2 (NaN where none).')
def critical_line(sigma_b2: ArrayLike, activation: str, slope: float = 0.01, w_max: float = 16.0,
                  iterations: int = 60) -> Array:
    """The sigma_w^2 where chi_1 = 1 for each sigma_b^2 (vectorised bisection: chi_1 grows
    with sigma_w^2), NaN where there is no crossing in (0, w_max]. Interpolating a grid would
    not do: at sigma_b = 0, tanh's chi_1 exceeds 1 only at second order above sigma_w^2 = 1."""
    b2 = np.atleast_1d(np.asarray(sigma_b2, float))
    lo, hi = np.full_like(b2, 1e-6), np.full_like(b2, float(w_max))
    crosses = (chi_1(lo, b2, activation, slope) < 1.0) & (chi_1(hi, b2, activation, slope) > 1.0)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        above = chi_1(mid, b2, activation, slope) > 1.0
        hi, lo = np.where(above, mid, hi), np.where(above, lo, mid)
    return np.where(crosses, 0.5 * (lo + hi), np.nan)


def _square(x):
    return x * x  # a float product: inf on overflow, where x ** 2 raises OverflowError


@_theory('float', 'The variance (inf where it overflows).')
def law_variance(law: Law) -> float:
    """The variance of a law (fastinit.laws); inf where it overflows a float (a std of
    1e200 is a valid law whose variance is not a float)."""
    if isinstance(law, Constant):
        return 0.0
    if isinstance(law, Uniform):
        return _square(law.high - law.low) / 12.0
    if isinstance(law, Normal):
        return _square(law.std)
    from scipy.stats import truncnorm
    alpha, beta = law.standard_bounds()
    return float(truncnorm(alpha, beta, scale=law.std).var())


@_theory('float', 'The mean.')
def law_mean(law: Law) -> float:
    """The mean of a law (fastinit.laws): a constant's value, the middle of a uniform, a
    normal's mean, and a truncated normal's as truncated (its ``mean`` only when the bounds
    are symmetric about it)."""
    if isinstance(law, Constant):
        return float(law.value)
    if isinstance(law, Uniform):
        return 0.5 * law.low + 0.5 * law.high
    if isinstance(law, Normal):
        return float(law.mean)
    alpha, beta = law.standard_bounds()
    if alpha == -beta:
        return float(law.mean)
    from scipy.stats import truncnorm
    return float(truncnorm(alpha, beta, loc=law.mean, scale=law.std).mean())


@_theory('float', 'sigma_w^2 = fan_in Var(W).')
def weight_variance(init: str | Initializer, shape: tuple[int, int]) -> float:
    """sigma_w^2 = fan_in * Var(W) of an initializer's law for a (fan_in, fan_out) weight."""
    if not isinstance(init, Initializer):
        init = get_initializer(init)
    law = init.law(shape)
    if law is None:  # orthogonal and friends
        raise ValueError(f"{init.name} has no law to read a variance from")
    return shape[0] * law_variance(law)


@_theory('dict', '{"q": [...], "mean": [...], "std": [...]}, one value per layer.')
def predict(hidden_layer_sizes: Sequence[int], weight_init: str | Initializer, *,
            activation: str = "tanh", input_variance: float = 1.0, input_dim: int | None = None,
            bias_variance: float = 0.0, negative_slope: float = 0.01) -> dict[str, list[float]]:
    """Predicted per-layer pre-activation variance q, activation mean and std, for the network
    forward_prop runs (the input's second moment is ``input_variance``)."""
    widths = list(hidden_layer_sizes)
    fan_in = widths[0] if input_dim is None else input_dim
    q, mean, std = [], [], []
    second = float(input_variance)
    for width in widths:
        sigma_w2 = weight_variance(weight_init, (fan_in, width))
        q_l = sigma_w2 * second + bias_variance
        m, s = moments(q_l, activation, negative_slope)
        q.append(float(q_l))
        mean.append(float(m))
        std.append(float(s))
        second = float(s) ** 2 + float(m) ** 2
        fan_in = width
    return {"q": q, "mean": mean, "std": std}


@_theory("(float, float)", "The mean and the variance of the eigenvalues of J J^T.")
def jacobian_moments(network: Iterable[tuple[float, float, str, bool]],
                     input_variance: float = 1.0, slope: float = 0.01) -> tuple[float, float]:
    """The mean and variance of the eigenvalues of J J^T, J = W_1 D_1 ... W_L D_L the
    input-output Jacobian of a wide network (Pennington, Schoenholz & Ganguli 2017), from free
    probability: J J^T is a free product of the layers' W W^T and D^2, whose means multiply
    and whose relative variances (variance / mean^2) add. Per layer: W W^T has mean sigma_w^2
    and relative variance 1 for i.i.d. weights of any law (Marchenko-Pastur, square), 0 for
    orthogonal ones; D^2 = phi'(h)^2, h ~ N(0, q^l), has mean mu_1 = E[phi'^2] and relative
    variance mu_2 / mu_1^2 - 1, mu_2 = E[phi'^4]. So the mean is prod sigma_w^2 mu_1 (chi_1^L
    at the fixed point) and the variance mean^2 * sum (mu_2 / mu_1^2 - 1 - s_1), s_1 = -1 for
    i.i.d. and 0 for orthogonal weights: the paper's L (mu_2 / mu_1^2 - 1 - s_1) at chi_1 = 1,
    and the same law off it. q^l follows the variance map from the input's second moment."""
    second, mean, relative = float(input_variance), 1.0, 0.0
    for sigma_w2, bias_variance, activation, orthogonal in network:
        q = sigma_w2 * second + bias_variance
        mu1 = float(gaussian_expectation(lambda x, a=activation: dphi(x, a, slope) ** 2, q))
        mu2 = float(gaussian_expectation(lambda x, a=activation: dphi(x, a, slope) ** 4, q))
        mean *= sigma_w2 * mu1
        relative += (mu2 / (mu1 * mu1) - 1.0 if mu1 > 0 else math.nan) + (0.0 if orthogonal
                                                                          else 1.0)
        second = float(gaussian_expectation(lambda x, a=activation: phi(x, a, slope) ** 2, q))
    return mean, mean * mean * relative


def _jacobian_layers(network, input_variance, slope):
    """The distinct factors of J J^T: [(count, sigma_w^2, orthogonal, t, weights)], t_k =
    phi'(h_k)^2 at the quadrature nodes of h ~ N(0, q^l) (layers whose q agree to 4 digits share
    one entry), and the predicted mean."""
    groups, second, mean = {}, float(input_variance), 1.0
    for sigma_w2, bias_variance, activation, orthogonal in network:
        q = sigma_w2 * second + bias_variance
        key = (float(sigma_w2), bool(orthogonal), activation, float(f"{q:.4e}"))
        if key not in groups:
            root = math.sqrt(q)
            t = dphi(np.concatenate([root * Z, -root * Z]), activation, slope) ** 2
            # equal nodes merged (tanh's phi'^2 is even, ReLU's takes two values): fewer terms
            t, where = np.unique(np.round(t, 15), return_inverse=True)
            weight = np.bincount(where.ravel(), weights=np.concatenate([_W, _W]))
            groups[key] = [0, float(sigma_w2), bool(orthogonal), t, weight]
        groups[key][0] += 1
        mean *= sigma_w2 * float(np.sum(groups[key][4] * groups[key][3]))
        second = float(gaussian_expectation(lambda x, a=activation: phi(x, a, slope) ** 2, q))
    return list(groups.values()), mean


@_theory("ndarray", "The density of J J^T's eigenvalues at ``eigenvalues`` (its integral over "
         "the positive axis is 1 minus the mass at 0).")
def jacobian_density(network: Iterable[tuple[float, float, str, bool]], eigenvalues: ArrayLike,
                     input_variance: float = 1.0, slope: float = 0.01,
                     epsilon: float = 1e-3) -> Array:
    """The whole density of J J^T's eigenvalues from free probability (Pennington, Schoenholz
    & Ganguli 2017): the S-transform of J J^T is the product of its factors', S_{W W^T}(z) =
    1 / (sigma_w^2 (1 + z)) for i.i.d. weights and 1 / sigma_w^2 for orthogonal ones,
    S_{D^2}(z) = (1 + z) / z chi_D(z) with chi_D the inverse of psi_D(x) = E[t x / (1 - t x)],
    t = phi'(h)^2. For w = lambda + i eta, z = psi(1/w) solves z / (1 + z) S(z) = 1/w; then
    G(w) = (1 + z) / w and the density is -Im G / pi. Solved by Newton on (z, chi_{D_l}(z))
    along eta from far above the axis down to epsilon * lambda (every unknown stays in the
    lower half plane, where the logarithms are continuous), so the density is the true one
    seen through a Cauchy kernel of relative width epsilon."""
    lam = np.atleast_1d(np.asarray(eigenvalues, float))
    layers, mean = _jacobian_layers(network, input_variance, slope)
    counts = np.array([g[0] for g in layers], float)[:, None]
    etas = np.geomspace(1e3 * max(float(lam.max()), mean), epsilon * float(lam.min()), 30)
    z = mean / (lam + 1j * etas[0])
    xs = np.array([z / float(np.sum(w * t)) for _, _, _, t, w in layers])
    w = lam + 1j * etas[0]
    with np.errstate(all="ignore"):  # poles far from the spectrum: handled below
        for eta in etas:
            w = lam + 1j * np.maximum(eta, epsilon * lam)
            for _ in range(30):
                F = np.log(z) - np.log1p(z) + np.log(w)
                Fz = 1 / z - 1 / (1 + z)
                G = np.empty_like(xs)
                dpsi = np.empty_like(xs)
                for i, (count, sigma_w2, orthogonal, t, weight) in enumerate(layers):
                    tx = t[:, None] * xs[i][None, :]
                    G[i] = np.sum(weight[:, None] * tx / (1 - tx), axis=0) - z
                    dpsi[i] = np.sum((weight * t)[:, None] / (1 - tx) ** 2, axis=0)
                    # log of S_W(z) (1 + z) / z chi_D(z), count times
                    F = F + count * (np.log(xs[i]) - np.log(z) - math.log(sigma_w2)
                                     + (0.0 if orthogonal else -np.log1p(z)) + np.log1p(z))
                    Fz = Fz + count * (-1 / z + (0.0 if orthogonal else -1 / (1 + z))
                                       + 1 / (1 + z))
                ratio = counts / (xs * dpsi)
                dz = -(F - np.sum(G * ratio, axis=0)) / (Fz + np.sum(ratio, axis=0))
                dx = (dz - G) / dpsi
                # where the update is not a number (x at a node's pole, far from the spectrum)
                # the point keeps its value; elsewhere the step is halved until the new values
                # are finite and in the lower half plane
                finite = np.isfinite(dz) & np.all(np.isfinite(dx), axis=0)
                dz, dx = np.where(finite, dz, 0.0), np.where(finite, dx, 0.0)
                step = np.ones_like(lam)
                for _ in range(60):
                    z_new, x_new = z + step * dz, xs + step * dx
                    bad = ~((np.imag(z_new) < 0) & np.isfinite(z_new) & np.all(
                        (np.imag(x_new) < 0) & np.isfinite(x_new), axis=0))
                    if not bad.any():
                        break
                    step = np.where(bad, step / 2, step)
                z, xs = z + step * dz, xs + step * dx
                if np.max(np.abs(dz) / np.abs(z)) < 1e-10:
                    break
    return np.maximum(-((1 + z) / w).imag / math.pi, 0.0)

"""The input-output Jacobian of the networks forward_prop runs, and its singular values:
dynamical isometry (Pennington, Schoenholz & Ganguli 2017), measured. Shared by the engine
(fastinit.isometry) and the reference (fastinit.reference), which differ only in how they
multiply.

With rows as inputs (``H_l = phi(H_{l-1} W_l + b_l)``), the Jacobian of one input's output
with respect to its input is ``J = W_1 D_1 W_2 D_2 ... W_L D_L``, ``D_l = diag(phi'(z_l))``
at that input's pre-activations ``z_l``: an (input_dim, width_L) matrix, whose squared
singular values are the eigenvalues of ``J J^T``. The weights, biases and drawn inputs are
forward_prop's for the same arguments (fastinit.network's seeding), so the spectrum belongs
to the very network ``forward_prop`` measures.
"""
from __future__ import annotations

import math
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np

from fastinit import activations, theory
from fastinit._validation import choice, integer
from fastinit.initializers import Initializer
from fastinit.network import ForwardArgs, Plan, plan
from fastinit.predictions import jacobian_prediction
from fastinit.seeding import child

METHODS = ("svd", "moments")

# jacobian_spectrum's parameters (the engine's and the reference's), described once
PARAMETER_DOCS = {
    "hidden_layer_sizes": "sequence of int\n    The width of each layer.",
    "weight_init": """str, Initializer or callable
    As forward_prop's (orthogonal weights included).""",
    "activation": 'str or list of str, default "tanh"\n    As forward_prop\'s.',
    "bias": "float, str or Initializer, default 0.0\n    As forward_prop's.",
    "X": """ndarray, optional
    The inputs (batch, input_dim) at which J is taken; by default drawn as forward_prop
    draws them.""",
    "batch": "int, default 16\n    How many inputs (one J each).",
    "input_dim": "int, optional\n    The input's width (default: the first layer's).",
    "rng": "None, int, SeedSequence or Generator\n    Seeds the weights and inputs, as forward_prop's.",
    "dtype": 'str, default "float64"\n    The network\'s dtype (J is formed in float64).',
    "negative_slope": "float, default 0.01\n    The leaky ReLU's negative slope.",
    "num_threads": "int, optional\n    BLAS threads for the products (default: BLAS's own).",
    "method": """{"svd", "moments"}, default "svd"
    "svd" forms every J and takes its singular values; "moments" estimates the mean and
    variance of J J^T's eigenvalues from random probes, without forming J (big widths).""",
    "probes": "int, default 32\n    Random vectors per input for the moments method.",
}
RETURNS = """Returns
-------
JacobianSpectrum
    ``singular_values`` (inputs, k), ``mean`` and ``variance`` of J J^T's eigenvalues,
    ``predicted_mean`` and ``predicted_variance`` (fastinit.theory.jacobian_moments)."""


@dataclass
class JacobianSpectrum:
    """What ``jacobian_spectrum`` measured, and what the theory predicts.

    ``singular_values``: (inputs, min(input_dim, width_L)) array, each row descending (the
    "svd" method; None for "moments"). ``mean`` and ``variance``: of the eigenvalues of
    ``J J^T`` (the squared singular values), pooled over the inputs; for "moments" estimated
    from random probes. ``predicted_mean`` and ``predicted_variance``: the free-probability
    values (fastinit.theory.jacobian_moments), NaN where the theory does not apply.
    """
    singular_values: Any
    mean: float
    variance: float
    predicted_mean: float = math.nan
    predicted_variance: float = math.nan
    depth: int = 0
    method: str = "svd"
    details: dict = field(default_factory=dict)
    theory: Any = None  # (network, input variance, slope) of theory.jacobian_density, or None

    def predicted_density(self, eigenvalues: Any, epsilon: float = 1e-3) -> Any:
        """The free-probability density of J J^T's eigenvalues at ``eigenvalues``
        (fastinit.theory.jacobian_density); NaN where the theory does not apply."""
        values = np.asarray(eigenvalues, float)
        if self.theory is None:
            return np.full(values.shape, math.nan)
        network, input_variance, slope = self.theory
        return theory.jacobian_density(network, values, input_variance, slope, epsilon)

    def predicted_cdf(self, eigenvalues: Any, epsilon: float = 1e-3) -> Any:
        """P(eigenvalue <= v) for each v of ``eigenvalues`` (positive), from the density
        integrated down from above the spectrum: it includes any mass at 0."""
        values = np.asarray(eigenvalues, float)
        top = 4.0 * max(float(np.max(values)), self.predicted_mean + 6 * math.sqrt(
            max(self.predicted_variance, 0.0)))
        grid = np.geomspace(max(float(np.min(values)), 1e-300), top, 400)
        rho = self.predicted_density(grid, epsilon)
        pieces = 0.5 * (rho[1:] * grid[1:] + rho[:-1] * grid[:-1]) * np.diff(np.log(grid))
        above = np.concatenate([np.cumsum(pieces[::-1])[::-1], [0.0]])  # mass above grid[i]
        return 1.0 - np.interp(values, grid, above)

    @property
    def eigenvalues(self) -> Any:
        """The eigenvalues of J J^T, (inputs, k): the squared singular values."""
        return None if self.singular_values is None else self.singular_values ** 2

    @property
    def max_singular_value(self) -> float:
        """The largest singular value over the inputs (NaN for the moments method)."""
        if self.singular_values is None:
            return math.nan
        return float(self.singular_values[:, 0].max())

    def summary(self) -> str:
        """One line: measured and predicted mean and variance of J J^T's eigenvalues."""
        return (f"depth {self.depth}: mean of J J^T's eigenvalues {self.mean:.4g} (predicted "
                f"{self.predicted_mean:.4g}), variance {self.variance:.4g} (predicted "
                f"{self.predicted_variance:.4g})")


def layer_factors(p: Plan, stream_type: Any) -> Iterator[tuple[Any, Any]]:
    """(W_l, phi'(Z_l)) per layer, in order, for the batch of inputs forward_prop draws (or is
    given): the weights and biases drawn as forward_prop draws them, the pre-activations
    computed in float64 from the layer's dtype."""
    H = p.draw_input(stream_type)
    fan_in = p.input_dim
    for layer, width in enumerate(p.widths):
        init, bias = p.weight_inits[layer], p.biases[layer]
        if isinstance(init, Initializer):
            W = init((fan_in, width), rng=p.weight_rng(layer), dtype=p.dtype)
        else:
            W = p.user_weights(layer, fan_in, width)
        if isinstance(bias, Initializer):
            bias = bias((width,), rng=p.bias_rng(layer), dtype=p.dtype)
        with np.errstate(all="ignore"):
            Z = (H @ W).astype(np.float64) + bias
            D = activations.dphi(Z, p.activations[layer], p.negative_slope)
            H = activations.phi(Z, p.activations[layer], p.negative_slope).astype(p.dtype)
        yield W, D
        fan_in = width


def pooled_moments(eigenvalues: Any) -> tuple[float, float]:
    """(mean, variance) of every eigenvalue of every input, pooled."""
    values = np.asarray(eigenvalues, np.float64).ravel()
    return float(values.mean()), float(values.var())


def measure(p: Plan, stream_type: Any, multiply: Callable[..., Any], method: str,
            probes: int, probe_rng: Any) -> JacobianSpectrum:
    """The spectrum of ``p``'s network: ``multiply(factors, batch)`` forms every input's J
    (the engine batches the inputs into one product per layer, the reference multiplies one
    input at a time); the "moments" method estimates tr(JJ^T)/N and tr((JJ^T)^2)/N from
    ``probes`` random vectors instead, without forming J."""
    factors = list(layer_factors(p, stream_type))
    n = p.input_dim
    if method == "svd":
        J = multiply(factors, p.batch)
        singular = np.linalg.svd(J.astype(np.float64), compute_uv=False)
        mean, variance = pooled_moments(singular ** 2)
        details: dict = {}
    else:
        singular = None
        first, second = probe_moments(factors, p.batch, n, probes, probe_rng)
        mean, variance = first, second - first * first
        details = {"probes": probes}
    result = JacobianSpectrum(singular, mean, variance, depth=len(p.widths), method=method,
                              details=details)
    predicted = jacobian_prediction(p)
    if predicted is not None:
        result.predicted_mean, result.predicted_variance, result.theory = predicted
    return result


def batched_product(factors: list, batch: int) -> Any:
    """Every input's J at once: the tangents of all inputs, (batch * input_dim, width) rows,
    go through one GEMM and one scaling per layer."""
    W0, D0 = factors[0]
    n = W0.shape[0]
    T = np.broadcast_to(W0, (batch, n, W0.shape[1])) * D0[:, None, :]
    for W, D in factors[1:]:
        T = (T.reshape(batch * n, -1) @ W).reshape(batch, n, -1) * D[:, None, :]
    return T


def probe_moments(factors: list, batch: int, n: int, probes: int,
                  rng: Any) -> tuple[float, float]:
    """tr(JJ^T)/n and tr((JJ^T)^2)/n, averaged over the inputs, from ``probes`` Gaussian
    vectors v per input: E|v J|^2 = tr(JJ^T) and E|v J J^T|^2 = tr((JJ^T)^2) for v ~ N(0, I)."""
    generator = np.random.default_rng(rng)
    V = generator.standard_normal((batch, probes, n))
    U = V
    for W, D in factors:  # U = V J, one GEMM per layer for every probe of every input
        U = (U.reshape(batch * probes, -1) @ W).reshape(batch, probes, -1) * D[:, None, :]
    first = float(np.mean(np.sum(U * U, axis=2))) / n
    G = U
    for W, D in reversed(factors):  # G = U J^T = V J J^T
        G = ((G * D[:, None, :]).reshape(batch * probes, -1) @ W.T).reshape(batch, probes, -1)
    second = float(np.mean(np.sum(G * G, axis=2))) / n
    return first, second


def measure_call(args: ForwardArgs, method: str, probes: int, backend: Any, stream_type: Any,
                 multiply: Callable[..., Any]) -> JacobianSpectrum:
    """jacobian_spectrum's work, engine or reference: check every argument (before any
    draw), then measure."""
    choice(method, "method", METHODS)
    probes = integer(probes, "probes")
    if probes < 1:
        raise ValueError(f"probes must be >= 1, got {probes}")
    p = plan(args, backend)
    limit = nullcontext()
    if p.threads is not None:
        from threadpoolctl import threadpool_limits
        limit = threadpool_limits(limits=p.threads, user_api="blas")
    with limit:
        probe_rng = p.source if p.compat else child(p.source, len(p.widths) + 3)
        return measure(p, stream_type, multiply, method, probes, probe_rng)

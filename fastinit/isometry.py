"""``jacobian_spectrum``: the singular values of a network's input-output Jacobian, on the
engine (every input's tangents in one BLAS product per layer), beside the free-probability
prediction. The network, its seeding and the theory are shared with the reference
(fastinit.jacobians)."""
from __future__ import annotations

from typing import Callable, Sequence

from fastinit._docs import documented
from fastinit._typing import RNG, Array, DType
from fastinit.backends import ENGINE
from fastinit.initializers import Initializer
from fastinit.jacobians import (
    PARAMETER_DOCS, RETURNS, JacobianSpectrum, batched_product, measure_call,
)
from fastinit.network import ForwardArgs
from fastinit.streams import Stream

@documented(PARAMETER_DOCS, RETURNS)
def jacobian_spectrum(hidden_layer_sizes: Sequence[int],
                      weight_init: str | Initializer | Callable[[int, int], Array], *,
                      activation: str | Sequence[str] = "tanh",
                      bias: float | str | Initializer = 0.0, X: Array | None = None,
                      batch: int = 16, input_dim: int | None = None, rng: RNG = None,
                      dtype: DType = "float64", negative_slope: float = 0.01,
                      num_threads: int | None = None, method: str = "svd",
                      probes: int = 32) -> JacobianSpectrum:
    """The singular values of the input-output Jacobian J of the network forward_prop runs
    for the same arguments, at ``batch`` inputs (Pennington, Schoenholz & Ganguli 2017: a
    network learns fast when they all sit near 1, "dynamical isometry").

    Examples
    --------
    >>> s = fastinit.jacobian_spectrum([128] * 8, "orthogonal", activation="linear", rng=0,
    ...                                batch=2)
    >>> bool(abs(s.singular_values - 1).max() < 1e-9)
    True
    """
    return measure_call(ForwardArgs(hidden_layer_sizes, weight_init, activation=activation, X=X,
                                batch=batch, input_dim=input_dim, rng=rng, dtype=dtype,
                                bias=bias, negative_slope=negative_slope,
                                    num_threads=num_threads),
                        method, probes, ENGINE, Stream, batched_product)



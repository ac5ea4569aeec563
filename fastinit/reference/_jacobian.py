"""jacobian_spectrum in plain NumPy: the spec of fastinit.isometry, each input's Jacobian the
plain product of its layers' Jacobians, one input at a time."""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from fastinit._docs import documented
from fastinit._typing import RNG, Array, DType
from fastinit.backends import REFERENCE
from fastinit.initializers import Initializer
from fastinit.jacobians import PARAMETER_DOCS, RETURNS, JacobianSpectrum, measure_call
from fastinit.network import ForwardArgs
from fastinit.reference._stream import Stream


@documented(PARAMETER_DOCS, RETURNS)
def jacobian_spectrum(hidden_layer_sizes: Sequence[int],
                      weight_init: str | Initializer | Callable[[int, int], Array], *,
                      activation: str | Sequence[str] = "tanh",
                      bias: float | str | Initializer = 0.0, X: Array | None = None,
                      batch: int = 16, input_dim: int | None = None, rng: RNG = None,
                      dtype: DType = "float64", negative_slope: float = 0.01,
                      num_threads: int | None = None, method: str = "svd",
                      probes: int = 32) -> JacobianSpectrum:
    """Same signature and result as fastinit.jacobian_spectrum."""
    return measure_call(ForwardArgs(hidden_layer_sizes, weight_init, activation=activation, X=X,
                                    batch=batch, input_dim=input_dim, rng=rng, dtype=dtype,
                                    bias=bias, negative_slope=negative_slope,
                                    num_threads=num_threads),
                        method, probes, REFERENCE, Stream, _per_input_product)


def _per_input_product(factors: list, batch: int) -> Any:
    """J of each input: diag-scaled weight matrices multiplied in layer order."""
    jacobians = []
    for i in range(batch):
        J = factors[0][0] * factors[0][1][i]  # W_1 D_1: column j scaled by phi'(z_1j)
        for W, D in factors[1:]:
            J = (J @ W) * D[i]
        jacobians.append(J)
    return np.stack(jacobians)

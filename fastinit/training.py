"""``train``: SGD on the networks forward_prop runs, on the kernels: per layer one GEMM and the
bias and activation forward (_propagate.dense_forward), then the backward layer's two GEMMs
with the SGD update in the same parallel region (_backward.dense_backward_update), each
without the GIL and with the same bits on any thread count; the evaluation steps measure with
forward_prop's and backward's kernels. The loop, the data and the result are
fastinit.learning's, shared with the reference."""
from __future__ import annotations

from typing import Callable, Sequence

import math

from fastinit import activations, learning
from fastinit._docs import documented
from fastinit._kernels import backward as _backward, openmp as _openmp
from fastinit._kernels import propagate as _propagate
from fastinit._kernels.threads import blas_single_threaded
from fastinit._typing import RNG, Array, DType
from fastinit.backends import ENGINE
from fastinit.initializers import Initializer
from fastinit.learning import RETURNS, PARAMETER_DOCS, Training, TrainArgs


class _KernelOps(learning.Ops):
    def __init__(self, threads):
        self.threads = threads

    def forward(self, x, w, b, out, layer):
        layer.state.bias = b
        stats, _ = _propagate.forward_layer(x, w, out, layer.state, num_threads=self.threads)
        return stats

    def backward(self, g, h_out, h_in, w, g_prev, dw, layer):
        (_, g_m2), (_, w_m2) = _backward.backward_layer(g, h_out, h_in, w, g_prev, dw,
                                                        layer.code, layer.slope, self.threads)
        return math.sqrt(g_m2 / g.size), math.sqrt(w_m2 / dw.size)

    def step_forward(self, x, w, b, out, layer):
        _propagate.dense_forward(x, w, b, out, layer.code, layer.slope, self.threads)

    def step_backward(self, g, h_out, h_in, w, v_w, b, v_b, g_prev, dw, lr, momentum, layer):
        _backward.dense_backward_update(g, h_out, h_in, w, v_w, b, v_b, g_prev, dw, lr,
                                        momentum, layer.code, layer.slope, self.threads)


def _layer_pass(name, code, slope, dtype):
    return _propagate.LayerPass(code, slope, saturation=activations.saturation_bounds(name,
                                                                                       dtype))


@documented(PARAMETER_DOCS, RETURNS)
def train(hidden_layer_sizes: Sequence[int],
          weight_init: str | Initializer | Callable[[int, int], Array], X: Array | None = None,
          y: Array | None = None, *, activation: str | Sequence[str] = "tanh",
          bias: float | str | Initializer = 0.0, loss: str = "cross_entropy", lr: float = 0.01,
          momentum: float = 0.9, batch_size: int = 128, steps: int = 500,
          test: float | tuple[Array, Array] = 0.2, eval_every: int | None = None,
          standardize: bool = True, readout_init: str | Initializer | None = None,
          rng: RNG = None, dtype: DType = "float64", negative_slope: float = 0.01,
          num_threads: int | None = None) -> Training:
    """Train the network forward_prop runs for these arguments (plus a linear readout) with
    mini-batch SGD and momentum, and record what happens: loss and accuracy per step, and at
    the evaluation steps the held-out accuracy and each layer's activation and gradient
    statistics (the step-0 picture of forward_prop, as training moves it).

    Examples
    --------
    >>> X = np.random.default_rng(0).standard_normal((200, 4)); y = (X[:, 0] > 0).astype(int)
    >>> run = fastinit.train([16, 16], "lecun_normal", X, y, steps=100, rng=0)
    >>> bool(run.final_test_accuracy > 0.9)
    True
    """
    checked = learning.check(TrainArgs(
        hidden_layer_sizes, weight_init, X, y, activation=activation, bias=bias, loss=loss,
        lr=lr, momentum=momentum, batch_size=batch_size, steps=steps, test=test,
        eval_every=eval_every, standardize=standardize, readout_init=readout_init, rng=rng,
        dtype=dtype, negative_slope=negative_slope, num_threads=num_threads), ENGINE)
    p = checked["plan"]
    threads = _openmp.effective_num_threads(p.threads)
    layers = learning.layer_list(p, _layer_pass)
    with blas_single_threaded():  # the kernels call BLAS from each of their threads
        result = learning.run(checked, _KernelOps(threads), layers)
    result.description = learning.describe(weight_init, hidden_layer_sizes, activation)
    return result

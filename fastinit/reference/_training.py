"""The reference's ``train``: the same loop and data (fastinit.learning) with the per-layer
arithmetic in plain NumPy."""
from __future__ import annotations

from typing import Any

import numpy as np

from fastinit import learning
from fastinit.backends import REFERENCE
from fastinit.gradients import derivative
from fastinit.learning import Training, TrainArgs


class _NumPyOps(learning.Ops):
    def forward(self, x, w, b, out, layer):
        z = x @ w + b
        out[...] = layer.state(z)
        h = out.astype(np.float64)
        return {"mean": h.mean(), "std": h.std(), "saturated": np.nan,
                "dead": float(np.mean(out == 0))}

    def backward(self, g, h_out, h_in, w, g_prev, dw, layer):
        grad_std = float(g.std(dtype=np.float64))
        g *= derivative(h_out, layer.activation, layer.slope)
        dw[...] = h_in.T @ g
        if g_prev is not None:
            g_prev[...] = g @ w.T
        return grad_std, float(dw.std(dtype=np.float64))

    def step_forward(self, x, w, b, out, layer):
        out[...] = layer.state(x @ w + b)

    def step_backward(self, g, h_out, h_in, w, v_w, b, v_b, g_prev, dw, lr, momentum, layer):
        g *= derivative(h_out, layer.activation, layer.slope)
        if g_prev is not None:
            g_prev[...] = g @ w.T
        dw[...] = h_in.T @ g
        for param, velocity, grad in ((w, v_w, dw), (b, v_b, g.sum(axis=0))):
            velocity *= velocity.dtype.type(momentum)
            velocity += grad
            param -= velocity.dtype.type(lr) * velocity


def _activation(name, code, slope, dtype):
    from fastinit import activations
    phi = activations.get(name).phi
    return lambda z: phi(z, slope).astype(dtype)


def train(hidden_layer_sizes: Any, weight_init: Any, X: Any = None, y: Any = None,
          **kwargs: Any) -> Training:
    """Same signature and result as fastinit.train (to rounding: the GEMMs and
    activations are NumPy's)."""
    checked = learning.check(TrainArgs(hidden_layer_sizes, weight_init, X, y, **kwargs),
                             REFERENCE)
    result = learning.run(checked, _NumPyOps(), learning.layer_list(checked["plan"],
                                                                    _activation))
    result.description = learning.describe(weight_init, hidden_layer_sizes,
                                           kwargs.get("activation", "tanh"))
    return result

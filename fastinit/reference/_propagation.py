"""forward_prop in plain NumPy: the spec of fastinit.propagation, one readable loop."""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from fastinit import activations
from fastinit._typing import RNG, Array, DType
from fastinit.backends import REFERENCE
from fastinit.gradients import backward_pass
from fastinit.initializers import Initializer
from fastinit.network import ForwardArgs, check_block_bytes, plan, run_perturbed
from fastinit.predictions import attach_predictions
from fastinit.reference._stream import Stream
from fastinit.results import Propagation, attach, layer_stats


def forward_prop(hidden_layer_sizes: Sequence[int],
                 weight_init: str | Initializer | Callable[[int, int], Array], *,
                 activation: str | Sequence[str] = "tanh", X: Array | None = None,
                 batch: int = 1000, input_dim: int | None = None, rng: RNG = None,
                 dtype: DType = "float64", bias: float | str | Initializer = 0.0,
                 keep_activations: bool = True, bins: int = 30,
                 hist_range: tuple[float, float] | None = None, negative_slope: float = 0.01,
                 num_threads: int | None = None, block_bytes: int | None = None,
                 backward: bool = False, upstream: Array | None = None,
                 perturbation: float | None = None,
                 input_correlation: float | None = None) -> Propagation:
    """Same signature and result as fastinit.forward_prop (block_bytes is ignored: the
    reference always draws whole matrices; num_threads is checked, and NumPy's own threads
    do the work)."""
    args = ForwardArgs(
        hidden_layer_sizes, weight_init, activation=activation, X=X, batch=batch,
        input_dim=input_dim, rng=rng, dtype=dtype, bias=bias, keep_activations=keep_activations,
        bins=bins, hist_range=hist_range, negative_slope=negative_slope, num_threads=num_threads,
        block_bytes=block_bytes, backward=backward, upstream=upstream, perturbation=perturbation,
        input_correlation=input_correlation)
    p = plan(args, REFERENCE)
    check_block_bytes(block_bytes)
    if p.perturbation is not None or p.input_correlation is not None:
        return run_perturbed(p, _run, Stream)
    return _run(p)


def _run(p):
    H = p.draw_input(Stream)
    acts, layers = [], []
    inputs, outputs, weights, added = [], [], [], []
    for layer, width in enumerate(p.widths):
        fan_in = H.shape[1]
        b = p.biases[layer]
        if isinstance(b, Initializer):
            b = b((width,), rng=p.bias_rng(layer), dtype=p.dtype)
        init = p.weight_inits[layer]
        if isinstance(init, Initializer):
            W = init((fan_in, width), rng=p.weight_rng(layer), dtype=p.dtype)
        else:
            W = p.user_weights(layer, fan_in, width)
        inputs.append(H)
        weights.append(W)
        added.append(b)
        H, stats = _layer(p, layer, H, W, b)
        edges = p.hist_edges(layer, stats["min"], stats["max"])
        hist = np.histogram(H.astype(np.float64), edges)[0] if edges.size else np.zeros(0, int)
        layers.append(layer_stats(layer, width, p.activations[layer], stats, hist, edges))
        outputs.append(H)
        if p.keep_activations:
            acts.append(H)
    if p.backward:
        attach(layers, backward_pass(p, inputs, outputs, weights.__getitem__, added,
                                     p.draw_upstream(Stream)))
    attach_predictions(p, layers)
    return Propagation(layers, acts)


def _layer(p, layer, H, W, b):
    """(the layer's output, its statistics): the activation of H @ W + b computed in float64
    and rounded to the layer dtype; statistics in float64 whatever the dtype."""
    name = p.activations[layer]
    with np.errstate(all="ignore"):  # overflow is reported once, by layer_stats
        Z = H @ W + p.dtype.type(b) if np.isscalar(b) else H @ W + b
        out = activations.phi(Z.astype(np.float64), name, p.negative_slope).astype(p.dtype)
        h = out.astype(np.float64)
        stats = {"mean": h.mean(), "std": h.std(), "min": h.min(), "max": h.max(),
                 "preact_std": Z.astype(np.float64).std(),
                 "saturated": activations.saturated_fraction(h, name),
                 "dead": np.mean(h == 0)}
    return out, stats

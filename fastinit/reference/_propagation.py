"""forward_prop in plain NumPy: the spec of fastinit.propagation, one readable loop."""
import numpy as np

from fastinit.activations import phi as activate
from fastinit.gradients import backward_pass
from fastinit.initializers import Initializer
from fastinit.propagation import (
    Propagation,
    attach_gradients,
    attach_predictions,
    layer_stats,
    plan,
    run_perturbed,
)


def saturated_fraction(h, name):
    if name == "tanh":
        return np.mean(np.abs(h) > 0.99)
    if name == "sigmoid":
        return np.mean((h < 0.01) | (h > 0.99))
    return np.nan


def forward_prop(hidden_layer_sizes, weight_init, *, activation="tanh", X=None, batch=1000,
                 input_dim=None, rng=None, dtype="float64", bias=0.0, keep_activations=True,
                 bins=30, hist_range=None, negative_slope=0.01, num_threads=None,
                 block_bytes=None, backward=False, upstream=None, perturbation=None,
                 input_correlation=None):
    """Same signature and result as fastinit.forward_prop (block_bytes is ignored: the
    reference always draws whole matrices)."""
    from fastinit.reference import Stream, get_initializer
    p = plan(hidden_layer_sizes, weight_init, activation=activation, X=X, batch=batch,
             input_dim=input_dim, rng=rng, dtype=dtype, bias=bias,
             keep_activations=keep_activations, bins=bins, hist_range=hist_range,
             negative_slope=negative_slope, num_threads=num_threads,
             get_initializer=get_initializer, backward=backward, upstream=upstream,
             perturbation=perturbation, input_correlation=input_correlation)
    if p.perturbation is not None or p.input_correlation is not None:
        return run_perturbed(p, lambda q: _run(q, Stream), Stream)
    return _run(p, Stream)


def _run(p, Stream):
    H = p.draw_input(Stream)
    acts, layers = {}, []
    inputs, outputs, weights, added = [], [], [], []
    for layer, width in enumerate(p.widths):
        fan_in = H.shape[1]
        init = p.weight_inits[layer]
        if isinstance(init, Initializer):
            W = init((fan_in, width), rng=p.weight_rng(layer), dtype=p.dtype)
        else:
            W = p.user_weights(layer, fan_in, width)
        b = p.biases[layer]
        if isinstance(b, Initializer):
            b = b((width,), rng=p.bias_rng(layer), dtype=p.dtype)
        # overflow is reported once, by layer_stats, as the engine reports it
        with np.errstate(all="ignore"):
            Z = H @ W + p.dtype.type(b) if np.isscalar(b) else H @ W + b
            inputs.append(H)
            weights.append(W)
            added.append(b)
            # the activation of the layer's values, computed in float64 and rounded to the dtype
            H = activate(Z.astype(np.float64), p.activations[layer],
                         p.negative_slope).astype(p.dtype)
            h = H.astype(np.float64)  # statistics in float64 whatever the dtype
            stats = {"mean": h.mean(), "std": h.std(), "min": h.min(), "max": h.max(),
                     "preact_std": Z.astype(np.float64).std(),
                     "saturated": saturated_fraction(h, p.activations[layer]),
                     "dead": np.mean(h == 0)}
        edges = p.hist_edges(layer, stats["min"], stats["max"])
        hist = np.histogram(h, edges)[0] if edges.size else np.zeros(0, np.int64)
        layers.append(layer_stats(p, layer, width, stats, hist, edges))
        outputs.append(H)
        if p.keep_activations:
            acts[layer] = H
    if p.backward:
        grads = backward_pass(p, inputs, outputs, weights.__getitem__, added,
                              p.draw_upstream(Stream))
        attach_gradients(layers, grads)
    attach_predictions(p, layers)
    return Propagation(layers, acts)

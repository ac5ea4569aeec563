"""The forward pass on the engine: draw a network's weights layer by layer, propagate a batch
through it and measure every layer, on the Cython/OpenMP kernels. The network description,
the checks, the results and the predictions are shared with the NumPy reference
(fastinit.network, fastinit.results, fastinit.predictions); this module only calls kernels.
"""
from __future__ import annotations

import functools
import math
import types
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import nullcontext
from typing import Any, Callable, Sequence

import numpy as np

from fastinit import activations
from fastinit._kernels import backward as _backward, fill as _fill, openmp as _openmp
from fastinit._kernels import propagate as _propagate
from fastinit._kernels.threads import blas_single_threaded
from fastinit._typing import RNG, Array, DType
from fastinit._validation import integer
from fastinit.backends import ENGINE
from fastinit.gradients import backward_pass
from fastinit.initializers import Initializer
from fastinit.laws import KERNEL_PARAMS, Normal, kernel_params
from fastinit.network import ForwardArgs, check_block_bytes, plan, run_perturbed
from fastinit.predictions import attach_predictions
from fastinit.results import MEASURED, Propagation, attach, checked_stats, layer_stats
from fastinit.seeding import seed_sequence
from fastinit.streams import Stream, child_keys, seeds_child_keys
from fastinit.structured import kernel_gain

BLOCK_BYTES = 256 * 2**20  # weight matrices larger than this are drawn in row blocks


def forward_prop(hidden_layer_sizes: Sequence[int],
                 weight_init: str | Initializer | Callable[[int, int], Array], *,
                 activation: str | Sequence[str] = "tanh", X: Array | None = None,
                 batch: int = 1000, input_dim: int | None = None, rng: RNG = None,
                 dtype: DType = "float64", bias: float | str | Initializer = 0.0,
                 keep_activations: bool = True, bins: int = 30,
                 hist_range: tuple[float, float] | None = None, negative_slope: float = 0.01,
                 num_threads: int | None = None, block_bytes: int | None = BLOCK_BYTES,
                 backward: bool = False, upstream: Array | None = None,
                 perturbation: float | None = None,
                 input_correlation: float | None = None) -> Propagation:
    """Propagate a batch through fully connected layers and measure each one:
    ``H_l = activation(H_{l-1} @ W_l + b_l)``, ``W_l`` of shape (fan_in, fan_out).

    Parameters
    ----------
    hidden_layer_sizes : sequence of int
        The width of each layer.
    weight_init : str, Initializer or callable
        A scheme name ("xavier_normal"), an Initializer from get_initializer, or a callable
        ``(fan_in, fan_out) -> ndarray`` called once per layer in layer order, on the
        calling thread.
    activation : str or list of str, default "tanh"
        One of fastinit.ACTIVATIONS, or one per layer (leaky_relu uses ``negative_slope``).
    X : ndarray, optional
        The input batch (batch, input_dim), used as is and never modified; by default
        ``(batch, input_dim)`` standard normal from ``rng``.
    batch, input_dim : int
        The drawn input's shape (input_dim defaults to the first width).
    rng : None, int, SeedSequence or Generator
        Seeds everything (see fastinit.network for which child stream draws what).
    dtype : "float64" or "float32"
    bias : float, str or Initializer, default 0.0
        A constant added to every pre-activation, or an initializer drawing one bias vector
        per layer.
    keep_activations : bool, default True
        Keep every layer's output in ``result.acts``.
    bins, hist_range : int and (low, high), optional
        Histogram of each layer (default range: the activation's, else the data's).
    negative_slope : float, default 0.01
    num_threads : int, optional
        Threads (default: OMP_NUM_THREADS or one per core); results do not depend on it.
    block_bytes : int
        Weight matrices over this are drawn and multiplied in row blocks, so memory stays
        bounded: the weights are the same, but the matrix product then sums its terms block
        by block, so activations and statistics can differ from an unblocked run in the last
        bits (relative 1e-15 in float64).
    backward : bool, default False
        Also send a gradient back (``upstream``, default standard normal) and record per layer
        ``grad_std``, ``weight_grad_norm`` and ``weight_grad_std`` (fastinit.gradients).
    upstream : ndarray, optional
        dL/dH of the last layer for the backward pass.
    perturbation : float, optional
        Also run X + eps * noise through the same weights; records ``distance`` and
        ``correlation`` per layer.
    input_correlation : float, optional
        Also run a second input whose rows have correlation c with X's; records ``distance``,
        ``correlation`` and the mean-field ``predicted_correlation``.

    Returns
    -------
    Propagation
        Unpacks as ``acts, means, stds``; ``.layers`` holds a LayerStats per layer (its
        ``layer`` number counts from 1) and ``.acts`` the kept outputs (``acts[0]`` is the
        first layer, ``acts[-1]`` the last).

    Examples
    --------
    >>> acts, means, stds = fastinit.forward_prop([500] * 10, "xavier_normal", rng=0)
    >>> len(acts), acts[-1].shape
    (10, (1000, 500))
    >>> result = fastinit.forward_prop([64] * 3, "he_normal", activation="relu", rng=0,
    ...                                keep_activations=False)
    >>> result.layers[0].layer, round(result.layers[0].dead, 1)
    (1, 0.5)
    """
    args = ForwardArgs(
        hidden_layer_sizes, weight_init, activation=activation, X=X, batch=batch,
        input_dim=input_dim, rng=rng, dtype=dtype, bias=bias, keep_activations=keep_activations,
        bins=bins, hist_range=hist_range, negative_slope=negative_slope, num_threads=num_threads,
        block_bytes=block_bytes, backward=backward, upstream=upstream, perturbation=perturbation,
        input_correlation=input_correlation)
    compiled = _compiled_network(args)
    if compiled is not None:
        return compiled.run(rng, num_threads)
    p = plan(args, ENGINE)
    p.threads = _openmp.effective_num_threads(p.threads)
    block_bytes = check_block_bytes(block_bytes)
    # The kernels call BLAS from every OpenMP thread, one block of rows each: BLAS itself must
    # stay single-threaded, or its threads and ours fight over the cores.
    with blas_single_threaded():
        if p.perturbation is not None or p.input_correlation is not None:
            return run_perturbed(p, lambda q: _run(q, block_bytes), Stream)
        if _fusable(p, block_bytes):
            return _run_fused(p)
        return _run(p, block_bytes)


def layer_pass(p, layer, bias_vector=None, edges=None):
    """The fused pass of ``layer`` (a _propagate.LayerPass): bias, activation, saturation rule
    and histogram edges, read from the plan and the activation table."""
    name = p.activations[layer]
    bias = p.biases[layer]
    return _propagate.LayerPass(
        activations.get(name).code, p.negative_slope, bias=bias_vector,
        bias_value=0.0 if bias_vector is not None else bias,
        saturation=activations.saturation_bounds(name, p.dtype),
        edges=p.hist_edges(layer) if edges is None else edges)


def kernel_weights(init, fan_in, width, dtype):
    """(law, gain) with which the kernels draw ``init``'s (fan_in, width) weights: its law and
    NaN, or for an orthogonal weight they factorise (fastinit.structured.kernel_gain) standard
    normal draws and its gain; None when the weights come from Python."""
    if not isinstance(init, Initializer):
        return None
    law = init.law((fan_in, width))
    if law is not None:
        return law, math.nan
    if init.name != "orthogonal":
        return None
    try:
        gain = kernel_gain((fan_in, width), init.params, dtype)
    except (TypeError, ValueError):  # orthogonal itself says what is wrong, when it runs
        return None
    return None if gain is None else (Normal(0.0, 1.0), gain)


def _fusable(p, block_bytes):
    """Whether the whole network can run in one nogil call (_propagate.forward_network):
    weights the kernels draw (kernel_weights) and law biases from a SeedSequence, no backward
    pass, histogram ranges known up front, every weight matrix under the block size (kept
    activations are written in place)."""
    if p.compat or p.backward:
        return False
    fan_in = p.input_dim
    for layer, width in enumerate(p.widths):
        init, bias = p.weight_inits[layer], p.biases[layer]
        if kernel_weights(init, fan_in, width, p.dtype) is None:
            return False
        if isinstance(bias, Initializer) and bias.law((width,)) is None:
            return False
        if fan_in * width * p.dtype.itemsize > block_bytes or not p.edges_known_up_front(layer):
            return False
        fan_in = width
    return True


def _run_fused(p):
    """The network in one nogil kernel call: the same numbers as _run, without a Python step
    per layer (so that many small networks scale across threads)."""
    fan_ins = [p.input_dim] + p.widths[:-1]
    bias_vectors = [_draw_layer(p, layer, fan_in, width, weights=False)[0]
                    for layer, (fan_in, width) in enumerate(zip(fan_ins, p.widths))]
    return _FusedNetwork(p, bias_vectors).run(p.source, p.threads, p.draw_input(Stream))


# -- the repeated call: a network checked and laid out once, then run per seed ---------------

# forward_prop's arguments that decide a network's layout, not its draws (rng does those)
_LAYOUT_ARGUMENTS = ("hidden_layer_sizes", "weight_init", "activation", "batch", "input_dim",
                     "dtype", "bias", "keep_activations", "bins", "hist_range",
                     "negative_slope", "num_threads", "block_bytes")
_PLAIN = (int, float, str, bool, type(None))


def _layout_key(value):
    """A hashable key that tells apart everything validation would (True from 1, 1 from 1.0,
    a list from a tuple), or None for a value without one (an array, a callable, ...). An
    engine Initializer is keyed by its name and parameters (a sweep passes its schemes so)."""
    if type(value) in _PLAIN:
        return type(value), value
    if type(value) in (list, tuple):
        items = tuple(_layout_key(item) for item in value)
        return None if None in items else (type(value), items)
    if type(value) is Initializer and value.backend is ENGINE:
        params = tuple((name, _layout_key(v)) for name, v in sorted(value.params.items()))
        if all(key is not None for _, key in params):
            return Initializer, (value.name, params)
    return None


@functools.lru_cache(maxsize=64)
def _compile(key):
    """The _FusedNetwork of forward_prop's layout arguments ``key`` (validated as
    forward_prop validates them), or None when the network does not run in one fused call."""
    args = ForwardArgs(**{name: _unkey(value) for name, value in zip(_LAYOUT_ARGUMENTS, key)},
                       rng=0)
    p = plan(args, ENGINE)
    block_bytes = integer(args.block_bytes, "block_bytes")
    if block_bytes <= 0 or not _fusable(p, block_bytes) or any(
            isinstance(bias, Initializer) for bias in p.biases):
        return None
    return _FusedNetwork(p)


def _unkey(value):
    """The argument a _layout_key was made from (an equal Initializer)."""
    kind, item = value
    if kind is Initializer:
        name, params = item
        return Initializer(name, {k: _unkey(v) for k, v in params}, ENGINE)
    return kind(_unkey(v) for v in item) if kind in (list, tuple) else item


def fused_network(hidden_layer_sizes, weight_init, **arguments):
    """The laid-out network forward_prop would reuse for these arguments (its defaults for
    the rest), or None when such a call takes the general path."""
    return _compiled_network(ForwardArgs(hidden_layer_sizes, weight_init,
                                         **{"block_bytes": BLOCK_BYTES, **arguments}))


def _compiled_network(args):
    """The checked, laid-out network for a forward_prop call that only needs the fused kernel
    and a SeedSequence (no X, no backward pass, no second input, constant biases), cached by
    its layout; None for any other call, which takes the general path."""
    if args.X is not None or args.backward or args.upstream is not None \
            or args.perturbation is not None or args.input_correlation is not None:
        return None
    rng = args.rng
    if rng is not None and type(rng) is not int and not isinstance(rng, np.random.SeedSequence):
        return None
    key = tuple(_layout_key(getattr(args, name)) for name in _LAYOUT_ARGUMENTS)
    if None in key:
        return None
    try:
        return _compile(key)
    except (TypeError, ValueError):  # the general path raises it, with its own context
        return None


def kept_outputs(batch, widths, dtype):
    """One (batch, width) array per layer for the kept activations, all views of one block:
    one allocation, which NumPy backs with huge pages when it is large, where an array per
    layer faults its pages in one by one (faults cost as much as the layer's statistics)."""
    block = np.empty(batch * sum(widths), dtype)
    outputs, start = [], 0
    for width in widths:
        outputs.append(block[start:start + batch * width].reshape(batch, width))
        start += batch * width
    return outputs


class _FusedNetwork:
    """A network that runs in one fused kernel call (see _fusable), laid out: per-layer laws as
    kernel parameters, fused passes (with the given bias vectors, else the plan's constants),
    histogram edges and the mean-field predictions. Everything but the seed: a repeated call
    with the same layout reuses it (_compile)."""

    def __init__(self, p, bias_vectors=None):
        self.plan = p
        depth = len(p.widths)
        kinds = np.empty(depth, np.intc)
        params = np.empty((depth, KERNEL_PARAMS))
        gains = np.empty(depth)
        fan_in = p.input_dim
        for layer, width in enumerate(p.widths):
            drawn = kernel_weights(p.weight_inits[layer], fan_in, width, p.dtype)
            assert drawn is not None, "a _FusedNetwork is built for _fusable plans only"
            law, gains[layer] = drawn
            kind, params[layer] = kernel_params(law, p.dtype)
            kinds[layer] = _fill.KINDS[kind]
            fan_in = width
        bias_vectors = bias_vectors or [None] * depth
        self.passes = [layer_pass(p, layer, bias_vectors[layer]) for layer in range(depth)]
        self.layout = _propagate.NetworkLayout(p.input_dim, p.widths, kinds, params,
                                               self.passes, p.bins, p.dtype, gains)
        _, self.input_params = kernel_params(Normal(0.0, 1.0), p.dtype)
        probe = [types.SimpleNamespace() for _ in p.widths]  # predictions: from the plan only
        attach_predictions(p, probe)
        self.predictions = [vars(stats) for stats in probe]

    def run(self, rng, num_threads, X=None):
        """The Propagation of this network seeded by ``rng`` (an int or SeedSequence): its
        input X, else N(0, 1) from child(rng, 0); layer l's weights from child(rng, l + 1)."""
        p = self.plan
        source = rng if type(rng) is int and rng >= 0 else seed_sequence(rng)
        threads = _openmp.effective_num_threads(num_threads)
        keys = child_keys(source, range(len(p.widths) + 1))
        if X is None:
            X = np.empty((p.batch, p.input_dim), p.dtype)
            _fill.fill(X.reshape(-1), keys[0], 0, _fill.KINDS["normal"], self.input_params,
                       threads)
        outputs = kept_outputs(p.batch, p.widths, p.dtype) if p.keep_activations else None
        with blas_single_threaded():
            totals, hists = _propagate.forward_network(X, self.layout, keys[1:], threads,
                                                       outputs)
        return Propagation(self.measured(totals, hists), outputs or [])

    def measured(self, totals, hists):
        """The LayerStats of one run from its kernel totals and histograms, predictions
        beside them."""
        p = self.plan
        layers = []
        for layer, width in enumerate(p.widths):
            stats = layer_stats(layer, width, p.activations[layer], _propagate.layer_statistics(
                totals[layer], p.batch * width, self.passes[layer].counts_saturation),
                hists[layer], self.passes[layer].edges)
            for name, value in self.predictions[layer].items():
                setattr(stats, name, value)
            layers.append(stats)
        return layers

    def run_seeds(self, seeds, num_threads):
        """The per-layer LayerStats of this network for each int seed in ``seeds`` (each
        equal to ``run(seed)``'s), every network in one nogil call, one per thread."""
        totals, hists = self.run_seeds_totals(seeds, num_threads)
        return [self.measured(totals[i], hists[i]) for i in range(len(seeds))]

    def run_seeds_totals(self, seeds, num_threads):
        """The kernel's (totals (n, depth, 8), histograms (n, depth, bins)) for each int seed
        in ``seeds``: what run_seeds measures, before any Python object per layer."""
        p = self.plan
        keys = seeds_child_keys(seeds, len(p.widths) + 1)
        with blas_single_threaded():
            return _propagate.forward_networks(
                self.layout, p.batch, keys, self.input_params, _fill.KINDS["normal"],
                _openmp.effective_num_threads(num_threads))

    def seed_records(self, configs, totals, hists, records_of):
        """The sweep records of ``configs`` (one Config per seed, nothing else different) from
        run_seeds_totals' arrays. The first network's come from ``records_of(config,
        layers)``; every other copies them and sets its seed and measured statistics (the
        predictions, columns and edges are the plan's, the same for every seed): no LayerStats
        per layer."""
        first = records_of(configs[0], self.measured(totals[0], hists[0]))
        sizes = [self.plan.batch * width for width in self.plan.widths]
        saturation = [layer_pass.counts_saturation for layer_pass in self.passes]
        histograms = bool(first) and "hist" in first[0]
        everything = [first]
        for config, total, hist in zip(configs[1:], totals[1:], hists[1:]):
            rows = []
            for layer, template in enumerate(first):
                stats = checked_stats(layer, _propagate.layer_statistics(
                    total[layer], sizes[layer], saturation[layer]))
                row = {**template, "seed": config.seed}
                for key in MEASURED:
                    row[key] = float(stats[key])
                if histograms:
                    row["hist"] = hist[layer].tolist()
                rows.append(row)
            everything.append(rows)
        return everything


def _measured(p, layer, width, stats, hist, edges):
    return layer_stats(layer, width, p.activations[layer], stats, hist, edges)


OVERLAP_WORK = 1 << 20  # multiply-adds of the kernel that the next layer's Python draw hides behind


def _run(p, block_bytes):
    """The network a layer per kernel call: for what the one-call path cannot do (a backward
    pass, weights drawn in Python by a callable, a Generator or a structured scheme,
    histograms over the data's range, weights over the block size). Weights made in Python
    for layer l + 1 are made while layer l's kernel runs, without the GIL, on a helper thread:
    the draws keep their order, and the Python time hides behind the kernel's."""
    H = p.draw_input(Stream)
    fan_ins = [p.input_dim] + p.widths[:-1]
    # a helper thread costs about a layer of a small network to start: only for real kernels
    overlap = any(_drawn_in_python(p, layer, fan_ins[layer], width) and
                  p.batch * fan_ins[layer - 1] * p.widths[layer - 1] >= OVERLAP_WORK
                  for layer, width in enumerate(p.widths[1:], 1))
    state = {"spare": None, "acts": [], "layers": [], "kept": {}, "trace": ([], [], [])}
    drawn = _draw_layer(p, 0, fan_ins[0], p.widths[0])
    with ThreadPoolExecutor(1, "fastinit-layer") if overlap else nullcontext() as helper:
        for layer, width in enumerate(p.widths):
            out = _output_buffer(p, state, width)
            kernel = _LayerKernel(p, layer, H, out, block_bytes, drawn)
            nxt = layer + 1 < len(p.widths)
            if helper is not None and nxt:
                running = helper.submit(kernel)
                try:
                    drawn = _draw_layer(p, layer + 1, width, p.widths[layer + 1])
                finally:
                    wait([running])  # the kernel writes into buffers: it finishes either way
                (stats, hist), W = running.result()
            else:
                (stats, hist), W = kernel()
                if nxt:
                    drawn = _draw_layer(p, layer + 1, width, p.widths[layer + 1])
            _record_layer(p, state, layer, H, out, kernel, stats, hist, W)
            H = out
    layers = state["layers"]
    if p.backward:
        attach(layers, _gradients(p, state))
    attach_predictions(p, layers)
    return Propagation(layers, state["acts"])


def _output_buffer(p, state, width):
    """The buffer of the next layer's output: the one a finished layer left behind when its
    shape fits and nothing keeps it, else a new one."""
    spare = state["spare"]
    state["spare"] = None
    if spare is not None and spare.shape == (p.batch, width):
        return spare
    return np.empty((p.batch, width), p.dtype)


def _record_layer(p, state, layer, H, out, kernel, stats, hist, W):
    edges = kernel.edges
    if p.bins and edges.size == 0:  # unbounded activation: the range is the data's
        edges = p.hist_edges(layer, stats["min"], stats["max"])
        hist = _propagate.histogram(out, edges, p.threads) if edges.size else np.zeros(0)
    state["layers"].append(_measured(p, layer, out.shape[1], stats, hist, edges))
    if p.backward:
        inputs, outputs, added = state["trace"]
        inputs.append(H)
        outputs.append(out)
        added.append(kernel.added)
        if W is not None:
            state["kept"][layer] = W
    if p.keep_activations:
        state["acts"].append(out)
    elif H is not p.X and not p.backward:
        state["spare"] = H


class _LayerKernel:
    """One layer's kernel work, runnable on the helper thread: out = H @ W, then the fused
    pass. W None: the layer's law drawn in place from its counters (in row blocks when the
    matrix is larger than the block size). Returns ((stats, histogram), W when it was built
    whole, else None)."""

    def __init__(self, p, layer, H, out, block_bytes, drawn):
        self.p, self.layer, self.H, self.out = p, layer, H, out
        bias_vector, self.W = drawn
        self.added = p.biases[layer] if bias_vector is None else bias_vector
        bounded = p.edges_known_up_front(layer)
        self.edges = p.hist_edges(layer) if bounded else np.empty(0)
        self.layer_pass = layer_pass(p, layer, bias_vector, self.edges)
        self.block_rows = block_bytes // (out.shape[1] * p.dtype.itemsize)

    def __call__(self) -> tuple[Any, Any]:
        p, H, out = self.p, self.H, self.out
        if self.W is not None:
            return _propagate.forward_layer(H, self.W, out, self.layer_pass,
                                            num_threads=p.threads), self.W
        fan_in, width = H.shape[1], out.shape[1]
        law = p.weight_inits[self.layer].law((fan_in, width))
        stream = Stream(p.layer_seed(self.layer))
        rows = max(1, min(fan_in, self.block_rows))
        W = np.empty((rows, width), p.dtype)
        result: Any = None
        for start in range(0, fan_in, rows):
            stop = min(start + rows, fan_in)
            block = W[:stop - start]
            stream.fill(block, law, offset=start * width, num_threads=p.threads)
            result = _propagate.forward_layer(H[:, start:stop], block, out, self.layer_pass,
                                              beta=0.0 if start == 0 else 1.0,
                                              finish=stop == fan_in, num_threads=p.threads)
        return result, None


def _drawn_in_python(p, layer, fan_in, width):
    """Whether ``layer``'s weights or bias come from Python rather than the fill kernels."""
    if p.compat:
        return True
    init = p.weight_inits[layer]
    return not isinstance(init, Initializer) or init.law((fan_in, width)) is None


def _draw_layer(p, layer, fan_in, width, weights=True):
    """(bias vector or None, W or None): what ``layer`` needs before its kernel runs, drawn in
    the reference's order (bias, then weights). W is None when the kernel draws it from its
    counters (or ``weights`` is False)."""
    bias, init = p.biases[layer], p.weight_inits[layer]
    bias_vector = None
    if isinstance(bias, Initializer):
        bias_vector = bias((width,), rng=p.bias_rng(layer), dtype=p.dtype,
                           num_threads=p.threads)
    if not weights or not _drawn_in_python(p, layer, fan_in, width):
        return bias_vector, None
    if isinstance(init, Initializer):
        return bias_vector, init((fan_in, width), rng=p.weight_rng(layer), dtype=p.dtype,
                                 num_threads=p.threads)
    return bias_vector, p.user_weights(layer, fan_in, width)


def _gradients(p, state):
    """Per-layer gradient statistics (fastinit.gradients) on the kernels."""
    inputs, outputs, added = state["trace"]
    kept = state["kept"]

    def weights(layer):  # drawn weights come back from their counters, not from memory
        if layer in kept:
            return kept[layer]
        shape = (inputs[layer].shape[1], p.widths[layer])
        law = p.weight_inits[layer].law(shape)
        return Stream(p.layer_seed(layer)).fill(np.empty(shape, p.dtype), law,
                                                num_threads=p.threads)

    def matmul(a, b):  # the kernel's parallel GEMM: BLAS stays on one thread
        out = np.empty((a.shape[0], b.shape[1]), p.dtype)
        _backward.matmul(np.ascontiguousarray(a), np.ascontiguousarray(b), out, p.threads)
        return out

    upstream = p.draw_upstream(Stream)
    if any(activations.get(name).needs_preactivation for name in p.activations):
        return backward_pass(p, inputs, outputs, weights, added, upstream, matmul)
    return _backward_kernels(p, inputs, outputs, weights, upstream)


def _backward_kernels(p, inputs, outputs, weights, upstream):
    """fastinit.gradients.backward_pass on the kernels: per layer one nogil call measures
    dL/dH, applies phi' in place and forms dL/dW and dL/dH_{l-1} by two parallel GEMMs."""
    G: Any = np.array(upstream, dtype=p.dtype, order="C")  # a copy: it is overwritten
    stats: list[dict[str, float] | None] = [None] * len(outputs)
    for layer in reversed(range(len(outputs))):
        W = weights(layer)
        dW = np.empty_like(W)
        previous = np.empty(inputs[layer].shape, p.dtype) if layer else None
        (_, g_m2), (w_mean, w_m2) = _backward.backward_layer(
            G, outputs[layer], inputs[layer], W, previous, dW,
            activations.get(p.activations[layer]).code, p.negative_slope, p.threads)
        stats[layer] = {"grad_std": math.sqrt(g_m2 / G.size),
                        "weight_grad_norm": math.sqrt(w_m2 + dW.size * w_mean * w_mean),
                        "weight_grad_std": math.sqrt(w_m2 / dW.size)}
        G = previous
    return stats

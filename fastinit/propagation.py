"""The forward pass: draw a network's weights layer by layer, propagate a batch through it and
measure every layer. ``forward_prop`` here runs on the Cython/OpenMP engine; the same function
in fastinit.reference runs in plain NumPy and gives the same numbers for the same seed.

Seeding (an int or SeedSequence ``rng``, root ``ss``): the input batch is drawn from
``child(ss, 0)``, layer ``l``'s weights (0-based) from ``child(ss, l + 1)`` exactly as
``fastinit.<scheme>((fan_in, fan_out), rng=child(ss, l + 1))`` draws them, and its bias vector
from ``child(child(ss, l + 1), 1)``. A Generator ``rng`` (compat mode) is drawn from in order:
the input, then each layer's weights and bias.
"""
import functools
import math
import numbers
import warnings
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import nullcontext
from dataclasses import dataclass, field, replace

import numpy as np
from fastinit import _openmp, _propagate
from fastinit._blas_threads import blas_single_threaded
from fastinit._validation import float_dtype, integer, real
from fastinit.gradients import backward_pass
from fastinit.initializers import Initializer
from fastinit.laws import Normal
from fastinit.seeding import child, resolve_rng
from fastinit.streams import GeneratorSource

ACTIVATIONS = ("tanh", "relu", "leaky_relu", "sigmoid", "linear", "selu", "elu", "gelu")
# the range of bounded activations: their default histogram range
ACTIVATION_RANGES = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}
BLOCK_BYTES = 256 * 2**20  # weight matrices larger than this are drawn in row blocks


@dataclass
class LayerStats:
    """What one layer's activations looked like."""
    layer: int
    width: int
    activation: str
    mean: float
    std: float
    min: float
    max: float
    preact_std: float
    saturated: float  # fraction with |h| > 0.99 of the bound (tanh, sigmoid), else NaN
    dead: float       # fraction of exact zeros
    hist: np.ndarray = field(repr=False)
    bin_edges: np.ndarray = field(repr=False)
    # backward pass (NaN without one): std of dL/dH at this layer's output, dL/dW's norm, std
    grad_std: float = math.nan
    weight_grad_norm: float = math.nan
    weight_grad_std: float = math.nan
    # mean-field theory's prediction (fastinit.theory), NaN where it does not apply
    predicted_mean: float = math.nan
    predicted_std: float = math.nan
    predicted_grad_std: float = math.nan  # from the last layer's measured grad_std down
    # perturbation (NaN without one): mean squared distance between the outputs for X and for
    # X + eps * noise, and their correlation sum(h1 h2) / sqrt(sum(h1^2) sum(h2^2))
    distance: float = math.nan
    correlation: float = math.nan
    predicted_correlation: float = math.nan  # mean-field value of ``correlation``

    def record(self):
        return {"layer": self.layer, "width": self.width, "activation": self.activation,
                "mean": self.mean, "std": self.std, "min": self.min, "max": self.max,
                "preact_std": self.preact_std, "saturated": self.saturated, "dead": self.dead,
                "grad_std": self.grad_std, "weight_grad_norm": self.weight_grad_norm,
                "weight_grad_std": self.weight_grad_std,
                "predicted_mean": self.predicted_mean, "predicted_std": self.predicted_std,
                "predicted_grad_std": self.predicted_grad_std,
                "distance": self.distance, "correlation": self.correlation,
                "predicted_correlation": self.predicted_correlation,
                "hist": self.hist.tolist(), "bin_edges": self.bin_edges.tolist()}


class Propagation:
    """The result of forward_prop; unpacks as ``acts, means, stds`` like the classic function."""

    def __init__(self, layers, acts):
        self.layers = layers
        self.acts = acts

    @property
    def means(self):
        return [layer.mean for layer in self.layers]

    @property
    def stds(self):
        return [layer.std for layer in self.layers]

    def __iter__(self):
        return iter((self.acts, self.means, self.stds))

    def __len__(self):
        return len(self.layers)

    def to_records(self):
        """One dict per layer with every statistic."""
        return [layer.record() for layer in self.layers]

    def report(self):
        """The classic printout, "Hidden layer i had mean m and std s" (layers counted from 1),
        with the mean-field prediction after it where the theory applies."""
        lines = []
        for s in self.layers:
            line = f"Hidden layer {s.layer + 1} had mean {s.mean:f} and std {s.std:f}"
            if not math.isnan(s.predicted_std):
                line += f" (predicted mean {s.predicted_mean:f} and std {s.predicted_std:f})"
            lines.append(line)
        return "\n".join(lines)

    def __repr__(self):
        return f"Propagation({len(self.layers)} layers)\n{self.report()}"


@dataclass
class Plan:
    """Every argument of forward_prop, checked and normalised before anything is computed."""
    widths: list
    weight_inits: list
    activations: list
    biases: list          # per layer: a float, or an Initializer drawing a (width,) vector
    X: object             # the given input, or None to draw one
    batch: int
    input_dim: int
    source: object        # SeedSequence or Generator
    dtype: np.dtype
    keep_activations: bool
    bins: int
    hist_range: object
    negative_slope: float
    threads: int
    backward: bool = False
    upstream: object = None  # the backward pass's dL/dH_L, or None to draw it
    perturbation: object = None  # eps of the perturbed second input, or None
    input_correlation: object = None  # c of a second input correlated c with X, or None

    def layer_seed(self, layer):
        return child(self.source, layer + 1)

    def draw_input(self, stream_type):
        """The input batch: given, or standard normal from child(ss, 0)."""
        if self.X is not None:
            return self.X
        return self.standard_normal((self.batch, self.input_dim), 0, stream_type)

    def draw_upstream(self, stream_type):
        """dL/dH of the last layer: given, or standard normal from child(ss, depth + 1)."""
        if self.upstream is not None:
            return self.upstream
        return self.standard_normal((self.batch, self.widths[-1]), len(self.widths) + 1,
                                     stream_type)

    def standard_normal(self, shape, child_index, stream_type):
        """N(0, 1) of ``shape`` from child(ss, child_index)."""
        # a Generator (compat mode) gives its next draws instead of a child stream
        out = np.empty(shape, self.dtype)
        if isinstance(self.source, np.random.Generator):
            return GeneratorSource(self.source).fill(out, Normal(0.0, 1.0))
        return stream_type(child(self.source, child_index)).fill(out, Normal(0.0, 1.0),
                                                                 num_threads=self.threads)

    def weight_rng(self, layer):
        return self.source if isinstance(self.source, np.random.Generator) else \
            self.layer_seed(layer)

    def bias_rng(self, layer):
        return self.source if isinstance(self.source, np.random.Generator) else \
            child(self.layer_seed(layer), 1)

    def user_weights(self, layer, fan_in, fan_out):
        """The user's callable's matrix for ``layer``, checked, as a C-ordered ``dtype`` array."""
        W = self.weight_inits[layer](fan_in, fan_out)
        if not isinstance(W, np.ndarray):
            raise TypeError(f"weight_init returned {type(W).__name__} for layer {layer}; "
                            "it must return a numpy.ndarray")
        if W.shape != (fan_in, fan_out):
            raise ValueError(f"weight_init returned shape {W.shape} for layer {layer}; "
                             f"expected {(fan_in, fan_out)}")
        if not np.issubdtype(W.dtype, np.floating) and not np.issubdtype(W.dtype, np.integer):
            raise TypeError(f"weight_init returned dtype {W.dtype} for layer {layer}")
        if not np.isfinite(W).all():
            raise ValueError(f"weight_init returned non-finite values for layer {layer}")
        return np.ascontiguousarray(W, dtype=self.dtype)

    def hist_edges(self, layer, lo, hi):
        """Bin edges of ``layer``'s histogram: hist_range, else the activation's range, else the
        data's [min, max]; empty when there is no finite range or no bins."""
        if self.bins == 0:
            return np.empty(0)
        if self.hist_range or self.activations[layer] in ACTIVATION_RANGES:
            bounds = self.hist_range or ACTIVATION_RANGES[self.activations[layer]]
            return _bin_edges(self.bins, *bounds)
        return data_range_edges(self.bins, float(lo), float(hi))


def data_range_edges(bins, lo, hi):
    """The edges of a histogram over the data's [lo, hi]: np.histogram's, and where those
    cannot be made (NumPy: "Too many bins for data range", as for a constant layer of 1e308 or
    one whose values differ by a few ulps) [mid - w, mid + w] with w the larger of 0.5 and
    2 * bins ulps of the data: every value in one bin or a few. Empty when the data are not
    finite or the widened range overflows: then there is no histogram."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return np.empty(0)
    try:
        return _bin_edges(bins, lo, hi)
    except ValueError:
        pass
    mid = 0.5 * lo + 0.5 * hi
    half = max(0.5, 2 * bins * float(np.spacing(max(abs(lo), abs(hi)))))
    try:
        return _bin_edges(bins, mid - half, mid + half)
    except ValueError:  # the widened range overflows
        return np.empty(0)


@functools.lru_cache(maxsize=256)
def _bin_edges(bins, lo, hi):
    """np.histogram's edges for ``bins`` over [lo, hi] (cached and read-only: every layer of a
    bounded activation shares them)."""
    edges = np.histogram_bin_edges(np.empty(0), bins, range=(lo, hi))
    edges.flags.writeable = False
    return edges


def _as_initializer(spec, what, get_initializer):
    if isinstance(spec, Initializer):
        return spec
    if isinstance(spec, str):
        try:
            return get_initializer(spec)
        except ValueError as error:
            raise ValueError(f"{what}: {error}") from None
    return None


def plan(hidden_layer_sizes, weight_init, *, activation, X, batch, input_dim, rng, dtype, bias,
         keep_activations, bins, hist_range, negative_slope, num_threads, get_initializer,
         backward=False, upstream=None, perturbation=None, input_correlation=None):
    """Check every argument of forward_prop and normalise it into a Plan."""
    if isinstance(hidden_layer_sizes, (str, bytes)) or not hasattr(hidden_layer_sizes, "__len__"):
        raise TypeError("hidden_layer_sizes must be a sequence of positive ints")
    widths = [integer(w, "hidden_layer_sizes") for w in hidden_layer_sizes]
    if not widths:
        raise ValueError("hidden_layer_sizes is empty: give at least one layer width")
    if min(widths) <= 0:
        raise ValueError(f"hidden_layer_sizes must be positive, got {widths}")
    depth = len(widths)

    init = _as_initializer(weight_init, "weight_init", get_initializer)
    if init is None and not callable(weight_init):
        raise TypeError("weight_init must be an initializer name, an Initializer or a callable "
                        f"(fan_in, fan_out) -> ndarray; got {type(weight_init).__name__}")
    weight_inits = [init or weight_init] * depth

    if isinstance(activation, str):
        activations = [activation] * depth
    elif isinstance(activation, (list, tuple)):
        activations = list(activation)
    else:
        raise TypeError(f"activation must be a name or a list of names (one per layer); valid "
                        f"names: {', '.join(ACTIVATIONS)}; got {activation!r}")
    if len(activations) != depth:
        raise ValueError(f"activation has {len(activations)} entries for {depth} layers")
    for name in activations:
        if not isinstance(name, str) or name not in ACTIVATIONS:
            raise ValueError(f"unknown activation {name!r}; valid: {', '.join(ACTIVATIONS)}")

    dtype = float_dtype(dtype)
    if isinstance(bias, numbers.Real) and not isinstance(bias, bool):
        bias_spec = real(bias, "bias")
    else:
        bias_spec = _as_initializer(bias, "bias", get_initializer)
        if bias_spec is None:
            raise TypeError("bias must be a number, an initializer name or an Initializer")

    if X is not None:
        if not isinstance(X, np.ndarray):
            raise TypeError(f"X must be a numpy.ndarray, got {type(X).__name__}")
        if isinstance(X, np.ma.MaskedArray):
            raise TypeError("X is a masked array, and the engine would ignore its mask: pass "
                            "X.filled(value) or X.compressed() rows instead")
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (batch, input_dim), got shape {X.shape}")
        if not (np.issubdtype(X.dtype, np.floating) or np.issubdtype(X.dtype, np.integer)):
            raise TypeError(f"X must have a real dtype, got {X.dtype}")
        if X.size == 0:
            raise ValueError(f"X must not be empty, got shape {X.shape}")
        if input_dim is not None and integer(input_dim, "input_dim") != X.shape[1]:
            raise ValueError(f"input_dim {input_dim} does not match X.shape[1] = {X.shape[1]}")
        if not np.isfinite(X).all():
            raise ValueError("X has NaN or infinite values")
        X = np.ascontiguousarray(X, dtype=dtype)  # a copy unless already right: never modified
        batch, input_dim = X.shape
    else:
        batch = integer(batch, "batch")
        if batch <= 0:
            raise ValueError(f"batch must be positive, got {batch}")
        input_dim = widths[0] if input_dim is None else integer(input_dim, "input_dim")
        if input_dim <= 0:
            raise ValueError(f"input_dim must be positive, got {input_dim}")

    if isinstance(bias_spec, Initializer):
        try:
            bias_law = bias_spec.law((widths[0],))
        except ValueError as error:  # e.g. a fan-scaled scheme: a bias vector has no fans
            raise ValueError(f"bias initializer {bias_spec.name!r} cannot draw a bias vector: "
                             f"{error}") from None
        if bias_law is None:
            raise ValueError(f"bias initializer {bias_spec.name!r} is not a law-based scheme")
    if init is not None:
        init.law((input_dim, widths[0]))  # a bad parameter fails here, before any work
    bins = integer(bins, "bins")
    if bins < 0:
        raise ValueError(f"bins must be >= 0, got {bins}")
    if hist_range is not None:
        if not isinstance(hist_range, (tuple, list, np.ndarray)) or len(hist_range) != 2:
            raise ValueError(f"hist_range must be (low, high), got {hist_range!r}")
        lo, hi = (real(v, "hist_range") for v in hist_range)
        if not lo < hi:
            raise ValueError(f"hist_range must be (low, high) with low < high, got {hist_range}")
        hist_range = (lo, hi)
        if bins:
            try:
                _bin_edges(bins, lo, hi)
            except ValueError:
                raise ValueError(f"hist_range {hist_range} is too narrow for {bins} distinct "
                                 "bins") from None
    if perturbation is not None and input_correlation is not None:
        raise ValueError("give perturbation or input_correlation, not both")
    if perturbation is not None:
        perturbation = real(perturbation, "perturbation", nonnegative=True)
    if input_correlation is not None:
        input_correlation = real(input_correlation, "input_correlation")
        if not -1.0 <= input_correlation <= 1.0:
            raise ValueError(f"input_correlation must be in [-1, 1], got {input_correlation}")
    for name, value in (("perturbation", perturbation),
                        ("input_correlation", input_correlation)):
        if value is not None and (init is None or isinstance(
                resolve_rng(rng) if rng is not None else None, np.random.Generator)):
            raise ValueError(f"{name} runs the network twice on the same weights: it needs "
                             "an int or SeedSequence rng and a named or Initializer weight_init")
    if upstream is not None:
        if not backward:
            raise ValueError("upstream is the backward pass's gradient: give backward=True")
        if not isinstance(upstream, np.ndarray) or upstream.shape != (batch, widths[-1]):
            raise ValueError(f"upstream must be an array of shape {(batch, widths[-1])}")
        if not np.isfinite(upstream).all():
            raise ValueError("upstream has NaN or infinite values")
        upstream = np.ascontiguousarray(upstream, dtype=dtype)
    return Plan(widths=widths, weight_inits=weight_inits, activations=activations,
                biases=[bias_spec] * depth, X=X, batch=batch, input_dim=input_dim,
                source=resolve_rng(rng), dtype=dtype, keep_activations=bool(keep_activations),
                bins=bins, hist_range=hist_range,
                negative_slope=real(negative_slope, "negative_slope"),
                threads=_openmp.effective_num_threads(num_threads),
                backward=bool(backward), upstream=upstream, perturbation=perturbation,
                input_correlation=input_correlation)


def layer_stats(plan, layer, width, stats, hist, edges):
    """The LayerStats of a measured layer. Where its activations overflowed (a value, their
    sum or their mean not finite), mean, std, min and max are NaN, engine and reference
    alike (their partial sums meet the infinities in different orders), with a warning; so is
    preact_std where the pre-activations' spread overflowed."""
    if not all(math.isfinite(stats[k]) for k in ("mean", "min", "max")):
        warnings.warn(f"layer {layer}'s activations overflowed (values or their sum not "
                      "finite): its mean, std, min and max are NaN", RuntimeWarning,
                      stacklevel=4)
        stats = {**stats, **dict.fromkeys(("mean", "std", "min", "max"), math.nan)}
    if not math.isfinite(stats["preact_std"]):  # inf or NaN, by the order infinities met
        stats = {**stats, "preact_std": math.nan}
    return LayerStats(layer=layer, width=width, activation=plan.activations[layer],
                      mean=float(stats["mean"]), std=float(stats["std"]),
                      min=float(stats["min"]), max=float(stats["max"]),
                      preact_std=float(stats["preact_std"]), saturated=float(stats["saturated"]),
                      dead=float(stats["dead"]), hist=np.asarray(hist, np.int64),
                      bin_edges=np.asarray(edges))


def forward_prop(hidden_layer_sizes, weight_init, *, activation="tanh", X=None, batch=1000,
                 input_dim=None, rng=None, dtype="float64", bias=0.0, keep_activations=True,
                 bins=30, hist_range=None, negative_slope=0.01, num_threads=None,
                 block_bytes=BLOCK_BYTES, backward=False, upstream=None, perturbation=None,
                 input_correlation=None):
    """Propagate a batch through ``len(hidden_layer_sizes)`` fully connected layers and measure
    each: ``H_l = activation(H_{l-1} @ W_l + b_l)``, ``W_l`` of shape (fan_in, fan_out).

    weight_init: an initializer name ("xavier_normal"), an Initializer from get_initializer, or
    a callable ``(fan_in, fan_out) -> ndarray`` called once per layer in layer order.
    activation: one of ACTIVATIONS, or a list with one per layer (leaky_relu uses
    ``negative_slope``). bias: a constant added to every pre-activation, or an initializer
    (name or object) drawing one bias vector per layer. X: the input batch, used as is and never
    modified; else ``(batch, input_dim)`` standard normal from ``rng`` (input_dim defaults to
    the first width). Weight matrices over ``block_bytes`` are drawn and multiplied in row
    blocks, so memory stays bounded: the weights are the same, but the matrix product then
    sums its terms block by block, so activations and statistics can differ from an
    unblocked run in the last bits (relative 1e-15 in float64). backward=True also sends a gradient back
    (``upstream``, default standard normal) and records per layer ``grad_std``,
    ``weight_grad_norm`` and ``weight_grad_std`` (fastinit.gradients); it keeps every layer's
    output until then and draws the weights again from their counters. perturbation=eps
    also runs X + eps * noise through the same weights and records per layer ``distance`` and
    ``correlation`` between the two signals (run_perturbed); input_correlation=c does the
    same with a second input whose rows have correlation c with X's, and records the
    mean-field ``predicted_correlation`` beside the measured one.

    Returns a Propagation that unpacks as ``acts, means, stds`` (acts empty when
    keep_activations is False) and carries per-layer LayerStats in ``.layers``.
    """
    from fastinit import get_initializer
    from fastinit.streams import Stream
    p = plan(hidden_layer_sizes, weight_init, activation=activation, X=X, batch=batch,
             input_dim=input_dim, rng=rng, dtype=dtype, bias=bias,
             keep_activations=keep_activations, bins=bins, hist_range=hist_range,
             negative_slope=negative_slope, num_threads=num_threads,
             get_initializer=get_initializer, backward=backward, upstream=upstream,
             perturbation=perturbation, input_correlation=input_correlation)
    block_bytes = integer(block_bytes, "block_bytes")
    if block_bytes <= 0:
        raise ValueError(f"block_bytes must be positive, got {block_bytes}")
    # The kernels call BLAS from every OpenMP thread, one block of rows each: BLAS itself must
    # stay single-threaded, or its threads and ours fight over the cores.
    with blas_single_threaded():
        if p.perturbation is not None or p.input_correlation is not None:
            return run_perturbed(p, lambda q: _run(q, Stream, block_bytes), Stream)
        if _fusable(p, block_bytes):
            return _run_fused(p, Stream)
        return _run(p, Stream, block_bytes)


def _fusable(p, block_bytes):
    """Whether the whole network can run in one nogil call (_propagate.forward_network): law
    weights and biases from a SeedSequence, nothing kept, histogram ranges known up front,
    every weight matrix under the block size."""
    if isinstance(p.source, np.random.Generator) or p.keep_activations or p.backward:
        return False
    fan_in = p.input_dim
    for layer, width in enumerate(p.widths):
        init, bias = p.weight_inits[layer], p.biases[layer]
        if not isinstance(init, Initializer) or init.law((fan_in, width)) is None:
            return False
        if isinstance(bias, Initializer) and bias.law((width,)) is None:
            return False
        if fan_in * width * p.dtype.itemsize > block_bytes:
            return False
        if p.bins and p.hist_edges(layer, -np.inf, np.inf).size == 0:
            return False  # unbounded activation: its range is known only after the pass
        fan_in = width
    return True


@functools.lru_cache(maxsize=1024)
def _kernel_law(law, dtype):
    """(kind, 11 parameters) of a law for the fill kernel; a constant is a uniform of width 0.
    Cached (laws are frozen): the parameters of a truncated normal cost a few ufunc calls."""
    from fastinit import _fill
    from fastinit.laws import Constant
    params = np.zeros(11)
    values = law.params(dtype)
    params[:len(values)] = values
    return _fill.KINDS["uniform" if isinstance(law, Constant) else law.kind], params


def _run_fused(p, stream_type):
    """The network in one nogil kernel call: the same numbers as _run, without a Python step
    per layer (so that many small networks scale across threads)."""
    X = p.draw_input(stream_type)
    depth = len(p.widths)
    keys = np.empty((depth, 2), np.uint64)
    kinds = np.empty(depth, np.intc)
    params = np.empty((depth, 11))
    bias_values = np.zeros(depth)
    vectors = np.zeros((depth, max(p.widths) if any(
        isinstance(b, Initializer) for b in p.biases) else 0), p.dtype)
    edges = np.zeros((depth, p.bins + 1))
    fan_in = p.input_dim
    for layer, width in enumerate(p.widths):
        keys[layer] = stream_type(p.layer_seed(layer)).key
        kinds[layer], params[layer] = _kernel_law(
            p.weight_inits[layer].law((fan_in, width)), p.dtype)
        bias = p.biases[layer]
        if isinstance(bias, Initializer):
            bias((width,), rng=p.bias_rng(layer), dtype=p.dtype, num_threads=p.threads,
                 out=vectors[layer, :width])
            bias_values[layer] = math.nan  # NaN: use the vector
        else:
            bias_values[layer] = bias
        if p.bins:
            edges[layer] = p.hist_edges(layer, -np.inf, np.inf)
        fan_in = width
    totals, hists = _propagate.forward_network(
        X, np.asarray(p.widths, np.intp), keys, kinds, params, vectors, bias_values,
        list(p.activations), p.negative_slope, edges, p.bins, p.threads)
    layers = []
    for layer, width in enumerate(p.widths):
        stats = _propagate.layer_statistics(totals[layer], p.batch * width,
                                            p.activations[layer] in ACTIVATION_RANGES)
        layers.append(layer_stats(p, layer, width, stats, hists[layer],
                                  edges[layer] if p.bins else np.empty(0)))
    attach_predictions(p, layers)
    return Propagation(layers, {})


def _run(p, stream_type, block_bytes):
    H = p.draw_input(stream_type)
    spare = None  # the buffer a finished layer leaves behind, reused when nothing keeps it
    acts, layers = {}, []
    inputs, outputs, added, kept_weights = [], [], [], {}  # what a backward pass reads
    fan_ins = [p.input_dim] + p.widths[:-1]
    # Weights made in Python (the user's callable, a Generator, QR) for layer l + 1 are made
    # while layer l's kernel runs, without the GIL, on a helper thread: the draws keep their
    # order, and the Python time hides behind the kernel's.
    overlap = any(_drawn_in_python(p, layer, fan_ins[layer], width)
                  for layer, width in enumerate(p.widths[1:], 1))
    drawn = _draw_layer(p, 0, fan_ins[0], p.widths[0])
    with ThreadPoolExecutor(1, "fastinit-layer") if overlap else nullcontext() as helper:
        for layer, width in enumerate(p.widths):
            if spare is not None and spare.shape == (p.batch, width):
                out, spare = spare, None
            else:
                out = np.empty((p.batch, width), p.dtype)
            bias_vector, W = drawn
            bias = p.biases[layer]
            edges = p.hist_edges(layer, -np.inf, np.inf)
            finish = (bias_vector, 0.0 if bias_vector is not None else bias, p.activations[layer],
                      p.negative_slope, p.activations[layer], edges, p.threads)
            block_rows = block_bytes // (width * p.dtype.itemsize)
            kernel = functools.partial(_multiply_and_finish, p, layer, H, out, stream_type,
                                       block_rows, finish, W)
            if helper is not None and layer + 1 < len(p.widths):
                running = helper.submit(kernel)
                try:
                    drawn = _draw_layer(p, layer + 1, width, p.widths[layer + 1])
                except BaseException:
                    wait([running])  # the kernel still writes into buffers: let it finish
                    raise
                (stats, hist), W = running.result()
            else:
                (stats, hist), W = kernel()
                if layer + 1 < len(p.widths):
                    drawn = _draw_layer(p, layer + 1, width, p.widths[layer + 1])
            if p.bins and edges.size == 0:  # unbounded activation: the range is the data's
                edges = p.hist_edges(layer, stats["min"], stats["max"])
                hist = _propagate.histogram(out, edges, p.threads) if edges.size else np.zeros(0)
            layers.append(layer_stats(p, layer, width, stats, hist, edges))
            if p.backward:
                inputs.append(H)
                outputs.append(out)
                added.append(bias if bias_vector is None else bias_vector)
                if W is not None:
                    kept_weights[layer] = W
            if p.keep_activations:
                acts[layer] = out
            elif H is not p.X and not p.backward:
                spare = H
            H = out
    if p.backward:
        def weights(layer):  # drawn weights come back from their counters, not from memory
            if layer in kept_weights:
                return kept_weights[layer]
            shape = (inputs[layer].shape[1], p.widths[layer])
            law = p.weight_inits[layer].law(shape)
            return stream_type(p.layer_seed(layer)).fill(np.empty(shape, p.dtype), law,
                                                         num_threads=p.threads)
        def matmul(a, b):  # the kernel's parallel GEMM: BLAS stays on one thread
            out = np.empty((a.shape[0], b.shape[1]), p.dtype)
            _propagate.forward_layer(np.ascontiguousarray(a), np.ascontiguousarray(b), out, 0.0,
                                     False, None, 0.0, "linear", 0.0, "linear", np.empty(0),
                                     p.threads)
            return out
        upstream = p.draw_upstream(stream_type)
        if "gelu" in p.activations:  # its derivative needs Z: the NumPy pass recomputes it
            grads = backward_pass(p, inputs, outputs, weights, added, upstream, matmul)
        else:
            grads = _backward_kernels(p, inputs, outputs, weights, upstream)
        attach_gradients(layers, grads)
    attach_predictions(p, layers)
    return Propagation(layers, acts)


def _backward_kernels(p, inputs, outputs, weights, upstream):
    """fastinit.gradients.backward_pass on the kernels: per layer one nogil call measures
    dL/dH, applies phi' in place and forms dL/dW and dL/dH_{l-1} by two parallel GEMMs."""
    G = np.array(upstream, dtype=p.dtype, order="C")  # a copy: it is overwritten
    stats = [None] * len(outputs)
    for layer in reversed(range(len(outputs))):
        W = weights(layer)
        dW = np.empty_like(W)
        previous = np.empty(inputs[layer].shape, p.dtype) if layer else None
        (_, g_m2), (w_mean, w_m2) = _propagate.backward_layer(
            G, outputs[layer], inputs[layer], W, previous, dW, p.activations[layer],
            p.negative_slope, p.threads)
        stats[layer] = {"grad_std": math.sqrt(g_m2 / G.size),
                        "weight_grad_norm": math.sqrt(w_m2 + dW.size * w_mean * w_mean),
                        "weight_grad_std": math.sqrt(w_m2 / dW.size)}
        G = previous
    return stats


def attach_predictions(p, layers):
    """Put the mean-field prediction beside each layer's measurement where the theory applies:
    zero-mean weights with a law, no bias or a zero-mean random one, the whole network."""
    network = _theory_network(p)
    if network is None:
        return
    with np.errstate(all="ignore"):  # an input whose square overflows predicts inf/NaN
        second = 1.0 if p.X is None else float(np.mean(np.square(p.X, dtype=np.float64)))
        predictions, gains = _predictions(network, second, p.negative_slope)
    for stats, (mean, std) in zip(layers, predictions):
        stats.predicted_mean, stats.predicted_std = mean, std
    if p.backward:  # from the last layer's measured gradient down
        grad = layers[-1].grad_std
        for layer in reversed(range(len(layers))):
            layers[layer].predicted_grad_std = grad
            grad *= gains[layer]


def _theory_network(p):
    """The network as the theory sees it: per layer (fan_in, width, Var W, Var b, activation),
    or None where the theory does not apply (a weight law that is not zero-mean, a structured
    scheme or callable, a non-zero constant bias or a biased random one)."""
    from fastinit import theory
    fan_in = p.input_dim
    network = []
    for layer, width in enumerate(p.widths):
        init, bias = p.weight_inits[layer], p.biases[layer]
        law = init.law((fan_in, width)) if isinstance(init, Initializer) else None
        bias_law = bias.law((width,)) if isinstance(bias, Initializer) else None
        if law is None or getattr(law, "mean", 0.0) != 0.0 or (
                bias_law is None and bias != 0.0) or getattr(bias_law, "mean", 0.0) != 0.0:
            return None
        bias_variance = 0.0 if bias_law is None else theory.law_variance(bias_law)
        network.append((fan_in, width, theory.law_variance(law), bias_variance,
                        p.activations[layer]))
        fan_in = width
    return tuple(network)


@functools.lru_cache(maxsize=1024)
def _predictions(network, second, slope):
    """Per layer (mean, std) and backward gain for ``network``, a tuple of (fan_in, width,
    Var W, Var b, activation). Cached: a sweep's seeds share one prediction."""
    from fastinit import theory
    predictions, gains = [], []
    for fan_in, width, weight_variance, bias_variance, activation in network:
        q = fan_in * weight_variance * second + bias_variance
        mean, std = theory.moments(q, activation, slope)
        predictions.append((float(mean), float(std)))
        # backward: Var G_{l-1} = width * Var(W) * E[phi'(Z_l)^2] * Var G_l
        slope2 = theory.gaussian_expectation(
            lambda x, a=activation: theory.dphi(x, a, slope) ** 2, q)
        gains.append(math.sqrt(width * weight_variance * float(slope2)))
        second = float(std) ** 2 + float(mean) ** 2
    return tuple(predictions), tuple(gains)


def run_perturbed(p, run, stream_type):
    """Run the network on X and on a second input through the same weights, and measure per
    layer how far apart the two signals are: the order-to-chaos story, measured. The second
    input is X + eps * noise (perturbation) or c X + sqrt(1 - c^2) noise (input_correlation),
    noise standard normal from child(ss, depth + 2)."""
    X = p.draw_input(stream_type)
    noise = p.standard_normal(X.shape, len(p.widths) + 2, stream_type)
    if p.input_correlation is not None:
        c = p.input_correlation
        second_input = p.dtype.type(c) * X + p.dtype.type(math.sqrt(1.0 - c * c)) * noise
    else:
        second_input = X + p.dtype.type(p.perturbation) * noise
    first = run(replace(p, X=X, keep_activations=True))
    second = run(replace(p, X=second_input, keep_activations=True, backward=False))
    for layer, stats in enumerate(first.layers):
        a, b = first.acts[layer], second.acts[layer]
        stats.distance = float(np.mean(np.square(a - b, dtype=np.float64)))
        norms = np.sum(np.square(a, dtype=np.float64)) * np.sum(np.square(b, dtype=np.float64))
        stats.correlation = float(np.sum(a * b, dtype=np.float64) / np.sqrt(norms)) \
            if norms > 0 else math.nan
    if p.input_correlation is not None:
        attach_correlation_predictions(p, first.layers)
    if not p.keep_activations:
        first.acts = {}
    return first


def attach_correlation_predictions(p, layers):
    """The mean-field correlation of the two signals per layer (theory.predict_correlation),
    where the theory applies (as for attach_predictions)."""
    from fastinit import theory
    network = _theory_network(p)
    if network is None:
        return
    with np.errstate(all="ignore"):
        second = 1.0 if p.X is None else float(np.mean(np.square(p.X, dtype=np.float64)))
    predicted = theory.predict_correlation(network, p.input_correlation, p.negative_slope,
                                           input_variance=second)
    for stats, value in zip(layers, predicted):
        stats.predicted_correlation = float(value)


def attach_gradients(layers, grads):
    for layer, grad in zip(layers, grads):
        for name, value in grad.items():
            setattr(layer, name, value)


def _drawn_in_python(p, layer, fan_in, width):
    """Whether ``layer``'s weights or bias come from Python rather than the fill kernels."""
    if isinstance(p.source, np.random.Generator):
        return True
    init = p.weight_inits[layer]
    return not isinstance(init, Initializer) or init.law((fan_in, width)) is None


def _draw_layer(p, layer, fan_in, width):
    """(bias vector or None, W or None): what ``layer`` needs before its kernel runs, drawn in
    the reference's order (bias, then weights). W is None when the kernel draws it from its
    counters."""
    bias, init = p.biases[layer], p.weight_inits[layer]
    bias_vector = None
    if isinstance(bias, Initializer):
        bias_vector = bias((width,), rng=p.bias_rng(layer), dtype=p.dtype,
                           num_threads=p.threads)
    if not _drawn_in_python(p, layer, fan_in, width):
        return bias_vector, None
    if isinstance(init, Initializer):
        return bias_vector, init((fan_in, width), rng=p.weight_rng(layer), dtype=p.dtype,
                                 num_threads=p.threads)
    return bias_vector, p.user_weights(layer, fan_in, width)


def _multiply_and_finish(p, layer, H, out, stream_type, block_rows, finish, W):
    """out = H @ W, then the fused activation and statistics pass with ``finish``'s
    arguments. W None: the layer's law drawn in place from its counters (in row blocks when
    the matrix is larger than the block size). Returns the pass's (stats, histogram) and W
    when it was built whole (else None). Runs without the GIL but for a few calls."""
    if W is not None:
        return _propagate.forward_layer(H, W, out, 0.0, True, *finish), W
    fan_in, width = H.shape[1], out.shape[1]
    law = p.weight_inits[layer].law((fan_in, width))
    stream = stream_type(p.layer_seed(layer))
    rows = max(1, min(fan_in, block_rows))
    W = np.empty((rows, width), p.dtype)
    for start in range(0, fan_in, rows):
        stop = min(start + rows, fan_in)
        block = W[:stop - start]
        stream.fill(block, law, offset=start * width, num_threads=p.threads)
        result = _propagate.forward_layer(H[:, start:stop], block, out,
                                          0.0 if start == 0 else 1.0, stop == fan_in, *finish)
    return result, None

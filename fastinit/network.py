"""The network forward_prop runs, checked and described once for the engine and the reference:
both hand their arguments on as one ``ForwardArgs``, and ``plan(args, backend)`` turns them
into a Plan (or raises a ValueError/TypeError naming it);
the Plan draws the input, the upstream gradient and the perturbation noise, and knows each
layer's seeds and histogram edges. Pure NumPy: the reference imports it without the kernels.

Seeding (an int or SeedSequence ``rng``, root ``ss``): the input batch is drawn from
``child(ss, 0)``, layer ``l``'s weights (0-based) from ``child(ss, l + 1)`` exactly as
``fastinit.<scheme>((fan_in, fan_out), rng=child(ss, l + 1))`` draws them, and its bias vector
from ``child(child(ss, l + 1), 1)``. A Generator ``rng`` (compat mode) is drawn from in order:
the input, then each layer's weights and bias.
"""
import functools
import math
import numbers
from collections.abc import Mapping, Set
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from fastinit import activations
from fastinit._validation import float_dtype, integer, num_threads as checked_num_threads, real
from fastinit.initializers import Initializer, get_initializer
from fastinit.laws import Normal
from fastinit.predictions import attach_correlation_predictions
from fastinit.seeding import child, resolve_rng
from fastinit.sources import GeneratorSource, is_compat


@dataclass(frozen=True)
class ForwardArgs:
    """forward_prop's arguments as the caller gave them, unchecked: what the engine's and the
    reference's forward_prop hand on (their signatures are these fields, in this order, with
    these defaults: a test holds them together). ``plan`` checks them."""
    hidden_layer_sizes: Any
    weight_init: Any
    activation: Any = "tanh"
    X: Any = None
    batch: Any = 1000
    input_dim: Any = None
    rng: Any = None
    dtype: Any = "float64"
    bias: Any = 0.0
    keep_activations: Any = True
    bins: Any = 30
    hist_range: Any = None
    negative_slope: Any = 0.01
    num_threads: Any = None
    block_bytes: Any = None  # None: the engine's BLOCK_BYTES; the reference ignores it
    backward: Any = False
    upstream: Any = None
    perturbation: Any = None
    input_correlation: Any = None


FORWARD_ARGUMENTS = tuple(field.name for field in fields(ForwardArgs))


@dataclass
class Plan:
    """Every argument of forward_prop, checked and normalised before anything is computed."""
    widths: list
    weight_inits: list
    activations: list
    biases: list          # per layer: a float, or an Initializer drawing a (width,) vector
    X: Any             # the given input, or None to draw one
    batch: int
    input_dim: int
    source: Any        # SeedSequence or Generator
    dtype: np.dtype
    keep_activations: bool
    bins: int
    hist_range: Any
    negative_slope: float
    threads: Any       # None (OpenMP's default) or an int
    backward: bool = False
    upstream: Any = None  # the backward pass's dL/dH_L, or None to draw it
    perturbation: Any = None  # eps of the perturbed second input, or None
    input_correlation: Any = None  # c of a second input correlated c with X, or None

    @property
    def compat(self):
        """Whether the draws come from a Generator, in order (compat mode)."""
        return is_compat(self.source)

    def layer_seed(self, layer):
        return child(self.source, layer + 1)

    def weight_rng(self, layer):
        return self.source if self.compat else self.layer_seed(layer)

    def bias_rng(self, layer):
        return self.source if self.compat else child(self.layer_seed(layer), 1)

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
        """N(0, 1) of ``shape`` from child(ss, child_index) (compat mode: the Generator's
        next draws)."""
        out = np.empty(shape, self.dtype)
        if self.compat:
            return GeneratorSource(self.source).fill(out, Normal(0.0, 1.0))
        return stream_type(child(self.source, child_index)).fill(out, Normal(0.0, 1.0),
                                                                 num_threads=self.threads)

    def user_weights(self, layer, fan_in, fan_out):
        """The user's callable's matrix for ``layer``, checked, as a C-ordered ``dtype`` array."""
        W = self.weight_inits[layer](fan_in, fan_out)
        where = f"for layer {layer + 1}"
        if not isinstance(W, np.ndarray):
            raise TypeError(f"weight_init returned {type(W).__name__} {where}; "
                            "it must return a numpy.ndarray")
        if W.shape != (fan_in, fan_out):
            raise ValueError(f"weight_init returned shape {W.shape} {where}; "
                             f"expected {(fan_in, fan_out)}")
        if not np.issubdtype(W.dtype, np.floating) and not np.issubdtype(W.dtype, np.integer):
            raise TypeError(f"weight_init returned dtype {W.dtype} {where}")
        if not np.isfinite(W).all():
            raise ValueError(f"weight_init returned non-finite values {where}")
        return np.ascontiguousarray(W, dtype=self.dtype)

    def hist_edges(self, layer, lo=-math.inf, hi=math.inf):
        """Bin edges of ``layer``'s histogram: hist_range, else the activation's range, else the
        data's [lo, hi]; empty when there is no finite range or no bins."""
        if self.bins == 0:
            return np.empty(0)
        bounds = self.hist_range or activations.get(self.activations[layer]).range
        if bounds:
            return _bin_edges(self.bins, *bounds)
        return data_range_edges(self.bins, float(lo), float(hi))

    def edges_known_up_front(self, layer):
        """Whether the histogram range is known before the layer runs (else it is the data's)."""
        return self.bins == 0 or bool(self.hist_range or
                                      activations.get(self.activations[layer]).range)


def data_range_edges(bins, lo, hi):
    """The edges of a histogram over the data's [lo, hi]: np.histogram's, and where those
    cannot be made (NumPy: "Too many bins for data range", as for a constant layer of 1e308 or
    one whose values differ by a few ulps) [mid - w, mid + w] with w the larger of 0.5 and
    2 * bins ulps of the data: every value in one bin or a few. Empty when the data are not
    finite, their range hi - lo overflows (+-1e308) or the widened range does: then there is
    no histogram."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return np.empty(0)
    try:
        return _bin_edges(bins, lo, hi)
    except ValueError:
        if not math.isfinite(hi - lo):  # too wide, not too narrow: no bins hold the data
            return np.empty(0)
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


# -- plan: every argument checked --------------------------------------------------------------

def plan(args, backend):
    """Check every argument of forward_prop (a ForwardArgs) and normalise it into a Plan for
    ``backend`` (block_bytes is the caller's: check_block_bytes)."""
    widths = _widths(args.hidden_layer_sizes)
    depth = len(widths)
    init = _weight_init(args.weight_init, backend)
    dtype = float_dtype(args.dtype)
    bias_spec = _bias(args.bias, backend)
    X, batch, input_dim = _input(args.X, args.batch, args.input_dim, widths, dtype)
    bins, hist_range = _histogram(args.bins, args.hist_range)
    if isinstance(bias_spec, Initializer):
        _bias_law(bias_spec, widths[0])
    if init is not None:
        init.law((input_dim, widths[0]))  # a bad parameter fails here, before any work
    source = resolve_rng(args.rng)
    perturbation, input_correlation = _second_input(args.perturbation, args.input_correlation,
                                                    init, source)
    return Plan(widths=widths, weight_inits=[init or args.weight_init] * depth,
                activations=_activations(args.activation, depth), biases=[bias_spec] * depth,
                X=X, batch=batch, input_dim=input_dim, source=source, dtype=dtype,
                keep_activations=bool(args.keep_activations), bins=bins, hist_range=hist_range,
                negative_slope=real(args.negative_slope, "negative_slope"),
                threads=checked_num_threads(args.num_threads), backward=bool(args.backward),
                upstream=_upstream(args.upstream, args.backward, batch, widths[-1], dtype),
                perturbation=perturbation, input_correlation=input_correlation)


def check_block_bytes(block_bytes):
    """forward_prop's block_bytes: a positive int (None: the default)."""
    if block_bytes is None:
        return None
    block_bytes = integer(block_bytes, "block_bytes")
    if block_bytes <= 0:
        raise ValueError(f"block_bytes must be positive, got {block_bytes}")
    return block_bytes


def _widths(sizes):
    if isinstance(sizes, (str, bytes, Mapping, Set)) or not hasattr(sizes, "__len__"):
        raise TypeError(f"hidden_layer_sizes must be a sequence of positive ints (a list or "
                        f"tuple, in layer order), got {type(sizes).__name__}")
    widths = [integer(w, "hidden_layer_sizes") for w in sizes]
    if not widths:
        raise ValueError("hidden_layer_sizes is empty: give at least one layer width")
    if min(widths) <= 0:
        raise ValueError(f"hidden_layer_sizes must be positive, got {widths}")
    return widths


def _as_initializer(spec, what, backend):
    """An Initializer from a name, a spec with parameters ("normal:std=0.01", as the CLI and
    sweeps write it) or an Initializer (None for anything else)."""
    if isinstance(spec, Initializer):
        return spec
    if isinstance(spec, str):
        from fastinit import text_specs
        name, params = text_specs.parse(spec, what)  # its errors name ``what`` already
        try:
            if any(len(values) != 1 for values in params.values()):
                raise ValueError(f"{spec!r} lists alternatives (|): give one value each")
            return get_initializer(name, backend=backend,
                                   **{key: values[0] for key, values in params.items()})
        except (TypeError, ValueError) as error:
            raise type(error)(f"{what}: {error}") from None
    return None


def _weight_init(weight_init, backend):
    init = _as_initializer(weight_init, "weight_init", backend)
    if init is None and not callable(weight_init):
        raise TypeError("weight_init must be an initializer name, an Initializer or a callable "
                        f"(fan_in, fan_out) -> ndarray; got {type(weight_init).__name__}")
    return init


def _activations(activation, depth):
    if isinstance(activation, str):
        names = [activation] * depth
    elif isinstance(activation, (list, tuple)):
        names = list(activation)
    else:
        raise TypeError(f"activation must be a name or a list of names (one per layer); valid "
                        f"names: {', '.join(activations.NAMES)}; got {activation!r}")
    if len(names) != depth:
        raise ValueError(f"activation has {len(names)} entries for {depth} layers")
    return [activations.get(name).name for name in names]


def _bias(bias, backend):
    if isinstance(bias, numbers.Real) and not isinstance(bias, bool):
        return real(bias, "bias")
    spec = _as_initializer(bias, "bias", backend)
    if spec is None:
        raise TypeError("bias must be a number, an initializer name or an Initializer")
    return spec


def _bias_law(spec, width):
    try:
        law = spec.law((width,))
    except ValueError as error:  # e.g. a fan-scaled scheme: a bias vector has no fans
        raise ValueError(f"bias initializer {spec.name!r} cannot draw a bias vector: "
                         f"{error}") from None
    if law is None:
        raise ValueError(f"bias initializer {spec.name!r} is not a law-based scheme")


def _input(X, batch, input_dim, widths, dtype):
    """(X as the layer dtype or None, batch, input_dim)."""
    if X is None:
        batch = integer(batch, "batch")
        if batch <= 0:
            raise ValueError(f"batch must be positive, got {batch}")
        input_dim = widths[0] if input_dim is None else integer(input_dim, "input_dim")
        if input_dim <= 0:
            raise ValueError(f"input_dim must be positive, got {input_dim}")
        return None, batch, input_dim
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
    return X, X.shape[0], X.shape[1]


def _histogram(bins, hist_range):
    bins = integer(bins, "bins")
    if bins < 0:
        raise ValueError(f"bins must be >= 0, got {bins}")
    if hist_range is None:
        return bins, None
    if not isinstance(hist_range, (tuple, list, np.ndarray)) or len(hist_range) != 2:
        raise ValueError(f"hist_range must be (low, high), got {hist_range!r}")
    lo, hi = (real(v, "hist_range") for v in hist_range)
    if not lo < hi:
        raise ValueError(f"hist_range must be (low, high) with low < high, got {hist_range}")
    if bins:
        try:
            _bin_edges(bins, lo, hi)
        except ValueError:
            raise ValueError(f"hist_range {(lo, hi)} is too narrow for {bins} distinct "
                             "bins") from None
    return bins, (lo, hi)


def _second_input(perturbation, input_correlation, init, source):
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
        if value is not None and (init is None or is_compat(source)):
            raise ValueError(f"{name} runs the network twice on the same weights: it needs "
                             "an int or SeedSequence rng and a named or Initializer weight_init")
    return perturbation, input_correlation


def _upstream(upstream, backward, batch, width, dtype):
    if upstream is None:
        return None
    if not backward:
        raise ValueError("upstream is the backward pass's gradient: give backward=True")
    if not isinstance(upstream, np.ndarray) or upstream.shape != (batch, width):
        raise ValueError(f"upstream must be an array of shape {(batch, width)}")
    if not np.isfinite(upstream).all():
        raise ValueError("upstream has NaN or infinite values")
    return np.ascontiguousarray(upstream, dtype=dtype)


# -- two inputs through the same weights -------------------------------------------------------

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
        first.acts = type(first.acts)([], len(first.layers))
    return first

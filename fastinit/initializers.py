"""Every initialization scheme, one short function each, formula in the docstring.

A scheme turns a shape into a law (fastinit.laws) or a structured matrix; it draws through a
stream type given as its first argument, which fastinit binds to the Cython engine and
fastinit.reference to the NumPy reference (see ``bind``). Each public scheme takes ``shape`` or
``out=`` (returning the filled array), ``rng=`` (SPEC 7: None, int, SeedSequence or Generator),
``dtype=`` (float32 or float64, default float64) and ``num_threads=``.
"""
import functools
import inspect
import math
from fractions import Fraction

import numpy as np
import scipy.linalg
import scipy.linalg.lapack

from fastinit import fans as _fans
from fastinit._validation import choice, integer, num_threads as checked_num_threads, output, real
from fastinit.fans import calculate_gain, fan_sum, select_fan
from fastinit.laws import TRUNCATED_2SIGMA_STD, Constant, Normal, TruncatedNormal, Uniform
from fastinit.seeding import resolve_rng
from fastinit.streams import GeneratorSource


def _source(stream_type, rng):
    source = resolve_rng(rng)
    if isinstance(source, np.random.Generator):
        return GeneratorSource(source)
    return stream_type(source)


def _arguments(stream_type, shape, out, dtype, rng, num_threads):
    """The arguments every scheme takes, checked before anything is drawn or written:
    (the array to fill, the source to draw from, num_threads)."""
    out = output(shape, out, dtype)
    return out, _source(stream_type, rng), checked_num_threads(num_threads)


_CALL_ARGS = ("shape", "rng", "dtype", "out", "num_threads")


def law_scheme(law_of):
    """The public scheme for ``law_of(shape, **params) -> law``: it checks ``out``/``shape``/
    ``dtype``, builds the law (which checks the params), then fills from ``rng``.
    ``scheme.law_of`` stays reachable, so the propagation engine can fuse the draw."""
    def scheme(stream_type, shape=None, *, rng=None, dtype=None, out=None, num_threads=None,
               **params):
        out, source, num_threads = _arguments(stream_type, shape, out, dtype, rng, num_threads)
        law = law_of(out.shape, **params)
        return source.fill(out, law, num_threads=num_threads)

    own = list(inspect.signature(law_of).parameters.values())[1:]
    call = inspect.signature(scheme).parameters
    scheme.__signature__ = inspect.Signature(
        [call["stream_type"], call["shape"], *own,
         *(call[name] for name in _CALL_ARGS[1:])])
    scheme.__name__ = scheme.__qualname__ = law_of.__name__
    scheme.__doc__ = law_of.__doc__
    scheme.law_of = law_of
    return scheme


# -- constants -------------------------------------------------------------------------------

@law_scheme
def constant(shape, *, value):
    """W = value everywhere."""
    return Constant(value)


@law_scheme
def zeros(shape):
    """W = 0 (the "zero init" that never breaks symmetry)."""
    return Constant(0.0)


@law_scheme
def ones(shape):
    """W = 1."""
    return Constant(1.0)


# -- plain laws ------------------------------------------------------------------------------

@law_scheme
def uniform(shape, *, low=None, high=None, layout="in_out"):
    """W ~ U[low, high); with neither bound given, U[-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    if low is None and high is None:
        return _symmetric_uniform(1.0 / math.sqrt(select_fan(shape, "fan_in", layout)))
    if low is None or high is None:
        raise TypeError("give both low and high, or neither (then the bounds are ±1/sqrt(fan_in))")
    return Uniform(low, high)


@law_scheme
def normal(shape, *, mean=0.0, std=1.0):
    """W ~ N(mean, std^2). std = 0.01 is the classic "small random" init, std = 1 the "big"."""
    return Normal(mean, std)


@law_scheme
def truncated_normal(shape, *, mean=0.0, std=1.0, a=-2.0, b=2.0):
    """W ~ N(mean, std^2) conditioned on a <= W <= b (absolute bounds; the exact truncated law,
    not clipping). Values are computed in float64 and rounded to the dtype inside [a, b]: a
    value lands on a bound only when rounding puts it there (about never in float64; in
    float32 whenever a draw lies within half a float32 step of a bound). An interval that holds
    no value of the dtype is a ValueError."""
    return TruncatedNormal(mean, std, a, b)


# -- fan-scaled laws -------------------------------------------------------------------------

@law_scheme
def xavier_uniform(shape, *, gain=1.0, layout="in_out"):
    """Glorot & Bengio (2010): W ~ U[-l, l), l = gain * sqrt(6 / (fan_in + fan_out)),
    so Var W = gain^2 * 2 / (fan_in + fan_out)."""
    return _symmetric_uniform(real(gain, "gain") * math.sqrt(6.0 / fan_sum(shape, layout)))


@law_scheme
def xavier_normal(shape, *, gain=1.0, layout="in_out"):
    """Glorot & Bengio (2010): W ~ N(0, s^2), s = gain * sqrt(2 / (fan_in + fan_out))."""
    return Normal(0.0, abs(real(gain, "gain")) * math.sqrt(2.0 / fan_sum(shape, layout)))


@law_scheme
def he_uniform(shape, *, mode="fan_in", nonlinearity="relu", negative_slope=0.0,
               layout="in_out"):
    """He et al. (2015): W ~ U[-l, l), l = gain * sqrt(3 / fan),
    gain = calculate_gain(nonlinearity, negative_slope), fan = fan_in or fan_out (``mode``)."""
    fan = select_fan(shape, choice(mode, "mode", ("fan_in", "fan_out")), layout)
    return _symmetric_uniform(calculate_gain(nonlinearity, negative_slope) * math.sqrt(3.0 / fan))


@law_scheme
def he_normal(shape, *, mode="fan_in", nonlinearity="relu", negative_slope=0.0,
              layout="in_out"):
    """He et al. (2015): W ~ N(0, s^2), s = gain / sqrt(fan); Var W = 2 / fan_in for ReLU."""
    fan = select_fan(shape, choice(mode, "mode", ("fan_in", "fan_out")), layout)
    return Normal(0.0, calculate_gain(nonlinearity, negative_slope) / math.sqrt(fan))


@law_scheme
def lecun_uniform(shape, *, layout="in_out"):
    """LeCun et al. (1998): W ~ U[-l, l), l = sqrt(3 / fan_in), so Var W = 1 / fan_in."""
    return _symmetric_uniform(math.sqrt(3.0 / select_fan(shape, "fan_in", layout)))


@law_scheme
def lecun_normal(shape, *, layout="in_out"):
    """LeCun et al. (1998): W ~ N(0, 1 / fan_in), the classic ``randn(fan_in, fan_out) /
    sqrt(fan_in)``. (Keras's lecun_normal is ``variance_scaling(1, "fan_in",
    "truncated_normal")``.)"""
    return Normal(0.0, 1.0 / math.sqrt(select_fan(shape, "fan_in", layout)))


VARIANCE_SCALING_DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "normal", "uniform")


@law_scheme
def variance_scaling(shape, *, scale=1.0, mode="fan_in", distribution="truncated_normal",
                     layout="in_out"):
    """Keras's VarianceScaling: Var W = scale / fan, fan = fan_in, fan_out or their mean.

    truncated_normal (and "normal", which Keras maps to it): N(0, s^2) truncated to
    [-2s, 2s], s = sqrt(scale / fan) / 0.87962566103423978, the std of N(0, 1) truncated to
    [-2, 2], so that the variance is still scale / fan.
    untruncated_normal: N(0, scale / fan). (JAX's ``variance_scaling(..., "normal")`` is this
    one: write "untruncated_normal" here for it.)
    uniform: U[-l, l), l = sqrt(3 * scale / fan).
    """
    scale = real(scale, "scale", positive=True)
    choice(distribution, "distribution", VARIANCE_SCALING_DISTRIBUTIONS)
    variance = scale / select_fan(shape, mode, layout)
    if distribution == "uniform":
        return _symmetric_uniform(math.sqrt(3.0 * variance))
    if distribution == "untruncated_normal":
        return Normal(0.0, math.sqrt(variance))
    std = math.sqrt(variance) / TRUNCATED_2SIGMA_STD
    return TruncatedNormal(0.0, std, -2.0 * std, 2.0 * std)


def _symmetric_uniform(limit):
    limit = abs(limit)
    if limit == 0.0:
        return Constant(0.0)
    return Uniform(-limit, limit)


# -- structured matrices ---------------------------------------------------------------------

def _matrix_shape(shape, layout):
    """(rows, cols) of an N-d weight seen as a matrix with one row per output unit's partner:
    in_out flattens the leading dims into rows (Keras), out_in the trailing ones into cols
    (PyTorch)."""
    choice(layout, "layout", _fans.LAYOUTS)
    if len(shape) < 2:
        raise ValueError(f"shape must have at least 2 dimensions, got {shape}")
    if layout == "in_out":
        return math.prod(shape[:-1]), shape[-1]
    return shape[0], math.prod(shape[1:])


def orthogonal(stream_type, shape=None, *, gain=1.0, layout="in_out", rng=None, dtype=None,
               out=None, num_threads=None):
    """Saxe et al. (2014): W = gain * Q, Q from the QR decomposition of a standard Gaussian
    matrix, columns signed by sign(diag R) so that Q is Haar-distributed. Orthonormal rows or
    columns, whichever are fewer. N-d shapes are seen as matrices by ``layout``."""
    out, source, num_threads = _arguments(stream_type, shape, out, dtype, rng, num_threads)
    gain = real(gain, "gain")
    rows, cols = _matrix_shape(out.shape, layout)
    if out.size == 0:
        return out
    # LAPACK wants Fortran order. Square and wide weights are factorised in place, as the
    # Fortran-ordered transpose of out's memory; a tall one through a Fortran-ordered copy.
    if cols >= rows:
        matrix = out.reshape(rows, cols).T
        source.fill(out, Normal(), num_threads=num_threads)
    else:
        matrix = source.fill(np.empty((cols, rows), out.dtype), Normal(),
                             num_threads=num_threads).T
    signs = np.where(_orthonormalize(matrix) < 0, -gain, gain).astype(out.dtype)
    matrix *= signs
    if cols < rows:
        out.reshape(rows, cols)[...] = matrix
    return out


# Columns per panel of the QR: Ctrl-C is answered between panels (under a second for a
# 6000 x 6000 weight), and panels this wide keep LAPACK's blocked updates at full speed.
QR_PANEL = 512


def _orthonormalize(matrix):
    """Replace a tall (or square) Fortran-ordered matrix in place by the Q of its QR
    decomposition; returns the diagonal of R.

    Householder QR as LAPACK blocks it, one panel of QR_PANEL columns per call: geqrf factors
    the panel, ormqr applies its reflectors to the columns right of it; then Q is formed from
    the last panel to the first (orgqr on each panel, ormqr onto the columns already formed).
    Python regains control between calls, so a long QR answers Ctrl-C."""
    m, n = matrix.shape
    geqrf, ormqr, orgqr = scipy.linalg.lapack.get_lapack_funcs(("geqrf", "ormqr", "orgqr"),
                                                                (matrix,))
    starts = range(0, n, QR_PANEL)
    taus = {}
    for j in starts:
        b = min(QR_PANEL, n - j)
        panel, taus[j], _, info = geqrf(matrix[j:, j:j + b])
        _lapack_ok("geqrf", info)
        matrix[j:, j:j + b] = panel
        if j + b < n:
            _apply_reflectors(ormqr, "T", panel, taus[j], matrix[j:, j + b:])
    diagonal = np.diagonal(matrix).copy()
    for j in reversed(starts):
        b = min(QR_PANEL, n - j)
        panel = np.array(matrix[j:, j:j + b], order="F")
        if j + b < n:
            matrix[j:j + b, j + b:] = 0.0  # R's entries: Q's columns right of here start below
            _apply_reflectors(ormqr, "N", panel, taus[j], matrix[j:, j + b:])
        q, _, info = orgqr(panel, taus[j], lwork=max(1, 64 * b), overwrite_a=1)
        _lapack_ok("orgqr", info)
        matrix[j:, j:j + b] = q
        matrix[:j, j:j + b] = 0.0
    return diagonal


def _apply_reflectors(ormqr, trans, panel, tau, target):
    """target = Q_panel^T target (trans "T") or Q_panel target ("N"), in place."""
    lwork = max(1, 64 * target.shape[1])
    result, _, info = ormqr("L", trans, panel, tau, target, lwork)
    _lapack_ok("ormqr", info)
    target[...] = result


def _lapack_ok(name, info):
    if info:
        raise RuntimeError(f"LAPACK {name} failed with info {info}")


def identity(stream_type, shape=None, *, gain=1.0, rng=None, dtype=None, out=None,
             num_threads=None):
    """W = gain * I (2-D; ones on the main diagonal of a non-square matrix)."""
    out, _, _ = _arguments(stream_type, shape, out, dtype, rng, num_threads)
    gain = real(gain, "gain")
    if out.ndim != 2:
        raise ValueError(f"identity needs a 2-D shape, got {out.shape}")
    out.fill(0.0)
    np.fill_diagonal(out, gain)
    return out


def dirac(stream_type, shape=None, *, groups=1, layout="in_out", rng=None, dtype=None, out=None,
          num_threads=None):
    """The Dirac delta of a 3-, 4- or 5-D convolution kernel: W[center, i, i] = 1 within each of
    ``groups`` groups, so that a convolution with W copies its input channels (as many as
    min(out / groups, in)). Layout (*kernel, in, out) or, with out_in, (out, in, *kernel)."""
    out, _, _ = _arguments(stream_type, shape, out, dtype, rng, num_threads)
    groups = integer(groups, "groups")
    choice(layout, "layout", _fans.LAYOUTS)
    if out.ndim not in (3, 4, 5):
        raise ValueError(f"dirac needs a 3-, 4- or 5-D shape, got {out.shape}")
    if layout == "in_out":
        kernel, in_ch, out_ch = out.shape[:-2], out.shape[-2], out.shape[-1]
    else:
        out_ch, in_ch, kernel = out.shape[0], out.shape[1], out.shape[2:]
    if groups < 1 or out_ch % groups:
        raise ValueError(f"groups must be a positive divisor of the {out_ch} output channels,"
                         f" got {groups}")
    per_group = out_ch // groups
    center = tuple(k // 2 for k in kernel)
    out.fill(0.0)
    if out.size == 0:
        return out
    for g in range(groups):
        for d in range(min(per_group, in_ch)):
            if layout == "in_out":
                out[center + (d, g * per_group + d)] = 1.0
            else:
                out[(g * per_group + d, d) + center] = 1.0
    return out


def sparse(stream_type, shape=None, *, sparsity, std=0.01, layout="in_out", rng=None,
           dtype=None, out=None, num_threads=None):
    """Martens (2010), with torch.nn.init.sparse_'s counts: W ~ N(0, std^2), then each input
    unit keeps all but ceil(sparsity * fan_out) of its outgoing weights.

    In PyTorch's (out, in) layout (``layout="out_in"``) that is torch's rule to the letter:
    ceil(sparsity * rows) zeros in every column. In the default (in, out) layout it is the same
    pattern transposed: ceil(sparsity * cols) zeros in every row. ``sparsity`` counts as the
    decimal written (0.3 of 10 is 3 zeros). The zero positions come from ``rng`` too (values
    from its stream, positions from child 0's, or both from the same Generator)."""
    out, source, num_threads = _arguments(stream_type, shape, out, dtype, rng, num_threads)
    sparsity = real(sparsity, "sparsity")
    if not 0.0 <= sparsity <= 1.0:
        raise ValueError(f"sparsity must be in [0, 1], got {sparsity}")
    if out.ndim != 2:
        raise ValueError(f"sparse needs a 2-D shape, got {out.shape}")
    choice(layout, "layout", _fans.LAYOUTS)
    law = Normal(0.0, std)
    inputs_first = out if layout == "in_out" else out.T  # (fan_in, fan_out) view
    # the decimal the user wrote, exactly: 0.3 of 10 is 3 zeros, not ceil(3.0000000000000004)
    num_zeros = math.ceil(Fraction(repr(sparsity)) * inputs_first.shape[1])
    source.fill(out, law, num_threads=num_threads)
    keys = source.uniform_keys(inputs_first.shape)
    columns = np.argsort(keys, axis=1, kind="stable")[:, :num_zeros]
    np.put_along_axis(inputs_first, columns, 0.0, axis=1)
    return out


# -- the public surface ----------------------------------------------------------------------

SCHEMES = {
    f.__name__: f
    for f in (zeros, ones, constant, uniform, normal, truncated_normal, xavier_uniform,
              xavier_normal, he_uniform, he_normal, lecun_uniform, lecun_normal,
              variance_scaling, orthogonal, identity, dirac, sparse)
}
ALIASES = {
    "glorot_uniform": "xavier_uniform",
    "glorot_normal": "xavier_normal",
    "kaiming_uniform": "he_uniform",
    "kaiming_normal": "he_normal",
}
def bind(scheme, stream_type):
    """``scheme`` with its stream type fixed: the public function users call."""
    @functools.wraps(scheme)
    def bound(*args, **kwargs):
        return scheme(stream_type, *args, **kwargs)
    signature = inspect.signature(scheme)
    bound.__signature__ = signature.replace(parameters=list(signature.parameters.values())[1:])
    del bound.__wrapped__
    return bound


class Initializer:
    """A scheme with its parameters fixed: ``init(shape, rng=..., dtype=..., out=...)``.

    ``name`` and ``params`` say what it is; the propagation engine reads them to fuse the draw.
    """

    def __init__(self, name, function, params):
        self.name, self.params, self._function = name, dict(params), function
        self._laws = {}  # shape -> law: the engine asks for the same shapes again and again

    def law(self, shape):
        """The law this initializer draws a weight of ``shape`` from, or None for the
        structured schemes (orthogonal, identity, dirac, sparse)."""
        shape = tuple(shape)
        if shape not in self._laws:
            law_of = getattr(SCHEMES[self.name], "law_of", None)
            self._laws[shape] = None if law_of is None else law_of(shape, **self.params)
        return self._laws[shape]

    def __call__(self, shape=None, *, rng=None, dtype=None, out=None, num_threads=None):
        return self._function(shape, rng=rng, dtype=dtype, out=out, num_threads=num_threads,
                              **self.params)

    def __repr__(self):
        args = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return f"Initializer({self.name!r}{args})"

    def __eq__(self, other):
        return (isinstance(other, Initializer) and (self.name, self.params, self._function) ==
                (other.name, other.params, other._function))

    __hash__ = None


def namespace(stream_type):
    """The public initializers bound to ``stream_type``, aliases and ``get_initializer``
    included: what ``fastinit`` and ``fastinit.reference`` export."""
    functions = {name: bind(scheme, stream_type) for name, scheme in SCHEMES.items()}
    functions.update({alias: functions[name] for alias, name in ALIASES.items()})
    functions["get_initializer"] = _make_get_initializer(functions)
    return functions


def _make_get_initializer(functions):
    names = sorted([*SCHEMES, *ALIASES])

    def get_initializer(name, **params):
        """The initializer ``name`` (a scheme or alias) with ``params`` fixed. An unknown name
        is a ValueError listing the valid ones; an unknown parameter a TypeError naming it."""
        if not isinstance(name, str) or name not in names:
            raise ValueError(f"unknown initializer {name!r}; valid names: {', '.join(names)}")
        canonical = ALIASES.get(name, name)
        allowed = [p for p in inspect.signature(SCHEMES[canonical]).parameters
                   if p not in _CALL_ARGS and p != "stream_type"]
        for key in params:
            if key not in allowed:
                raise TypeError(f"{name} takes no parameter {key!r}; it takes: "
                                f"{', '.join(allowed) or 'none'}")
        return Initializer(canonical, functions[canonical], params)

    return get_initializer


PUBLIC_NAMES = [*SCHEMES, *ALIASES, "get_initializer"]

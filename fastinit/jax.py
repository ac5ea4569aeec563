"""JAX initializers (``pip install jax``; imported only when used), with ``jax.nn.initializers``'
names, signature and laws: ``fastinit.jax.he_normal()`` returns ``init(key, shape,
dtype=jnp.float32)``, which draws from fastinit's counter-based stream seeded by the key's data
(the same key, the same values, on any thread count), in JAX's (in, out) layout.

As in JAX: ``normal(stddev)`` and ``truncated_normal(stddev, lower, upper)`` are in units of
``stddev`` (the truncated one not rescaled); ``uniform(scale)`` is U[0, scale);
``variance_scaling``'s "normal" is the untruncated normal and its "truncated_normal" is
rescaled to keep the variance; glorot_normal, lecun_normal and he_normal are truncated.
Every returned function also takes ``region=`` (fastinit.regions): one shard of the tensor.
Keys are checked as JAX checks them (one typed key, or a raw uint32 key of shape (2,)). The
functions draw on the host into NumPy memory, so they cannot run under ``jax.jit`` or
``jax.vmap`` (a traced key is a TypeError saying so): initialize outside the traced function
and pass the arrays in, as ``init_params`` does for a whole pytree.

``init_params(params, rng)`` fills a whole parameter pytree, each leaf from the stream keyed by
its path (``"Dense_0/kernel"``), with Flax's defaults or your rules.

>>> import jax, fastinit.jax
>>> w = fastinit.jax.he_normal()(jax.random.key(0), (784, 256))
>>> w.shape, str(w.dtype)
((784, 256), 'float32')
"""
from __future__ import annotations

import fnmatch
import math

from typing import Any, Callable, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from fastinit import initializers, text_specs
from fastinit._docs import documented
from fastinit.laws import TRUNCATED_2SIGMA_STD, Normal, TruncatedNormal, Uniform
from fastinit._validation import in_words, real
from fastinit.initializers import Initializer, get_initializer
from fastinit.seeding import named_child, rng_or_seed, seed_sequence

__all__ = ["constant", "glorot_normal", "glorot_uniform", "he_normal", "he_uniform",
           "compute_fans", "delta_orthogonal", "init_params", "lecun_normal", "lecun_uniform",
           "normal", "ones", "orthogonal", "truncated_normal", "uniform", "variance_scaling", "xavier_normal", "xavier_uniform",
           "zeros", "kaiming_normal", "kaiming_uniform"]



# The initializer makers' parameters, described once (fastinit._docs builds their docstrings).
PARAMETER_DOCS = {
    "dtype": "jax dtype, default float32\n    The default dtype of the arrays it makes.",
    "value": "float\n    The value of every element.",
    "stddev": "float, default 0.01\n    The standard deviation.",
    ("truncated_normal", "lower"): "float, default -2.0\n    The lower bound, in units of stddev.",
    ("truncated_normal", "upper"): "float, default 2.0\n    The upper bound, in units of stddev.",
    "scale": ("float\n    The variance's numerator (variance_scaling), the upper bound "
              "(uniform), or the gain (orthogonal)."),
    "mode": '{"fan_in", "fan_out", "fan_avg", "fan_geo_avg"}\n    Which fan the variance is divided by.',
    "distribution": '{"truncated_normal", "normal", "uniform"}\n    JAX\'s meanings ("normal" untruncated).',
    "in_axis": "int or sequence of int, default -2\n    The input axes.",
    "out_axis": "int or sequence of int, default -1\n    The output axes.",
    "batch_axis": "int or sequence of int, default ()\n    Axes left out of both fans.",
    "column_axis": "int, default -1\n    The axis of the orthonormal columns (the last one only).",
}
RETURNS = """Returns
-------
callable
    A JAX initializer ``init(key, shape, dtype=dtype)`` drawing from fastinit's stream keyed
    by ``key``, as jax.nn.initializers' do."""
JaxInitializer = Callable[..., Any]  # a JAX initializer: (key, shape, dtype) -> jax.Array


def key_seed(key, name="init"):
    """The SeedSequence of one JAX PRNG key: a typed key's data, or a legacy raw uint32 key of
    shape (2,). Refused as JAX refuses them: anything else (an int, None, a list, float data,
    3 words) is a TypeError, a batched key a ValueError; a traced key (under jax.jit or
    jax.vmap) is a TypeError saying why (fastinit draws on the host, in NumPy memory)."""
    if isinstance(key, jax.core.Tracer):  # pyright: ignore[reportAttributeAccessIssue]
        raise TypeError(f"{name}: fastinit.jax initializers draw on the host and cannot run "
                        "under jax.jit or jax.vmap (the key is traced): call them outside "
                        "(init_params, or eagerly before jit), and pass the arrays in")
    if not all(hasattr(key, a) for a in ("ndim", "shape", "dtype")):
        raise TypeError(f"{name}: key must be a JAX PRNG key (jax.random.key(0)) or a raw "
                        f"uint32 key of shape (2,), got {type(key).__name__}")
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        if key.shape != ():
            raise ValueError(f"{name} accepts a single key, but was given a key array of "
                             f"shape {key.shape} != (). Use a loop over the keys for a batch")
        words = np.asarray(jax.random.key_data(key), dtype=np.uint32).ravel()
    elif key.dtype != np.uint32:
        raise TypeError(f"{name}: a raw key must have dtype uint32, got {key.dtype}")
    elif key.ndim > 1:
        raise ValueError(f"{name} accepts a single key, but was given a key array of shape "
                         f"{tuple(key.shape)}. Use a loop over the keys for a batch")
    elif tuple(key.shape) != (2,):
        raise TypeError(f"{name}: a raw key must have shape (2,) (threefry's), got shape "
                        f"{tuple(key.shape)}")
    else:
        words = np.asarray(key, dtype=np.uint32)
    return np.random.SeedSequence([int(w) for w in words])


def _scalar(value, name, **checks):
    """A JAX maker's number (a Python or NumPy number, or a 0-d array as JAX takes), checked
    under the maker's own name for it."""
    if getattr(value, "shape", None) == () and not isinstance(value, (bool, np.bool_)):
        try:
            value = float(value)
        except (TypeError, ValueError):
            pass
    return real(value, name, **checks)


def _from(initializer, name, default_dtype=jnp.float32, words=None):
    """An ``init(key, shape, dtype=default_dtype, *, region=None)`` drawing from
    ``initializer``; ``words`` maps fastinit's parameter names to the maker's, for errors."""
    def init(key, shape, dtype=default_dtype, *, region=None):
        shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)  # as JAX
        seed = key_seed(key, name)
        try:
            values = initializer(shape, rng=seed, dtype=np.dtype(dtype), region=region)
        except (ValueError, TypeError) as error:
            raise in_words(error, words) from None
        return jnp.asarray(values)
    init.__name__ = init.__qualname__ = name
    init.initializer = initializer  # type: ignore[attr-defined]  # the fastinit initializer behind it
    return init


def _axes(value, name):
    """An axis or a sequence of axes, as JAX takes them: a tuple of ints."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return (int(value),)
    try:
        axes = tuple(value)  # type: ignore[arg-type]  # a TypeError here is the answer
    except TypeError:
        raise TypeError(f"{name} must be an int or a sequence of ints, got {value!r}") from None
    if not all(isinstance(a, (int, np.integer)) and not isinstance(a, (bool, np.bool_))
               for a in axes):
        raise TypeError(f"{name} must be an int or a sequence of ints, got {value!r}")
    return tuple(int(a) for a in axes)


def compute_fans(shape: Sequence[int], in_axis: int | Sequence[int] = -2,
                 out_axis: int | Sequence[int] = -1,
                 batch_axis: int | Sequence[int] = ()) -> tuple[float, float]:
    """JAX's fans (jax.nn.initializers' _compute_fans): the in and out sizes (products over
    their axes) times the receptive field, prod(shape) / in / out / batch (so the axes that are
    neither in, out nor batch axes), in JAX's float arithmetic: exact for the default axes,
    which give fastinit.fans' fans.

    Parameters
    ----------
    shape : sequence of int
        The weight's shape.
    in_axis, out_axis : int or sequence of int
        The input axes (default -2) and the output axes (default -1).
    batch_axis : int or sequence of int, default ()
        Axes left out of both fans.

    Returns
    -------
    (float, float)
        ``(fan_in, fan_out)``.
    """
    ins, outs, batches = (_axes(in_axis, "in_axis"), _axes(out_axis, "out_axis"),
                          _axes(batch_axis, "batch_axis"))
    if ins == (-2,) and len(shape) <= 1:
        raise ValueError(f"Can't compute input and output sizes of a {len(shape)}-dimensional "
                         "weights tensor with default in_axis. Must be at least 2D or specify "
                         "in_axis explicitly.")
    try:
        in_size = math.prod(shape[a] for a in ins)
        out_size = math.prod(shape[a] for a in outs)
        batch_size = math.prod(shape[a] for a in batches)
    except IndexError:
        raise ValueError(f"in_axis {in_axis}, out_axis {out_axis} and batch_axis {batch_axis} "
                         f"must be axes of shape {shape}") from None
    if in_size * out_size * batch_size == 0:
        return 0.0, 0.0  # an empty weight: nothing to scale
    # JAX's quotient (exact for the default axes: prod(kernel) divides evenly)
    receptive = math.prod(shape) / in_size / out_size / batch_size
    return in_size * receptive, out_size * receptive


JAX_MODES = ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")


class _VarianceScaling:
    """jax.nn.initializers.variance_scaling's law for each shape, drawn by fastinit's plain
    schemes: called as ``(shape, rng=, dtype=, region=)`` like an Initializer."""

    def __init__(self, scale, mode, distribution, in_axis, out_axis, batch_axis):
        self.scale, self.mode, self.distribution = scale, mode, distribution
        self.axes = (in_axis, out_axis, batch_axis)
        self.name = "variance_scaling"

    def __call__(self, shape, *, rng=None, dtype=None, region=None, num_threads=None):
        fan_in, fan_out = compute_fans(shape, *self.axes)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2,
               "fan_geo_avg": math.sqrt(fan_in * fan_out)}[self.mode]
        if math.prod(shape) == 0:  # nothing to draw (and a zero fan)
            return np.zeros(shape, dtype)
        variance = self.scale / fan
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            law = Uniform(-limit, limit)
        elif self.distribution == "normal":
            law = Normal(0.0, math.sqrt(variance))
        else:
            std = math.sqrt(variance) / TRUNCATED_2SIGMA_STD
            law = TruncatedNormal(0.0, std, -2.0 * std, 2.0 * std)
        try:
            return initializers.draw_law(law, shape, rng=rng, dtype=dtype, region=region,
                                         num_threads=num_threads)
        except ValueError as error:
            raise ValueError(f"scale={self.scale!r} is too large for "
                             f"{np.dtype(dtype).name}: {error}") from None


@documented(PARAMETER_DOCS, RETURNS)
def zeros(dtype: Any = jnp.float32) -> JaxInitializer:
    """W = 0 (jax.nn.initializers.zeros is the function itself; here it is made, as the rest)."""
    return _from(get_initializer("zeros"), "zeros", dtype)


@documented(PARAMETER_DOCS, RETURNS)
def ones(dtype: Any = jnp.float32) -> JaxInitializer:
    """W = 1."""
    return _from(get_initializer("ones"), "ones", dtype)


@documented(PARAMETER_DOCS, RETURNS)
def constant(value: float, dtype: Any = jnp.float32) -> JaxInitializer:
    """W = value everywhere."""
    return _from(get_initializer("constant", value=_scalar(value, "value", finite=False)),
                 "constant", dtype)


@documented(PARAMETER_DOCS, RETURNS)
def normal(stddev: float = 1e-2, dtype: Any = jnp.float32) -> JaxInitializer:
    """N(0, stddev^2)."""
    stddev = _scalar(stddev, "stddev", nonnegative=True)
    return _from(get_initializer("normal", std=stddev), "normal", dtype, {"std": "stddev"})


@documented(PARAMETER_DOCS, RETURNS)
def uniform(scale: float = 1e-2, dtype: Any = jnp.float32) -> JaxInitializer:
    """U[0, scale), as JAX's uniform."""
    scale = _scalar(scale, "scale", positive=True)
    return _from(get_initializer("uniform", low=0.0, high=scale), "uniform", dtype,
                 {"high": "scale"})


@documented(PARAMETER_DOCS, RETURNS)
def truncated_normal(stddev: float = 1e-2, dtype: Any = jnp.float32, lower: float = -2.0,
                     upper: float = 2.0) -> JaxInitializer:
    """N(0, stddev^2) truncated to [lower * stddev, upper * stddev] (not rescaled)."""
    stddev = _scalar(stddev, "stddev", positive=True)
    lower, upper = _scalar(lower, "lower", finite=False), _scalar(upper, "upper", finite=False)
    if not lower < upper:
        raise ValueError(f"lower must be < upper, got lower={lower}, upper={upper}")
    return _from(get_initializer("truncated_normal", std=stddev, a=lower * stddev,
                                 b=upper * stddev), "truncated_normal", dtype,
                 {"std": "stddev", "a": "lower * stddev", "b": "upper * stddev"})


JAX_DISTRIBUTIONS = ("truncated_normal", "normal", "uniform")


@documented(PARAMETER_DOCS, RETURNS)
def variance_scaling(scale: float, mode: str, distribution: str, in_axis: int | Sequence[int] = -2,
                     out_axis: int | Sequence[int] = -1, batch_axis: int | Sequence[int] = (),
                     dtype: Any = jnp.float32) -> JaxInitializer:
    """Var W = scale / fan, fan from JAX's axes (``in_axis``, ``out_axis``: an axis or a
    sequence of axes; ``batch_axis`` ignored; the rest the receptive field) and ``mode``
    ("fan_in", "fan_out", "fan_avg", "fan_geo_avg"); "normal" is untruncated,
    "truncated_normal" truncated at 2 s and rescaled, "uniform" U[-l, l) (JAX's meanings)."""
    if distribution not in JAX_DISTRIBUTIONS:
        raise ValueError(f"distribution must be one of {sorted(JAX_DISTRIBUTIONS)}, got "
                         f"{distribution!r}")
    if mode not in JAX_MODES:
        raise ValueError(f"invalid mode for variance scaling initializer: {mode!r}; valid: "
                         f"{', '.join(JAX_MODES)}")
    scale = _scalar(scale, "scale", positive=True)
    for value, name in ((in_axis, "in_axis"), (out_axis, "out_axis"),
                        (batch_axis, "batch_axis")):
        _axes(value, name)
    return _from(_VarianceScaling(scale, mode, distribution, in_axis, out_axis, batch_axis),
                 "variance_scaling", dtype)


@documented(PARAMETER_DOCS, RETURNS)
def glorot_uniform(in_axis: int | Sequence[int] = -2, out_axis: int | Sequence[int] = -1,
                   batch_axis: int | Sequence[int] = (), dtype: Any = jnp.float32) -> JaxInitializer:
    """Glorot & Bengio (2010): variance_scaling(1.0, "fan_avg", "uniform")."""
    return variance_scaling(1.0, "fan_avg", "uniform", in_axis, out_axis, batch_axis, dtype)


@documented(PARAMETER_DOCS, RETURNS)
def glorot_normal(in_axis: int | Sequence[int] = -2, out_axis: int | Sequence[int] = -1,
                  batch_axis: int | Sequence[int] = (), dtype: Any = jnp.float32) -> JaxInitializer:
    """Glorot & Bengio (2010): variance_scaling(1.0, "fan_avg", "truncated_normal")."""
    return variance_scaling(1.0, "fan_avg", "truncated_normal", in_axis, out_axis, batch_axis,
                            dtype)


@documented(PARAMETER_DOCS, RETURNS)
def lecun_uniform(in_axis: int | Sequence[int] = -2, out_axis: int | Sequence[int] = -1,
                  batch_axis: int | Sequence[int] = (), dtype: Any = jnp.float32) -> JaxInitializer:
    """LeCun et al. (1998): variance_scaling(1.0, "fan_in", "uniform")."""
    return variance_scaling(1.0, "fan_in", "uniform", in_axis, out_axis, batch_axis, dtype)


@documented(PARAMETER_DOCS, RETURNS)
def lecun_normal(in_axis: int | Sequence[int] = -2, out_axis: int | Sequence[int] = -1,
                 batch_axis: int | Sequence[int] = (), dtype: Any = jnp.float32) -> JaxInitializer:
    """LeCun et al. (1998): variance_scaling(1.0, "fan_in", "truncated_normal")."""
    return variance_scaling(1.0, "fan_in", "truncated_normal", in_axis, out_axis, batch_axis,
                            dtype)


@documented(PARAMETER_DOCS, RETURNS)
def he_uniform(in_axis: int | Sequence[int] = -2, out_axis: int | Sequence[int] = -1,
               batch_axis: int | Sequence[int] = (), dtype: Any = jnp.float32) -> JaxInitializer:
    """He et al. (2015): variance_scaling(2.0, "fan_in", "uniform")."""
    return variance_scaling(2.0, "fan_in", "uniform", in_axis, out_axis, batch_axis, dtype)


@documented(PARAMETER_DOCS, RETURNS)
def he_normal(in_axis: int | Sequence[int] = -2, out_axis: int | Sequence[int] = -1,
              batch_axis: int | Sequence[int] = (), dtype: Any = jnp.float32) -> JaxInitializer:
    """He et al. (2015): variance_scaling(2.0, "fan_in", "truncated_normal")."""
    return variance_scaling(2.0, "fan_in", "truncated_normal", in_axis, out_axis, batch_axis,
                            dtype)


@documented(PARAMETER_DOCS, RETURNS)
def orthogonal(scale: float = 1.0, column_axis: int = -1, dtype: Any = jnp.float32) -> JaxInitializer:
    """scale * Q over (prod(shape[:-1]), shape[-1])."""
    if column_axis != -1:
        raise ValueError("fastinit's orthogonal takes the columns on the last axis only")
    scale = _scalar(scale, "scale")
    return _from(get_initializer("orthogonal", gain=scale), "orthogonal", dtype,
                 {"gain": "scale"})


@documented(PARAMETER_DOCS, RETURNS)
def delta_orthogonal(scale: float = 1.0, column_axis: int = -1,
                     dtype: Any = jnp.float32) -> JaxInitializer:
    """Xiao et al. (2018): a 3-, 4- or 5-D convolution kernel that is zero but at the centre of
    its spatial axes, where it is ``scale * Q`` over the last two axes (in <= out), as
    jax.nn.initializers.delta_orthogonal."""
    scale = _scalar(scale, "scale")
    if column_axis != -1:
        raise ValueError("fastinit's delta_orthogonal takes the columns on the last axis only")
    ortho = get_initializer("orthogonal", gain=scale)

    def delta(shape, *, rng=None, dtype=None, region=None, num_threads=None):
        if len(shape) not in (3, 4, 5):
            raise ValueError("Delta orthogonal initializer requires a 3D, 4D or 5D shape.")
        if shape[-1] < shape[-2]:
            raise ValueError("`fan_in` must be less or equal than `fan_out`. ")
        if region is not None:
            raise ValueError("delta_orthogonal draws whole kernels: region= is not supported")
        W = np.zeros(shape, dtype)
        centre = tuple((k - 1) // 2 for k in shape[:-2])
        W[centre] = ortho(shape[-2:], rng=rng, dtype=dtype, num_threads=num_threads)
        return W
    delta.name = "delta_orthogonal"  # type: ignore[attr-defined]
    return _from(delta, "delta_orthogonal", dtype, {"gain": "scale"})


xavier_uniform, xavier_normal = glorot_uniform, glorot_normal
kaiming_uniform, kaiming_normal = he_uniform, he_normal

# Flax's defaults by the leaf's name: Dense/Conv kernels lecun_normal, biases zeros, norm
# scales ones, embeddings variance_scaling(1, "fan_in", "normal") over (vocabulary, features).
FLAX_DEFAULTS = {"*kernel": lecun_normal, "*bias": zeros, "*scale": ones,
                 "*embedding": lambda: _from(get_initializer(
                     "variance_scaling", scale=1.0, mode="fan_out",
                     distribution="untruncated_normal"), "embedding")}


def _path_name(path):
    parts = []
    for entry in path:
        parts.append(str(getattr(entry, "key", getattr(entry, "idx", getattr(
            entry, "name", entry)))))
    return "/".join(parts)


def _rule_init(rule, where):
    """A rule as an init function: one made here (``he_normal()``), a maker (``he_normal``), a
    spec ("normal:std=0.02") or a fastinit Initializer (drawn in the in_out layout)."""
    if hasattr(rule, "initializer"):
        return rule
    if isinstance(rule, str):
        rule = text_specs.initializer(rule, where)
    if isinstance(rule, Initializer):
        return _from(rule, rule.name)
    if callable(rule):
        made = rule()
        if hasattr(made, "initializer"):
            return made
    raise TypeError(f"{where}: a rule must be a fastinit.jax initializer (or its maker), a "
                    f"spec (str) or a fastinit Initializer, got {type(rule).__name__}")


def init_params(params: Any, rng: Any = None, rules: Mapping[str, Any] | None = None, *,
                seed: Any = None) -> Any:
    """A pytree like ``params`` (arrays, or jax.ShapeDtypeStruct from jax.eval_shape) with every
    leaf drawn anew: the first rule whose glob matches the leaf's path ("Dense_0/kernel"), else
    Flax's default for its name; each from the stream of ``rng`` keyed by the path, so adding a
    layer leaves the others unchanged. A leaf with no rule is a ValueError naming it.

    Parameters
    ----------
    params : pytree
        Arrays, or jax.ShapeDtypeStruct leaves (from jax.eval_shape).
    rng : None, int or numpy.random.SeedSequence
        Seeds every leaf's stream (``seed`` is the same under JAX's word).
    rules : mapping, optional
        {glob over leaf paths: a fastinit.jax initializer (or its maker), a spec string or a
        fastinit Initializer}; Flax's defaults fill in the rest.
    seed : None, int or numpy.random.SeedSequence
        Another name for ``rng`` (give one of the two).

    Returns
    -------
    pytree
        ``params``' structure, every leaf a new jax.Array of its shape and dtype.
    """
    root = seed_sequence(rng_or_seed(rng, seed))
    rules = {**dict(rules or {}), **{k: v for k, v in FLAX_DEFAULTS.items()
                                      if k not in (rules or {})}}
    leaves, tree = jax.tree_util.tree_flatten_with_path(params)
    filled, missing = [], []
    for path, leaf in leaves:
        name = _path_name(path)
        rule = next((r for pattern, r in rules.items() if fnmatch.fnmatchcase(name, pattern)),
                    None)
        if rule is None:
            missing.append(name)
            continue
        initializer = _rule_init(rule, name).initializer  # type: ignore[union-attr]
        values = initializer(tuple(leaf.shape), rng=named_child(root, name),
                             dtype=np.dtype(leaf.dtype))
        filled.append(jnp.asarray(values))
    if missing:
        raise ValueError(f"no rule for {', '.join(missing)}: give rules={{pattern: ...}}")
    return jax.tree_util.tree_unflatten(tree, filled)

"""Every initialization scheme: one short function each, its formula in the docstring.

Each public scheme takes ``shape`` or ``out=`` (returning the filled array), its own
parameters, then ``rng=`` (SPEC 7: None, int, SeedSequence or Generator; ``seed=`` is the same
under Keras's name), ``region=``, ``dtype=`` (float64 by default, float32, or float16/bfloat16
drawn in float32 and rounded), ``num_threads=`` and ``backend=`` (fastinit.backends: the engine
by default; fastinit.reference binds its NumPy one). The fans are computed in one place
(fastinit.fans); the structured schemes (orthogonal, identity, dirac, sparse) are in
fastinit.structured.

>>> import fastinit
>>> W = fastinit.he_normal((512, 256), rng=0)
>>> W.shape, W.dtype
((512, 256), dtype('float64'))
>>> fastinit.get_initializer("he_normal", nonlinearity="tanh")
Initializer('he_normal', nonlinearity='tanh')
"""
from __future__ import annotations

import functools
import inspect
import math
from typing import Any, Callable, TypeVar

from fastinit._docs import numpydoc as _numpydoc
from fastinit._typing import Array, DType, RNG, Shape
from fastinit._validation import choice, real
from fastinit.backends import ENGINE, LAWS, Backend, Call
from fastinit.fans import OUT_IN, calculate_gain, fan_sum, select_fan
from fastinit.laws import TRUNCATED_2SIGMA_STD, Constant, Normal, TruncatedNormal, Uniform
from fastinit.regions import fill_region
from fastinit.seeding import rng_or_seed
from fastinit.structured import dirac, identity, orthogonal, sparse
from fastinit.tensors import is_torch_tensor, tensor_target

# Every scheme's parameters, described once: its docstring's numpydoc Parameters section is
# built from these, in the order of its signature ((scheme, name) entries are one scheme's own).
PARAMETER_DOCS = {
    "shape": """tuple of int, optional
        The weight's shape; give it or ``out``. Fans follow ``layout``.""",
    "layout": """{"in_out", "out_in"}, default "in_out"
        How the shape is read: "in_out" is ``(in, out)`` or ``(*kernel, in, out)`` (Keras,
        JAX and ``X @ W``), "out_in" is ``(out, in, *kernel)`` (PyTorch).""",
    "value": """float
        The value of every element.""",
    "low": """float, optional
        The lower bound (give both bounds, or neither for +-1/sqrt(fan_in)).""",
    "high": """float, optional
        The upper bound (excluded).""",
    "mean": "float, default 0.0",
    "std": """float, default 1.0
        The standard deviation (of the law before truncation).""",
    ("truncated_normal", "a"): """float, default -2.0
        The lower bound, absolute (not in units of std).""",
    ("truncated_normal", "b"): """float, default 2.0
        The upper bound, absolute.""",
    "gain": """float, default 1.0
        A factor on the standard deviation (fastinit.calculate_gain gives the usual ones).""",
    "mode": """{"fan_in", "fan_out"}, default "fan_in"
        Which fan the variance is divided by.""",
    ("variance_scaling", "mode"): """{"fan_in", "fan_out", "fan_avg"}, default "fan_in"
        Which fan the variance is divided by (fan_avg: their mean).""",
    "nonlinearity": """str, optional
        The gain's nonlinearity (calculate_gain): "relu" by default, "leaky_relu" when a
        negative slope is given without it (as torch's kaiming_* with ``a``).""",
    "negative_slope": """float, optional
        The leaky ReLU's negative slope.""",
    "a": """float, optional
        PyTorch's name for ``negative_slope`` (give one of the two).""",
    "scale": """float, default 1.0
        The variance's numerator: Var W = scale / fan.""",
    "distribution": """{"truncated_normal", "untruncated_normal", "normal", "uniform"}
        The law (default "truncated_normal"; "normal" is Keras's name for it).""",
    "sparsity": """float
        The fraction of each column's entries set to zero.""",
    ("sparse", "std"): """float, default 0.01
        The standard deviation of the non-zero entries.""",
    "groups": """int, default 1
        The number of groups the channels are split into.""",
    "rng": """None, int, numpy.random.SeedSequence or numpy.random.Generator
        An int or SeedSequence draws from the counter-based stream (the same bytes on any
        thread count); a Generator draws its own numbers (compat mode); None, fresh entropy.""",
    "seed": """None, int, numpy.random.SeedSequence or numpy.random.Generator
        Keras's and JAX's name for ``rng`` (give one of the two).""",
    "region": """tuple of slices or (start, stop) pairs, optional
        Draw only this block of the tensor of ``shape`` (the leading dimensions; the rest are
        whole): the values the block holds in the whole tensor (fastinit.regions). ``out``, if
        given, has the block's shape.""",
    "dtype": '{"float64", "float32", "float16", "bfloat16"}, default "float64"',
    "out": """numpy.ndarray or torch.Tensor, optional
        A C-contiguous array filled in place and returned. A CPU torch tensor is filled through
        its memory, its fans read in torch's layout (``layout="out_in"``) unless ``layout`` is
        given.""",
    "num_threads": """int, optional
        Threads for the fill (default: OMP_NUM_THREADS or one per core).""",
    "backend": """fastinit.backends.Backend, optional
        Where the draws happen (the engine; fastinit.reference passes its NumPy backend).""",
}
RETURNS = """
    Returns
    -------
    numpy.ndarray
        ``out``, or a new array of ``shape``, filled.
"""


F = TypeVar("F", bound=Callable[..., Any])


def numpydoc(function: Callable[..., Any], docs: dict[Any, str] | None = None,
             returns: str = RETURNS) -> str:  # pragma: no mutate block
    """A scheme's docstring in numpydoc sections, its parameters described by ``docs``
    (default PARAMETER_DOCS): fastinit._docs.numpydoc."""
    return _numpydoc(function, PARAMETER_DOCS if docs is None else docs, returns)


def scheme(function: F) -> F:  # pragma: no mutate block
    """Register a public scheme, give its docstring the parameters every scheme shares, accept
    ``seed=`` (Keras's and JAX's word) as another name for ``rng=``, and ``region=`` for a
    block of the tensor (fastinit.regions)."""
    function.__doc__ = numpydoc(function)

    takes_layout = "layout" in inspect.signature(function).parameters

    @functools.wraps(function)
    def scheme_call(*args, seed=None, region=None, **kwargs):
        if seed is not None:
            kwargs["rng"] = rng_or_seed(kwargs.get("rng"), seed)
        tensor = kwargs.get("out")
        if not is_torch_tensor(tensor):
            return _fill(function, args, region, kwargs)
        with tensor_target(tensor) as kwargs["out"]:  # its fans read in torch's layout
            if takes_layout:
                kwargs.setdefault("layout", OUT_IN)
            _fill(function, args, region, kwargs)
        return tensor
    SCHEMES[function.__name__] = scheme_call
    return scheme_call  # type: ignore[return-value]  # the same signature (functools.wraps)


def _fill(function, args, region, kwargs):
    if region is not None:
        return fill_region(function, *args, region=region, **kwargs)
    return function(*args, **kwargs)


SCHEMES: dict[str, Callable[..., Any]] = {}


# -- constants -------------------------------------------------------------------------------

@scheme
def constant(shape: Shape | None = None, *, value: float, rng: RNG = None, seed: RNG = None,
             region: Any = None, dtype: DType = None, out: Any = None,
             num_threads: int | None = None, backend: Backend | None = None) -> Array:
    """W = value everywhere.

    >>> fastinit.constant((2, 2), value=0.5).tolist()
    [[0.5, 0.5], [0.5, 0.5]]
    """
    call = Call(shape, out, dtype, rng, num_threads, backend)
    return call.draw(Constant(value))


@scheme
def zeros(shape: Shape | None = None, *, rng: RNG = None, seed: RNG = None, region: Any = None,
          dtype: DType = None, out: Any = None, num_threads: int | None = None,
          backend: Backend | None = None) -> Array:
    """W = 0 (the "zero init" that never breaks symmetry)."""
    return Call(shape, out, dtype, rng, num_threads, backend).draw(Constant(0.0))


@scheme
def ones(shape: Shape | None = None, *, rng: RNG = None, seed: RNG = None, region: Any = None,
         dtype: DType = None, out: Any = None, num_threads: int | None = None,
         backend: Backend | None = None) -> Array:
    """W = 1."""
    return Call(shape, out, dtype, rng, num_threads, backend).draw(Constant(1.0))


# -- plain laws ------------------------------------------------------------------------------

@scheme
def uniform(shape: Shape | None = None, *, low: float | None = None, high: float | None = None,
            layout: str = "in_out", rng: RNG = None, seed: RNG = None, region: Any = None,
            dtype: DType = None, out: Any = None, num_threads: int | None = None,
            backend: Backend | None = None) -> Array:
    """W ~ U[low, high); with neither bound given, U[-1/sqrt(fan_in), 1/sqrt(fan_in)).

    Values are ``low + (high - low) * u`` rounded once to the dtype (float32: from ``low`` and
    ``high - low`` rounded to float32, by one fused multiply-add; see fastinit.laws.Uniform),
    then kept in [low, high) as the dtype holds it: a float32 value that rounding carried below
    ``low`` or onto ``high`` is the nearest float32 inside instead.

    >>> w = fastinit.uniform((1000,), low=-0.1, high=0.1, dtype="float32", rng=0)
    >>> bool(w.min() >= -0.1 and w.max() < 0.1)
    True
    """
    call = Call(shape, out, dtype, rng, num_threads, backend)
    if low is None and high is None:
        return call.draw(_symmetric_uniform(
            1.0 / math.sqrt(select_fan(call.shape, "fan_in", layout))))
    if low is None or high is None:
        raise TypeError("give both low and high, or neither (then the bounds are ±1/sqrt(fan_in))")
    return call.draw(Uniform(low, high))


@scheme
def normal(shape: Shape | None = None, *, mean: float = 0.0, std: float = 1.0, rng: RNG = None,
           seed: RNG = None, region: Any = None, dtype: DType = None, out: Any = None,
           num_threads: int | None = None, backend: Backend | None = None) -> Array:
    """W ~ N(mean, std^2). std = 0.01 is the classic "small random" init, std = 1 the "big"."""
    return Call(shape, out, dtype, rng, num_threads, backend).draw(Normal(mean, std))


@scheme
def truncated_normal(shape: Shape | None = None, *, mean: float = 0.0, std: float = 1.0,
                     a: float = -2.0, b: float = 2.0, rng: RNG = None, seed: RNG = None,
                     region: Any = None, dtype: DType = None, out: Any = None,
                     num_threads: int | None = None, backend: Backend | None = None) -> Array:
    """W ~ N(mean, std^2) conditioned on a <= W <= b (absolute bounds; the exact truncated law,
    not clipping). Values are computed in float64 and rounded to the dtype inside [a, b]: a
    value lands on a bound only when rounding puts it there (about never in float64; in
    float32 whenever a draw lies within half a float32 step of a bound). An interval that holds
    no value of the dtype is a ValueError."""
    call = Call(shape, out, dtype, rng, num_threads, backend)
    return call.draw(TruncatedNormal(mean, std, a, b))


# -- fan-scaled laws -------------------------------------------------------------------------

@scheme
def xavier_uniform(shape: Shape | None = None, *, gain: float = 1.0, layout: str = "in_out",
                   rng: RNG = None, seed: RNG = None, region: Any = None, dtype: DType = None,
                   out: Any = None, num_threads: int | None = None,
                   backend: Backend | None = None) -> Array:
    """Glorot & Bengio (2010): W ~ U[-l, l), l = gain * sqrt(6 / (fan_in + fan_out)),
    so Var W = gain^2 * 2 / (fan_in + fan_out)."""
    call = Call(shape, out, dtype, rng, num_threads, backend)
    limit = real(gain, "gain") * math.sqrt(6.0 / fan_sum(call.shape, layout))
    return call.draw(_symmetric_uniform(limit), because=f"gain={gain!r}")


@scheme
def xavier_normal(shape: Shape | None = None, *, gain: float = 1.0, layout: str = "in_out",
                  rng: RNG = None, seed: RNG = None, region: Any = None, dtype: DType = None,
                  out: Any = None, num_threads: int | None = None,
                  backend: Backend | None = None) -> Array:
    """Glorot & Bengio (2010): W ~ N(0, s^2), s = gain * sqrt(2 / (fan_in + fan_out))."""
    call = Call(shape, out, dtype, rng, num_threads, backend)
    std = abs(real(gain, "gain")) * math.sqrt(2.0 / fan_sum(call.shape, layout))
    return call.draw(Normal(0.0, std), because=f"gain={gain!r}")


def _he_fan_and_gain(name, shape, mode, nonlinearity, negative_slope, a, layout):
    """(fan, gain) of He's schemes, with PyTorch's conventions: ``a`` is the negative slope,
    and a slope given without a nonlinearity means leaky_relu."""
    if mode == "fan_avg":
        distribution = "uniform" if name == "he_uniform" else "untruncated_normal"
        raise ValueError(f"{name} takes mode 'fan_in' or 'fan_out'; for the mean of the fans use "
                         f"variance_scaling(scale=2.0, mode='fan_avg', "
                         f"distribution='{distribution}')")
    if a is not None:
        if negative_slope is not None:
            raise TypeError(f"{name}: give a= (PyTorch's name) or negative_slope=, not both")
        negative_slope = a
    if nonlinearity is None:
        nonlinearity = "relu" if negative_slope is None else "leaky_relu"
    fan = select_fan(shape, choice(mode, "mode", ("fan_in", "fan_out")), layout)
    return fan, calculate_gain(nonlinearity, 0.0 if negative_slope is None else negative_slope)


@scheme
def he_uniform(shape: Shape | None = None, *, mode: str = "fan_in",
               nonlinearity: str | None = None, negative_slope: float | None = None,
               a: float | None = None, layout: str = "in_out", rng: RNG = None, seed: RNG = None,
               region: Any = None, dtype: DType = None, out: Any = None,
               num_threads: int | None = None, backend: Backend | None = None) -> Array:
    """He et al. (2015): W ~ U[-l, l), l = gain * sqrt(3 / fan),
    gain = calculate_gain(nonlinearity, negative_slope), fan = fan_in or fan_out (``mode``).
    """
    call = Call(shape, out, dtype, rng, num_threads, backend)
    fan, gain = _he_fan_and_gain("he_uniform", call.shape, mode, nonlinearity, negative_slope,
                                 a, layout)
    return call.draw(_symmetric_uniform(gain * math.sqrt(3.0 / fan)))


@scheme
def he_normal(shape: Shape | None = None, *, mode: str = "fan_in", nonlinearity: str | None = None,
              negative_slope: float | None = None, a: float | None = None, layout: str = "in_out",
              rng: RNG = None, seed: RNG = None, region: Any = None, dtype: DType = None,
              out: Any = None, num_threads: int | None = None,
              backend: Backend | None = None) -> Array:
    """He et al. (2015): W ~ N(0, s^2), s = gain / sqrt(fan); Var W = 2 / fan_in for ReLU.

    >>> w = fastinit.he_normal((4096, 1024), rng=0)
    >>> round(float(w.var() * 4096), 2)
    2.0
    """
    call = Call(shape, out, dtype, rng, num_threads, backend)
    fan, gain = _he_fan_and_gain("he_normal", call.shape, mode, nonlinearity, negative_slope,
                                 a, layout)
    return call.draw(Normal(0.0, gain / math.sqrt(fan)))


@scheme
def lecun_uniform(shape: Shape | None = None, *, layout: str = "in_out", rng: RNG = None,
                  seed: RNG = None, region: Any = None, dtype: DType = None, out: Any = None,
                  num_threads: int | None = None, backend: Backend | None = None) -> Array:
    """LeCun et al. (1998): W ~ U[-l, l), l = sqrt(3 / fan_in), so Var W = 1 / fan_in."""
    call = Call(shape, out, dtype, rng, num_threads, backend)
    return call.draw(_symmetric_uniform(math.sqrt(3.0 / select_fan(call.shape, "fan_in",
                                                                  layout))))


@scheme
def lecun_normal(shape: Shape | None = None, *, layout: str = "in_out", rng: RNG = None,
                 seed: RNG = None, region: Any = None, dtype: DType = None, out: Any = None,
                 num_threads: int | None = None, backend: Backend | None = None) -> Array:
    """LeCun et al. (1998): W ~ N(0, 1 / fan_in), the classic ``randn(fan_in, fan_out) /
    sqrt(fan_in)``. (Keras's lecun_normal is ``variance_scaling(1, "fan_in",
    "truncated_normal")``.)"""
    call = Call(shape, out, dtype, rng, num_threads, backend)
    return call.draw(Normal(0.0, 1.0 / math.sqrt(select_fan(call.shape, "fan_in", layout))))


VARIANCE_SCALING_DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "normal", "uniform")


@scheme
def variance_scaling(shape: Shape | None = None, *, scale: float = 1.0, mode: str = "fan_in",
                     distribution: str = "truncated_normal", layout: str = "in_out",
                     rng: RNG = None, seed: RNG = None, region: Any = None, dtype: DType = None,
                     out: Any = None, num_threads: int | None = None,
                     backend: Backend | None = None) -> Array:
    """Keras's VarianceScaling: Var W = scale / fan, fan = fan_in, fan_out or their mean.

    truncated_normal (and "normal", which Keras maps to it): N(0, s^2) truncated to
    [-2s, 2s], s = sqrt(scale / fan) / 0.87962566103423978, the std of N(0, 1) truncated to
    [-2, 2], so that the variance is still scale / fan.
    untruncated_normal: N(0, scale / fan). (JAX's ``variance_scaling(..., "normal")`` is this
    one: write "untruncated_normal" here for it.)
    uniform: U[-l, l), l = sqrt(3 * scale / fan).
    """
    call = Call(shape, out, dtype, rng, num_threads, backend)
    scale = real(scale, "scale", positive=True)
    choice(distribution, "distribution", VARIANCE_SCALING_DISTRIBUTIONS)
    variance = scale / select_fan(call.shape, mode, layout)
    because = f"scale={scale!r}"
    if distribution == "uniform":
        return call.draw(_symmetric_uniform(math.sqrt(3.0 * variance)), because=because)
    if distribution == "untruncated_normal":
        return call.draw(Normal(0.0, math.sqrt(variance)), because=because)
    std = math.sqrt(variance) / TRUNCATED_2SIGMA_STD
    return call.draw(TruncatedNormal(0.0, std, -2.0 * std, 2.0 * std), because=because)


def _symmetric_uniform(limit):
    limit = abs(limit)
    if limit == 0.0:
        return Constant(0.0)
    return Uniform(-limit, limit)


def draw_law(law, shape=None, **call):
    """The values of ``law`` for ``shape`` (or ``out=``), drawn by the law's own plain scheme
    (constant, uniform, normal, truncated_normal) with ``call``'s arguments (rng, dtype, out,
    region, num_threads): for front ends whose fans are not a fastinit layout's (Keras's short
    shapes, JAX's axes), the same values the scheme draws for the same law."""
    if isinstance(law, Constant):
        return constant(shape, value=law.value, **call)
    if isinstance(law, Uniform):
        return uniform(shape, low=law.low, high=law.high, **call)
    if isinstance(law, Normal):
        return normal(shape, mean=law.mean, std=law.std, **call)
    return truncated_normal(shape, mean=law.mean, std=law.std, a=law.a, b=law.b, **call)


orthogonal = scheme(orthogonal)
identity = scheme(identity)
dirac = scheme(dirac)
sparse = scheme(sparse)

# -- names -----------------------------------------------------------------------------------

ALIASES = {
    "glorot_uniform": "xavier_uniform",
    "glorot_normal": "xavier_normal",
    "kaiming_uniform": "he_uniform",
    "kaiming_normal": "he_normal",
}
glorot_uniform = xavier_uniform
glorot_normal = xavier_normal
kaiming_uniform = he_uniform
kaiming_normal = he_normal
CALL_ARGUMENTS = ("shape", "rng", "seed", "region", "dtype", "out", "num_threads", "backend")


@functools.lru_cache(maxsize=None)
def parameters(name):
    """The parameters of scheme ``name`` beyond those every scheme takes (cached: inspecting a
    signature costs tens of microseconds)."""
    return [p for p in inspect.signature(SCHEMES[name]).parameters if p not in CALL_ARGUMENTS]


class Initializer:
    """A scheme with its parameters fixed: ``init(shape, rng=..., dtype=..., out=...)``.

    ``name`` and ``params`` say what it is; ``law(shape)`` is the law it draws a weight of
    ``shape`` from (None for the structured schemes), which the engine fuses into its kernel.
    """

    def __init__(self, name, params=None, backend=None):
        self.name, self.params = name, dict(params or {})
        self.backend = ENGINE if backend is None else backend
        self._laws = {}  # shape -> law: the engine asks for the same shapes again and again

    def law(self, shape, layout=None):
        """The law of a weight of ``shape``, or None for the structured schemes (checking the
        parameters against the shape either way). ``layout`` is read where the scheme takes
        one and the initializer's parameters do not fix it."""
        shape = tuple(shape)
        params = self.params
        if layout is not None and "layout" in parameters(self.name) and "layout" not in params:
            params = {**params, "layout": layout}
        key = (shape, params.get("layout"))
        if key not in self._laws:
            self._laws[key] = SCHEMES[self.name](shape, backend=LAWS, **params)
        return self._laws[key]

    def __call__(self, shape=None, *, rng=None, seed=None, region=None, dtype=None, out=None,
                 num_threads=None):
        rng = rng_or_seed(rng, seed)
        return SCHEMES[self.name](shape, rng=rng, region=region, dtype=dtype, out=out,
                                  num_threads=num_threads, backend=self.backend, **self.params)

    def __repr__(self):
        args = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return f"Initializer({self.name!r}{args})"

    def __eq__(self, other):
        return isinstance(other, Initializer) and (self.name, self.params, self.backend) == (
            other.name, other.params, other.backend)

    __hash__ = None  # type: ignore[assignment]  # mutable params: unhashable, as a dict


def get_initializer(name: str, *, backend: Backend | None = None,
                    **params: Any) -> Initializer:
    """The initializer ``name`` (a scheme or an alias) with ``params`` fixed.

    Parameters
    ----------
    name : str
        A scheme (``fastinit.initializers.SCHEMES``) or an alias (glorot_*, kaiming_*).
    backend : fastinit.backends.Backend, optional
        Where its draws happen (the engine by default).
    **params
        The scheme's own parameters (``std=0.01``, ``mode="fan_out"``, ...).

    Returns
    -------
    Initializer
        Call it as the scheme: ``init(shape, rng=..., dtype=..., out=...)``.

    Raises
    ------
    ValueError
        For an unknown name (the message lists the valid ones).
    TypeError
        For a parameter the scheme does not take (the message names it).

    Examples
    --------
    >>> init = fastinit.get_initializer("variance_scaling", scale=2.0, mode="fan_avg")
    >>> init((300, 100), rng=0).shape
    (300, 100)
    """
    names = sorted([*SCHEMES, *ALIASES])
    if not isinstance(name, str) or name not in names:
        raise ValueError(f"unknown initializer {name!r}; valid names: {', '.join(names)}")
    canonical = ALIASES.get(name, name)
    allowed = parameters(canonical)
    for key in params:
        if key not in allowed:
            raise TypeError(f"{name} takes no parameter {key!r}; it takes: "
                            f"{', '.join(allowed) or 'none'}")
    return Initializer(canonical, params, backend)


PUBLIC_NAMES = [*SCHEMES, *ALIASES, "get_initializer"]

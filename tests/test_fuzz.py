"""Fuzzing: random argument combinations for every public initializer and forward_prop, engine
and reference. Each call returns an array (a Propagation) or raises ValueError/TypeError, and
on error leaves ``out`` untouched. Bounded (a few hundred examples, small sizes) so that the
suite stays fast; the seed is fixed by hypothesis's derandomize so it never flakes."""
import math
import re
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import fastinit
import fastinit.reference as reference
from fastinit import initializers

SENTINEL = 123.0
OUTCOMES = {"initializer": 0, "forward_prop": 0}  # calls that returned a result
FUZZ = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])

# values a careless or adversarial caller passes anywhere
ODD_NUMBERS = [0, 1, -1, 2, 0.5, -0.5, 3.0, 1e-300, 1e300, -1e300, 1e39, math.inf, -math.inf,
               math.nan, True, 2**40, np.float32(0.25), np.int64(3)]
ODD_VALUES = ODD_NUMBERS + [None, "x", "relu", "fan_in", "uniform", [1], (1, 2), {}, b"1"]
SHAPES = st.one_of(
    st.tuples(st.integers(-1, 6), st.integers(-1, 6)),
    st.tuples(st.integers(0, 4), st.integers(0, 4), st.integers(0, 3)),
    st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 3), st.integers(0, 3)),
    st.integers(-2, 8),
    st.sampled_from([(), (2.5, 3), ("a", 2), None, [3, 4], (True, 2), (2**40, 2**40)]),
)


def mostly(sane, odd):
    """Four draws in five from the sane values: the fuzz must reach the kernels too."""
    sane, odd = st.sampled_from(sane), st.sampled_from(odd)
    return st.integers(0, 9).flatmap(lambda k: sane if k < 8 else odd)


RNGS = mostly([None, 0, 7, 2**70, np.random.SeedSequence(3), "generator"],
              [-1, 1.5, "seed", [1, 2]])
THREADS = mostly([None, 1, 2], [0, -1, 10**6, 1.5, True, "2"])
DTYPES = mostly([None, "float32", "float64", np.float32, "f8"],
                ["flaot32", "float16", int, object])


def _rng(value):
    return np.random.default_rng(1) if value == "generator" else value


def _outs(draw):
    kind = draw(mostly(["none", "f64", "f32"], ["int", "strided", "readonly", "matrix",
                                                 "list"]))
    shape = draw(st.tuples(st.integers(0, 5), st.integers(0, 5)))
    if kind == "none":
        return None
    if kind == "int":
        return np.full(shape, 7, np.int64)
    if kind == "list":
        return [[SENTINEL] * 2] * 2
    if kind == "matrix":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            return np.matrix(np.full(shape, SENTINEL))
    out = np.full(shape, SENTINEL, np.float32 if kind == "f32" else np.float64)
    if kind == "strided":
        return np.full((shape[0], 2 * shape[1]), SENTINEL)[:, ::2]
    if kind == "readonly":
        out.flags.writeable = False
    return out


@st.composite
def initializer_calls(draw):
    name = draw(st.sampled_from(sorted(initializers.SCHEMES) + sorted(initializers.ALIASES)))
    scheme = initializers.SCHEMES[initializers.ALIASES.get(name, name)]
    own = [p for p in __import__("inspect").signature(scheme).parameters
           if p not in initializers.CALL_ARGUMENTS]
    params = {p: draw(st.sampled_from(ODD_VALUES)) for p in own
              if draw(st.integers(0, 3)) == 0}
    required = {"sparsity": [0.0, 0.3, 1.0, 0.5], "value": [0.5, -2.0]}
    for key, values in required.items():  # usually given: a missing one only tests the message
        if key in own and key not in params and draw(st.integers(0, 5)):
            params[key] = draw(st.sampled_from(values))
    kwargs = dict(rng=_rng(draw(RNGS)), dtype=draw(DTYPES), num_threads=draw(THREADS),
                  out=_outs(draw), **params)
    shape = draw(st.one_of(SHAPES, st.tuples(st.integers(1, 6), st.integers(1, 6))))
    if kwargs["out"] is not None:
        shape = draw(st.sampled_from([None, None, getattr(kwargs["out"], "shape", None),
                                      shape]))
    return name, shape, kwargs


def _check_call(call, out):
    before = None if not isinstance(out, np.ndarray) else np.array(out, copy=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return call()
    except (ValueError, TypeError):
        if before is not None:
            assert np.array_equal(np.asarray(out), before, equal_nan=True), \
                "out was written before the error"
        return None


@pytest.mark.parametrize("api", [fastinit, reference], ids=["engine", "reference"])
@FUZZ
@given(initializer_calls())
def test_initializers_never_crash(api, call):
    name, shape, kwargs = call
    function = getattr(api, name)
    result = _check_call(lambda: function(shape, **kwargs) if shape is not None
                         else function(**kwargs), kwargs["out"])
    if result is not None:
        OUTCOMES["initializer"] += 1
        assert isinstance(result, np.ndarray)
        assert result.dtype in (np.float32, np.float64)
        if kwargs["out"] is not None:
            assert result is kwargs["out"]


@st.composite
def forward_prop_calls(draw):
    good_widths = st.lists(st.integers(1, 6), min_size=1, max_size=3)
    widths = draw(st.one_of(good_widths, good_widths, st.lists(st.integers(-1, 6), max_size=3),
                            st.sampled_from([(), "4", 5, [2.5], [True, 3], None])))
    weight_init = draw(mostly(
        ["he_normal", "zeros", "orthogonal", "lecun_uniform",
         fastinit.get_initializer("normal", std=0.5), lambda i, o: np.ones((i, o))],
        ["sparse", "nope", None, 3, lambda i, o: np.ones((o, i)), lambda i, o: "x",
         lambda i, o: np.full((i, o), np.nan)]))
    kwargs = {}
    options = {
        "activation": st.sampled_from(["tanh", "relu", "gelu", "sigmoid", "linear", "swish",
                                       None, ["tanh"], ["relu", "tanh", "selu"], 3]),
        "X": st.sampled_from([None, "ones", "huge", "nan", "1d", "empty", "list", "masked"]),
        "batch": st.sampled_from([1, 2, 3, 0, -1, 2.5, None]),
        "input_dim": st.sampled_from([None, 1, 3, 0, -2, 2.5]),
        "rng": RNGS,
        "dtype": DTYPES,
        "bias": st.sampled_from([0.0, 0.1, -1e308, 1e308, math.nan, "normal", "he_normal",
                                 "uniform", None, True, fastinit.get_initializer("ones")]),
        "keep_activations": st.booleans(),
        "bins": st.sampled_from([0, 1, 5, 30, -1, 2.5]),
        "hist_range": st.sampled_from([None, (-1, 1), (1,), (1, 1), (1, 0), (0, math.inf),
                                       "ab", (0.0, 1e-300)]),
        "negative_slope": st.sampled_from([0.01, -1.0, math.nan, "x"]),
        "num_threads": THREADS,
        "block_bytes": st.sampled_from([2**28, 8, 0, -1, 1.5]),
        "backward": st.booleans(),
        "perturbation": st.sampled_from([None, 0.1, 0.0, -1.0, math.nan]),
        "input_correlation": st.sampled_from([None, 0.5, 1.0, -1.0, 1.5]),
    }
    for key, strategy in options.items():
        if draw(st.integers(0, 3)) == 0:
            kwargs[key] = draw(strategy)
    x = kwargs.get("X")
    if x is not None:
        width = draw(st.integers(1, 4))
        kwargs["X"] = {"ones": np.ones((2, width)), "huge": np.full((2, width), 1e200),
                       "nan": np.full((2, width), np.nan), "1d": np.ones(width),
                       "empty": np.ones((0, width)), "list": [[1.0] * width] * 2,
                       "masked": np.ma.masked_array(np.ones((2, width)))}[x]
    if "rng" in kwargs:
        kwargs["rng"] = _rng(kwargs["rng"])
    return widths, weight_init, kwargs


@pytest.mark.parametrize("api", [fastinit, reference], ids=["engine", "reference"])
@FUZZ
@given(forward_prop_calls())
def test_forward_prop_never_crashes(api, call):
    widths, weight_init, kwargs = call
    X = kwargs.get("X")
    before = np.array(X, copy=True) if isinstance(X, np.ndarray) else None
    result = _check_call(lambda: api.forward_prop(widths, weight_init, **kwargs), None)
    if result is not None:
        OUTCOMES["forward_prop"] += 1
        assert len(result.layers) == len(widths)
        for layer in result.layers:
            assert isinstance(layer.std, float) and np.all(layer.hist >= 0)
            assert layer.hist.size == max(layer.bin_edges.size - 1, 0)
    if before is not None:  # X is never modified
        assert np.array_equal(np.asarray(X), before, equal_nan=True)


def test_fuzzing_reached_both_outcomes():
    """Run after the fuzz tests: some fuzzed calls must have succeeded (else the strategies
    only test argument checking)."""
    if not all(OUTCOMES.values()):
        pytest.skip("run with the fuzz tests above")
    assert OUTCOMES["initializer"] >= 20 and OUTCOMES["forward_prop"] >= 10


# -- issue 25: the interop layers (init_module, fastinit.keras, fastinit.jax) -----------------

INTEROP = {"init_module": 0, "keras": 0, "jax": 0}  # calls that returned a result
RULE_VALUES = ODD_VALUES + ["zeros", "orthogonal", "normal:std=0.1", "he_normal", "bogus",
                            "*", np.float32(0.5)]


@pytest.mark.filterwarnings("ignore:Initializing zero-element")
@FUZZ
@given(rules=st.dictionaries(st.sampled_from(["*", "*.bias", "*weight", "0.*", "*.bais",
                                              "running_*", "1"]),
                             st.sampled_from(RULE_VALUES), max_size=3),
       layer=st.sampled_from(["linear", "conv", "norm", "lstmcell", "empty", "meta",
                              "channels_last", "float64"]),
       rng=RNGS)
def test_init_module_never_crashes(rules, layer, rng):
    torch = pytest.importorskip("torch")
    ft = pytest.importorskip("fastinit.torch")
    nn = torch.nn
    makers = {"linear": lambda: nn.Sequential(nn.Linear(5, 3)),
              "conv": lambda: nn.Sequential(nn.Conv2d(2, 4, 3)),
              "norm": lambda: nn.Sequential(nn.BatchNorm1d(4)),
              "lstmcell": lambda: nn.Sequential(nn.LSTMCell(3, 4)),
              "empty": lambda: nn.Sequential(nn.Linear(0, 3)),
              "channels_last": lambda: nn.Sequential(nn.Conv2d(2, 4, 3)).to(
                  memory_format=torch.channels_last),
              "float64": lambda: nn.Sequential(nn.Linear(2, 2).to(torch.float64))}
    if layer == "meta":
        with torch.device("meta"):
            model = nn.Sequential(nn.Linear(5, 3))
    else:
        model = makers[layer]()
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    try:
        ft.init_module(model, rules, rng=_rng(rng))
    except (ValueError, TypeError) as error:
        assert str(error)
        for name, value in model.named_parameters():  # nothing written on a refusal
            if value.device.type == "cpu":
                assert torch.equal(value, before[name]) or value.isnan().any(), name
        return
    INTEROP["init_module"] += 1
    for name, value in model.named_parameters():
        assert torch.isfinite(value).all(), name
    for name, value in model.named_buffers():
        assert torch.isfinite(value.double()).all(), name


KERAS_CLASSES = ["RandomNormal", "RandomUniform", "TruncatedNormal", "VarianceScaling",
                 "HeNormal", "GlorotUniform", "Orthogonal", "Identity", "Constant"]


@FUZZ
@given(name=st.sampled_from(KERAS_CLASSES),
       kwargs=st.dictionaries(st.sampled_from(["mean", "stddev", "minval", "maxval", "scale",
                                               "mode", "distribution", "gain", "value"]),
                              mostly([0.5, 1.0, 2.0, "fan_in", "uniform"], ODD_VALUES),
                              max_size=2),
       shape=SHAPES, seed=mostly([None, 0, 5], ODD_VALUES), dtype=DTYPES)
def test_keras_classes_never_crash(name, kwargs, shape, seed, dtype):
    import inspect
    cls = getattr(fastinit.keras, name)
    accepted = inspect.signature(cls).parameters
    kwargs = {k: v for k, v in kwargs.items() if k in accepted}
    if "seed" in accepted:
        kwargs["seed"] = seed
    try:
        values = cls(**kwargs)(shape, dtype=dtype)
    except (ValueError, TypeError) as error:
        assert not re.search(r"\b(std|low|high|rng)\b", str(error)), error  # Keras's words
        return
    INTEROP["keras"] += 1
    assert isinstance(values, np.ndarray)


@FUZZ
@given(maker=st.sampled_from(["normal", "uniform", "truncated_normal", "he_normal",
                              "orthogonal", "constant"]),
       key=st.sampled_from(["key", "legacy", 0, None, [1, 2], "float", "batched", "three"]),
       shape=SHAPES, scale=mostly([0.5, 1.0], ODD_NUMBERS))
def test_jax_initializers_never_crash(maker, key, shape, scale):
    jax = pytest.importorskip("jax")
    fj = pytest.importorskip("fastinit.jax")
    keys = {"key": jax.random.key(1), "legacy": jax.random.PRNGKey(1),
            "float": np.zeros(2, np.float32),
            "batched": jax.random.split(jax.random.key(0), 3),
            "three": np.zeros(3, np.uint32)}
    key = keys.get(key, key) if isinstance(key, str) else key
    try:
        init = getattr(fj, maker)(scale) if maker not in ("he_normal",) else fj.he_normal()
        values = init(key, shape)
    except (ValueError, TypeError) as error:
        assert str(error)
        return
    INTEROP["jax"] += 1
    assert values.shape == ((shape,) if isinstance(shape, int) else tuple(shape))


def test_interop_fuzzing_reached_results():
    # runs after the three fuzz tests above (pytest keeps file order): each reached a result
    if not any(INTEROP.values()):
        pytest.skip("the interop fuzz tests did not run (torch, keras or jax missing)")
    assert all(INTEROP.values()), INTEROP

"""Every scheme: its formula (from the papers, not from the code), its law, engine == reference
across dtypes, shapes and layouts, the registry and the Generator compat mode."""
import math

import numpy as np
import pytest
from scipy import stats

import fastinit
import fastinit.reference as reference
from fractions import Fraction
from hypothesis import given, settings, strategies as st

DTYPES = ["float64", "float32"]
# (shape, layout, fan_in, fan_out) worked out by hand
SHAPES = [
    ((300, 200), "in_out", 300, 200),
    ((200, 300), "out_in", 300, 200),
    ((3, 5, 16, 32), "in_out", 16 * 15, 32 * 15),   # (kh, kw, in, out)
    ((32, 16, 3, 5), "out_in", 16 * 15, 32 * 15),   # (out, in, kh, kw)
]

# name -> (params, expected variance from fan_in, fan_out); formulas from the papers
VARIANCES = {
    "xavier_uniform": ({}, lambda fi, fo: 2.0 / (fi + fo)),
    "xavier_normal": ({}, lambda fi, fo: 2.0 / (fi + fo)),
    "glorot_normal": ({"gain": 2.0}, lambda fi, fo: 4 * 2.0 / (fi + fo)),
    "he_uniform": ({}, lambda fi, fo: 2.0 / fi),
    "he_normal": ({}, lambda fi, fo: 2.0 / fi),
    "kaiming_normal": ({"mode": "fan_out"}, lambda fi, fo: 2.0 / fo),
    "he_normal_tanh": ({"nonlinearity": "tanh"}, lambda fi, fo: (25 / 9) / fi),
    "he_uniform_leaky": ({"nonlinearity": "leaky_relu", "negative_slope": 0.2},
                         lambda fi, fo: 2.0 / (1 + 0.04) / fi),
    "lecun_uniform": ({}, lambda fi, fo: 1.0 / fi),
    "lecun_normal": ({}, lambda fi, fo: 1.0 / fi),
    "uniform": ({}, lambda fi, fo: 1.0 / (3 * fi)),
    "variance_scaling_tn": ({"scale": 2.0, "mode": "fan_avg"}, lambda fi, fo: 4.0 / (fi + fo)),
    "variance_scaling_u": ({"mode": "fan_out", "distribution": "uniform"}, lambda fi, fo: 1 / fo),
    "variance_scaling_n": ({"scale": 0.5, "distribution": "normal"}, lambda fi, fo: 0.5 / fi),
}


def scheme_of(key):
    return {"he_normal_tanh": "he_normal", "he_uniform_leaky": "he_uniform",
            "variance_scaling_tn": "variance_scaling", "variance_scaling_u": "variance_scaling",
            "variance_scaling_n": "variance_scaling"}.get(key, key)


@pytest.mark.parametrize("key", sorted(VARIANCES))
@pytest.mark.parametrize("shape, layout, fan_in, fan_out", SHAPES)
def test_variance_follows_the_formula(key, shape, layout, fan_in, fan_out):
    params, variance = VARIANCES[key]
    w = getattr(fastinit, scheme_of(key))(shape, layout=layout, rng=0, **params)
    expected = variance(fan_in, fan_out)
    assert w.shape == shape and w.dtype == np.float64
    n = w.size
    # Var of the sample variance is (mu4 - sigma^4)/n, with mu4 = 9/5 sigma^4 for a uniform
    # law and 3 sigma^4 for a normal one (truncated normals lie between): 3.5 standard errors
    kurtosis = 1.8 if "uniform" in key else 3.0
    assert abs(w.var() - expected) < 3.5 * expected * np.sqrt((kurtosis - 1) / n)
    assert abs(w.mean()) < 3.5 * np.sqrt(expected / n)


def test_bounded_schemes_respect_their_limits():
    fan_in, fan_out = 300, 200
    w = fastinit.xavier_uniform((fan_in, fan_out), rng=1, gain=1.5)
    limit = 1.5 * math.sqrt(6 / (fan_in + fan_out))
    assert -limit <= w.min() and w.max() < limit and w.max() > 0.99 * limit
    assert stats.kstest(w.ravel(), stats.uniform(-limit, 2 * limit).cdf).pvalue > 1e-3
    w = fastinit.he_uniform((fan_in, fan_out), rng=1)
    assert np.abs(w).max() < math.sqrt(2) * math.sqrt(3 / fan_in)
    w = fastinit.uniform((fan_in, fan_out), rng=1)
    assert np.abs(w).max() < 1 / math.sqrt(fan_in)


def test_variance_scaling_truncated_normal_is_keras():
    # Keras: stddev = sqrt(scale / fan) / .87962566103423978, truncated at 2 stddev
    assert fastinit.laws.TRUNCATED_2SIGMA_STD == pytest.approx(0.87962566103423978, rel=1e-15)
    assert stats.truncnorm(-2, 2).std() == pytest.approx(0.87962566103423978, rel=1e-12)
    w = fastinit.variance_scaling((1000, 1000), scale=1.0, rng=2)
    s = math.sqrt(1.0 / 1000) / 0.87962566103423978
    assert np.abs(w).max() <= 2 * s
    assert stats.kstest(w.ravel(), stats.truncnorm(-2, 2, scale=s).cdf).pvalue > 1e-3


@pytest.mark.parametrize("std", [0.01, 1.0])
def test_normal_std(std):
    w = fastinit.normal((1000, 1000), std=std, mean=0.5, rng=3)
    assert stats.kstest(w.ravel(), stats.norm(0.5, std).cdf).pvalue > 1e-3


def test_truncated_normal_scheme():
    w = fastinit.truncated_normal((1000, 1000), mean=0.0, std=1.0, a=2.0, b=3.0, rng=4,
                                  dtype="float32")
    assert w.dtype == np.float32 and w.min() >= 2.0 and w.max() <= 3.0
    assert stats.kstest(w.ravel(), stats.truncnorm(2.0, 3.0).cdf).pvalue > 1e-3


def test_constants():
    assert np.array_equal(fastinit.zeros((2, 3)), np.zeros((2, 3)))
    assert np.array_equal(fastinit.ones(4, dtype="float32"), np.ones(4, np.float32))
    assert np.all(fastinit.constant((3, 3), value=-2.5) == -2.5)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, layout", [((64, 64), "in_out"), ((50, 80), "in_out"),
                                           ((80, 50), "out_in"), ((3, 3, 8, 16), "in_out"),
                                           ((16, 8, 3, 3), "out_in")])
def test_orthogonal(shape, layout, dtype):
    w = fastinit.orthogonal(shape, gain=2.0, layout=layout, rng=5, dtype=dtype)
    rows = math.prod(shape[:-1]) if layout == "in_out" else shape[0]
    m = w.reshape(rows, -1).astype(np.float64) / 2.0
    small = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
    tol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(small, np.eye(small.shape[0]), atol=tol)


@pytest.mark.parametrize("api", [fastinit, reference], ids=["engine", "reference"])
@pytest.mark.parametrize("shape", [(600, 600), (1000, 300), (300, 1000)])
def test_orthogonal_is_the_same_bytes_whatever_blas_threads_it_finds(api, shape):
    # OpenBLAS's threaded calls round differently for 1 and 2 threads (a 600 x 600 float32 QR
    # differed by 1e-6 before the QR ran on one BLAS thread): the same seed must give the
    # same weight on a one-core machine, under OPENBLAS_NUM_THREADS=1, or beside a user's
    # threadpool_limits
    from threadpoolctl import threadpool_limits
    weights = []
    for threads in (1, 2):
        with threadpool_limits(threads, user_api="blas"):
            weights.append(api.orthogonal(shape, rng=1, dtype="float32"))
    assert np.array_equal(weights[0].view(np.uint32), weights[1].view(np.uint32))


def test_orthogonal_is_haar_distributed():
    # for Haar Q (n x n), sqrt(n) * Q[0, 0] tends to N(0, 1), and diag(R) sign correction
    # removes the bias QR alone has towards positive diagonals
    first = np.array([fastinit.orthogonal((30, 30), rng=s)[0, 0] for s in range(2000)])
    assert abs(first.mean()) < 5 * first.std() / np.sqrt(first.size)
    assert stats.kstest(first * np.sqrt(30), "norm").pvalue > 1e-3


def test_identity():
    np.testing.assert_array_equal(fastinit.identity((3, 4), gain=2.0), 2.0 * np.eye(3, 4))
    with pytest.raises(ValueError, match="2-D"):
        fastinit.identity((2, 2, 2))


def correlate(x, w_out_in, groups):
    """'same' cross-correlation of x (C, H, W) with w (out, in/groups, kh, kw), grouped."""
    out_ch, per_in, kh, kw = w_out_in.shape
    padded = np.pad(x, ((0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (kh, kw), axis=(1, 2))
    per_out = out_ch // groups
    y = np.empty((out_ch,) + x.shape[1:])
    for o in range(out_ch):
        g = o // per_out
        patch = windows[g * per_in:(g + 1) * per_in]
        y[o] = np.einsum("chwij,cij->hw", patch, w_out_in[o])
    return y


@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("layout", ["out_in", "in_out"])
def test_dirac_convolution_copies_its_input(groups, layout):
    channels, per_in = 4, 4 // groups
    x = np.random.default_rng(0).standard_normal((channels, 6, 7))
    shape = (channels, per_in, 3, 5) if layout == "out_in" else (3, 5, per_in, channels)
    w = fastinit.dirac(shape, groups=groups, layout=layout)
    w_out_in = w if layout == "out_in" else np.transpose(w, (3, 2, 0, 1))
    np.testing.assert_array_equal(correlate(x, w_out_in, groups), x)


@pytest.mark.parametrize("shape", [(6, 4, 3), (6, 4, 3, 3, 3)])
def test_dirac_3d_and_5d(shape):
    w = fastinit.dirac(shape, groups=2, layout="out_in")
    assert w.sum() == 2 * min(3, 4)
    center = tuple(k // 2 for k in shape[2:])
    assert w[(4, 1) + center] == 1.0


@pytest.mark.parametrize("layout", ["in_out", "out_in"])
@pytest.mark.parametrize("sparsity", [0.0, 0.1, 0.3, 1.0])
def test_sparse_zeros_follow_torch(sparsity, layout):
    # torch.nn.init.sparse_ on a (rows, cols) = (out, in) tensor zeros ceil(sparsity * rows)
    # entries in every column; in_out is the same pattern transposed
    fan_in, fan_out = 40, 10
    shape = (fan_in, fan_out) if layout == "in_out" else (fan_out, fan_in)
    w = fastinit.sparse(shape, sparsity=sparsity, std=0.5, layout=layout, rng=6)
    torch_layout = w.T if layout == "in_out" else w  # (rows, cols) = (out, in)
    expected_zeros = {0.0: 0, 0.1: 1, 0.3: 3, 1.0: 10}[sparsity]
    assert ((torch_layout == 0).sum(axis=0) == expected_zeros).all()


def test_sparse_positions_vary_and_values_are_normal():
    w = fastinit.sparse((500, 1000), sparsity=0.5, std=0.2, rng=7)
    zero = w == 0
    assert len({zero[i].tobytes() for i in range(500)}) == 500
    # each output unit is zeroed for a Binomial(500, 1/2) number of inputs
    assert np.abs(zero.sum(axis=0) - 250).max() < 5 * np.sqrt(500 * 0.25)
    values = w[w != 0]
    assert stats.kstest(values, stats.norm(0, 0.2).cdf).pvalue > 1e-3


@pytest.mark.parametrize("gain", [0.0, -0.0])
def test_a_bound_of_zero_gives_zeros(gain):
    """U(-0, 0) is the constant 0 (torch.nn.init.xavier_uniform_(w, gain=0) zeroes w)."""
    w = fastinit.xavier_uniform((30, 20), gain=gain, rng=0)
    assert w.shape == (30, 20) and not np.any(w)


def test_compute_fans_and_gains():
    assert fastinit.compute_fans((5, 7)) == (5, 7)
    assert fastinit.compute_fans((5, 7), layout="out_in") == (7, 5)
    assert fastinit.compute_fans((3, 3, 4, 8)) == (36, 72)
    assert fastinit.compute_fans((8, 4, 3, 3), layout="out_in") == (36, 72)
    assert fastinit.compute_fans((2, 3, 4, 5, 6)) == (2 * 3 * 4 * 5, 2 * 3 * 4 * 6)
    gain = fastinit.calculate_gain
    assert gain("linear") == gain("conv2d") == gain("sigmoid") == 1.0
    assert gain("tanh") == pytest.approx(5 / 3)
    assert gain("relu") == pytest.approx(math.sqrt(2))
    assert gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert gain("selu") == pytest.approx(0.75)


SCHEME_CALLS = [
    ("zeros", {}), ("ones", {}), ("constant", {"value": 0.3}), ("uniform", {}),
    ("uniform", {"low": -2.0, "high": 5.0}), ("normal", {"std": 0.01}),
    ("truncated_normal", {"std": 0.5, "a": -0.2, "b": 1.0}), ("xavier_uniform", {}),
    ("xavier_normal", {}), ("he_uniform", {}), ("he_normal", {"mode": "fan_out"}),
    ("lecun_uniform", {}), ("lecun_normal", {}), ("variance_scaling", {}),
    ("variance_scaling", {"distribution": "uniform"}), ("orthogonal", {}),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, layout", [((120, 90), "in_out"), ((3, 3, 16, 24), "in_out"),
                                           ((24, 16, 3, 3), "out_in")])
@pytest.mark.parametrize("name, params", SCHEME_CALLS, ids=lambda v: str(v))
def test_engine_equals_reference(name, params, shape, layout, dtype):
    kwargs = dict(params, rng=np.random.SeedSequence(77), dtype=dtype)
    if name not in ("zeros", "ones", "constant", "normal", "truncated_normal"):
        kwargs["layout"] = layout
    engine = getattr(fastinit, name)(shape, **kwargs)
    ref = getattr(reference, name)(shape, **kwargs)
    assert engine.dtype == ref.dtype == np.dtype(dtype)
    if name in ("normal", "truncated_normal", "xavier_normal", "he_normal", "lecun_normal",
                "variance_scaling") and dtype == "float64":
        np.testing.assert_allclose(engine, ref, rtol=1e-12, atol=0)
    elif name == "orthogonal":
        np.testing.assert_allclose(engine, ref, rtol=0, atol=1e-10 if dtype == "float64" else 0)
    else:
        np.testing.assert_array_equal(engine, ref)


@pytest.mark.parametrize("dtype", DTYPES)
def test_engine_equals_reference_structured(dtype):
    ss = np.random.SeedSequence(8)
    for name, shape, params in [("sparse", (40, 30), {"sparsity": 0.25}),
                                ("identity", (5, 6), {}),
                                ("dirac", (3, 3, 4, 4), {"groups": 2})]:
        np.testing.assert_array_equal(
            getattr(fastinit, name)(shape, rng=ss, dtype=dtype, **params),
            getattr(reference, name)(shape, rng=ss, dtype=dtype, **params))


def test_out_is_filled_in_place_and_returned():
    buf = np.empty((64, 32), np.float32)
    result = fastinit.he_normal(out=buf, rng=1)
    assert result is buf
    assert np.array_equal(buf, fastinit.he_normal((64, 32), rng=1, dtype="float32"))


def test_same_seed_same_weights_different_seed_different():
    a = fastinit.xavier_normal((50, 50), rng=1)
    assert np.array_equal(a, fastinit.xavier_normal((50, 50), rng=np.random.SeedSequence(1)))
    assert not np.array_equal(a, fastinit.xavier_normal((50, 50), rng=2))
    assert not np.array_equal(fastinit.normal(10), fastinit.normal(10))  # rng=None: fresh


def test_generator_compat_mode_draws_what_the_generator_draws():
    s = 0.37
    got = fastinit.normal((40, 50), std=s, rng=np.random.default_rng(12))
    assert np.array_equal(got, np.random.default_rng(12).standard_normal((40, 50)) * s)
    got = fastinit.uniform((40, 50), low=-1.0, high=3.0, rng=np.random.default_rng(13))
    assert np.array_equal(got, np.random.default_rng(13).random((40, 50)) * 4.0 - 1.0)
    got = fastinit.he_normal((40, 50), rng=np.random.default_rng(14))
    expected = np.random.default_rng(14).standard_normal((40, 50)) * math.sqrt(2 / 40)
    assert np.array_equal(got, expected)
    # a Generator advances: two draws differ, and the reference does the same thing
    g = np.random.default_rng(15)
    assert not np.array_equal(fastinit.normal(5, rng=g), fastinit.normal(5, rng=g))
    assert np.array_equal(fastinit.orthogonal((8, 8), rng=np.random.default_rng(3)),
                          reference.orthogonal((8, 8), rng=np.random.default_rng(3)))


def test_generator_compat_truncated_normal_is_exact():
    w = fastinit.truncated_normal(10**6, a=2.0, b=3.0, rng=np.random.default_rng(16))
    assert w.min() >= 2.0 and w.max() <= 3.0
    assert stats.kstest(w, stats.truncnorm(2.0, 3.0).cdf).pvalue > 1e-3


def test_registry():
    init = fastinit.get_initializer("kaiming_normal", mode="fan_out")
    assert init.name == "he_normal" and init.params == {"mode": "fan_out"}
    assert np.array_equal(init((20, 30), rng=4), fastinit.he_normal((20, 30), mode="fan_out",
                                                                    rng=4))
    ref_init = reference.get_initializer("he_normal", mode="fan_out")
    np.testing.assert_allclose(ref_init((20, 30), rng=4), init((20, 30), rng=4), rtol=1e-12)
    assert "he_normal" in repr(init)
    with pytest.raises(ValueError, match="valid names: .*xavier_normal"):
        fastinit.get_initializer("xavier")
    with pytest.raises(TypeError, match="'std'"):
        fastinit.get_initializer("xavier_normal", std=1.0)


# each scheme's law as its docstring must state it (written here, from the papers and the
# PyTorch/Keras documentation, not read from the package)
FORMULAS = {
    "constant": "W = value", "zeros": "W = 0", "ones": "W = 1.",
    "uniform": "U[-1/sqrt(fan_in), 1/sqrt(fan_in))",
    "normal": "W ~ N(mean, std^2)",
    "truncated_normal": "conditioned on a <= W <= b",
    "xavier_uniform": "l = gain * sqrt(6 / (fan_in + fan_out))",
    "xavier_normal": "s = gain * sqrt(2 / (fan_in + fan_out))",
    "he_uniform": "l = gain * sqrt(3 / fan)",
    "he_normal": "s = gain / sqrt(fan)",
    "lecun_uniform": "l = sqrt(3 / fan_in)",
    "lecun_normal": "W ~ N(0, 1 / fan_in)",
    "variance_scaling": "s = sqrt(scale / fan) / 0.87962566103423978",
    "orthogonal": "W = gain * Q",
    "identity": "W = gain * I",
    "dirac": "W[center, i, i] = 1",
    "sparse": "ceil(sparsity * fan_out)",
}


def test_every_scheme_has_its_formula_documented():
    assert sorted(FORMULAS) == sorted(fastinit.initializers.SCHEMES)
    for name, formula in FORMULAS.items():
        raw = getattr(fastinit, name).__doc__
        doc = " ".join(raw.split())  # lines joined
        assert formula in doc, name
        # the scheme's own text first, then one numpydoc Parameters section with every one
        assert not raw[0].isspace() and raw.count("Parameters\n    -----") == 1, name
        assert doc.index(formula) < doc.index("Parameters ----------"), name
        assert "seed : None, int" in doc and "region : tuple of slices" in doc, name


SENTINEL = 123.0


# The defects found by fuzzing and independent validation (issue 10), by section.

# -- values inside their interval -------------------------------------------------------------

@pytest.mark.parametrize("a, b", [(1.00000001, 1.00000002), (1e-46, 2e-46)])
def test_float32_truncated_normal_without_a_float32_in_the_interval(api, a, b):
    out = np.full(5, SENTINEL, np.float32)
    with pytest.raises(ValueError, match="no float32 value"):
        api.truncated_normal(out=out, a=a, b=b, rng=0)
    assert np.all(out == SENTINEL)
    assert api.truncated_normal((5,), a=a, b=b, rng=0).dtype == np.float64  # float64 has one


def test_float32_uniform_stays_at_or_above_low(api):
    w = api.uniform((10**7,), low=-0.1, high=0.1, dtype="float32", rng=3).astype(np.float64)
    assert w.min() >= -0.1 and w.max() < 0.1


def test_float32_uniform_never_reaches_high(api):
    w = api.uniform((10**5,), low=1.0, high=1.0000001, dtype="float32", rng=0)
    assert np.all(w.astype(np.float64) < 1.0000001) and np.all(w == 1.0)


def test_uniform_in_compat_mode_is_clamped_too():
    w = fastinit.uniform((10**5,), low=1.0, high=1.0000001, dtype="float32",
                         rng=np.random.default_rng(0))
    assert np.all(w == 1.0)


@pytest.mark.parametrize("call", [
    lambda f, out: f.normal(out=out, std=1e300),
    lambda f, out: f.normal(out=out, mean=-1e39),
    lambda f, out: f.uniform(out=out, low=-1e300, high=1e300),
    lambda f, out: f.truncated_normal(out=out, std=1e300),
    lambda f, out: f.constant(out=out, value=1e39),
])
def test_parameters_that_overflow_float32_are_refused(api, call):
    out = np.full(4, SENTINEL, np.float32)
    with pytest.raises(ValueError, match="not representable in float32"):
        call(api, out)
    assert np.all(out == SENTINEL)


# -- Keras's variance_scaling -----------------------------------------------------------------

def test_variance_scaling_normal_is_keras_truncated_normal(api):
    shape = (300, 200)
    normal = api.variance_scaling(shape, scale=2.0, distribution="normal", rng=5)
    truncated = api.variance_scaling(shape, scale=2.0, distribution="truncated_normal", rng=5)
    assert np.array_equal(normal, truncated)
    # Keras: stddev = sqrt(scale / fan_in) / .87962566103423978, cut at 2 stddev
    std = math.sqrt(2.0 / 300) / 0.87962566103423978
    assert np.abs(normal).max() <= 2 * std
    untruncated = api.variance_scaling(shape, scale=2.0, distribution="untruncated_normal",
                                       rng=5)
    assert np.abs(untruncated).max() > 2 * std
    assert np.array_equal(untruncated, api.normal(shape, std=math.sqrt(2.0 / 300), rng=5))


# -- torch's sparse counts --------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(rows=st.integers(1, 23), cols=st.integers(1, 23),
       sparsity=st.sampled_from([0.0, 0.1, 0.15, 0.3, 1 / 3, 0.37, 0.5, 0.7, 0.99, 1.0]),
       layout=st.sampled_from(["in_out", "out_in"]))
def test_sparse_zero_counts_follow_torchs_rule(rows, cols, sparsity, layout):
    # torch.nn.init.sparse_ on a (rows, cols) tensor: ceil(sparsity * rows) zeros per column
    # (the decimal as written: 0.3 of 10 is 3); in_out holds the transpose of that tensor
    shape = (rows, cols) if layout == "out_in" else (cols, rows)
    w = fastinit.sparse(shape, sparsity=sparsity, std=1.0, layout=layout, rng=1)
    torch_tensor = w if layout == "out_in" else w.T
    expected = math.ceil(Fraction(repr(sparsity)) * rows)
    assert ((torch_tensor == 0).sum(axis=0) == expected).all()


# -- an Initializer's law: layouts, fans of one, PyTorch's leaky_relu default -----------------

def test_an_initializers_law_reads_the_layout_asked_for_unless_its_own_params_fix_one():
    """Initializer.law(shape, layout=...): torch's (out, in) weight of Linear(784, 16) has
    fan_in 784; the layout is part of the cache key (the same shape read both ways), and an
    initializer made with layout= keeps it."""
    init = fastinit.get_initializer("he_normal")
    assert init.law((16, 784)).std == pytest.approx(math.sqrt(2 / 16))  # in_out: fan_in 16
    assert init.law((16, 784), layout="out_in").std == pytest.approx(math.sqrt(2 / 784))
    assert init.law((16, 784)).std == pytest.approx(math.sqrt(2 / 16))
    fixed = fastinit.get_initializer("he_normal", layout="in_out")
    assert fixed.law((16, 784), layout="out_in").std == pytest.approx(math.sqrt(2 / 16))
    plain = fastinit.get_initializer("normal", std=0.3)  # no layout parameter: ignored
    assert plain.law((16, 784), layout="out_in").std == 0.3


@pytest.mark.parametrize("shape, mode, fan", [((1, 5), "fan_out", 5), ((5, 1), "fan_in", 5),
                                              ((1, 1), "fan_in", 1), ((1, 7), "fan_avg", 4)])
def test_a_fan_of_one_is_a_fan(api, shape, mode, fan):
    std = api.get_initializer("variance_scaling", mode=mode, distribution="untruncated_normal")
    assert std.law(shape).std == pytest.approx(math.sqrt(1 / fan))


def test_he_with_leaky_relu_and_no_slope_is_torchs_a_zero(api):
    """torch.nn.init.kaiming_normal_(w, nonlinearity="leaky_relu") takes a=0: gain sqrt(2)."""
    for name in ("he_normal", "he_uniform"):
        law = api.get_initializer(name, nonlinearity="leaky_relu").law((400, 30))
        std = law.std if hasattr(law, "std") else (law.high - law.low) / math.sqrt(12)
        assert std == pytest.approx(math.sqrt(2 / 400))


def test_draw_law_draws_a_truncated_normal_with_all_four_parameters():
    """initializers.draw_law (the Keras and JAX front ends' path) gives the scheme's values."""
    from fastinit.initializers import draw_law
    from fastinit.laws import TruncatedNormal
    law = TruncatedNormal(mean=0.5, std=2.0, a=-1.0, b=4.0)
    expected = fastinit.truncated_normal((50, 40), mean=0.5, std=2.0, a=-1.0, b=4.0, rng=3)
    drawn = draw_law(law, (50, 40), rng=3)
    np.testing.assert_array_equal(drawn, expected)
    assert drawn.min() >= -1.0 and drawn.max() <= 4.0 and drawn.min() < -0.5

"""Bad input: a ValueError or TypeError naming the argument, raised before anything is written."""
import math
import re
import subprocess
import sys

import numpy as np
import pytest

import fastinit
import fastinit.reference
from fastinit import _openmp

SENTINEL = 123.0


@pytest.mark.parametrize("call, error, match", [
    (lambda f: f.he_normal((-1, 5)), ValueError, "shape"),
    (lambda f: f.normal((2.5, 3)), TypeError, "shape"),
    (lambda f: f.normal((True, 3)), TypeError, "shape"),
    (lambda f: f.normal("big"), TypeError, "shape"),
    (lambda f: f.normal((2**40, 2**40)), ValueError, "too many elements"),
    (lambda f: f.he_normal((5,)), ValueError, "at least 2 dimensions"),
    (lambda f: f.he_normal((5, 5), nonlinearity="swish"), ValueError, "nonlinearity"),
    (lambda f: f.he_normal((5, 5), mode="fan_mid"), ValueError, "mode"),
    (lambda f: f.he_normal((5, 5), layout="io"), ValueError, "layout"),
    (lambda f: f.variance_scaling((5, 5), distribution="cauchy"), ValueError, "distribution"),
    (lambda f: f.variance_scaling((5, 5), scale=0.0), ValueError, "scale"),
    (lambda f: f.normal((5, 5), std=float("nan")), ValueError, "std"),
    (lambda f: f.normal((5, 5), std=float("inf")), ValueError, "std"),
    (lambda f: f.normal((5, 5), std=-1.0), ValueError, "std"),
    (lambda f: f.normal((5, 5), std="1"), TypeError, "std"),
    (lambda f: f.normal((5, 5), mean=float("nan")), ValueError, "mean"),
    (lambda f: f.uniform((5, 5), low=1.0, high=1.0), ValueError, "low must be < high"),
    (lambda f: f.uniform((5, 5), low=2.0, high=1.0), ValueError, "low must be < high"),
    (lambda f: f.uniform((5, 5), low=1.0), TypeError, "both low and high"),
    (lambda f: f.truncated_normal((5, 5), a=1.0, b=1.0), ValueError, "a must be < b"),
    (lambda f: f.truncated_normal((5, 5), a=float("nan")), ValueError, "a must be finite"),
    (lambda f: f.truncated_normal((5, 5), std=0.0), ValueError, "std"),
    (lambda f: f.sparse((5, 5), sparsity=1.5), ValueError, "sparsity"),
    (lambda f: f.sparse((5, 5, 5), sparsity=0.5), ValueError, "2-D"),
    (lambda f: f.dirac((4, 4, 3), groups=3, layout="out_in"), ValueError, "groups"),
    (lambda f: f.dirac((4, 4)), ValueError, "3-, 4- or 5-D"),
    (lambda f: f.orthogonal((5,)), ValueError, "2 dimensions"),
    (lambda f: f.normal((5, 5), dtype="int16"), TypeError, "dtype"),
    (lambda f: f.normal((5, 5), dtype=int), TypeError, "dtype"),
    (lambda f: f.normal((5, 5), rng=1.5), TypeError, "rng"),
    (lambda f: f.normal((5, 5), rng=-3), ValueError, "rng"),
    (lambda f: f.normal((5, 5), rng=np.random.RandomState(0)), TypeError, "rng"),
    (lambda f: f.normal((5, 5), num_threads=0), ValueError, "num_threads"),
    (lambda f: f.normal((5, 5), num_threads=1.5), TypeError, "num_threads"),
    (lambda f: f.normal(), TypeError, "shape or an out"),
    (lambda f: f.get_initializer("he"), ValueError, "valid names"),
    (lambda f: f.calculate_gain("leaky_relu", "x"), TypeError, "param"),
    (lambda f: f.Stream(np.random.default_rng(0)), TypeError, "rng"),
])
def test_bad_argument_is_named(api, call, error, match):
    with pytest.raises(error, match=match):
        call(api)


@pytest.mark.parametrize("make_out, error, match", [
    (lambda: np.full((4, 6), SENTINEL, np.float64)[:, ::2], ValueError, "C-contiguous"),
    (lambda: np.full((4, 3), 1, np.int64), TypeError, "dtype"),
    (lambda: [[0.0] * 3] * 4, TypeError, "numpy.ndarray"),
])
def test_bad_out_is_refused(api, make_out, error, match):
    with pytest.raises(error, match=match):
        api.normal(out=make_out())


def test_read_only_out_is_refused(api):
    out = np.full((4, 3), SENTINEL)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        api.he_normal(out=out)


@pytest.mark.parametrize("call", [
    lambda f, out: f.normal(out=out, std=-1.0),
    lambda f, out: f.normal((4, 4), out=out),
    lambda f, out: f.normal(out=out, dtype="float32"),
    lambda f, out: f.truncated_normal(out=out, a=3.0, b=2.0),
    lambda f, out: f.he_normal(out=out, nonlinearity="nope"),
    lambda f, out: f.orthogonal(out=out, gain=float("nan")),
    lambda f, out: f.sparse(out=out, sparsity=2.0),
    lambda f, out: f.identity(out=out, gain="2"),
    lambda f, out: f.uniform(out=out, rng="seed"),
])
def test_nothing_is_written_on_error(api, call):
    out = np.full((4, 3), SENTINEL)
    with pytest.raises((ValueError, TypeError)):
        call(api, out)
    assert np.all(out == SENTINEL)


def test_empty_shapes_without_fans_return_empty_arrays(api):
    assert api.normal((0, 5)).shape == (0, 5)
    assert api.uniform((3, 0), low=0.0, high=1.0).shape == (3, 0)
    assert api.truncated_normal(0).shape == (0,)
    assert api.orthogonal((0, 4)).shape == (0, 4)


def test_stream_offsets_are_checked(api):
    with pytest.raises(ValueError, match="offset"):
        api.Stream(0).normal(np.empty(3), offset=-1)
    with pytest.raises(TypeError, match="law"):
        api.Stream(0).fill(np.empty(3), "normal")


def test_effective_num_threads():
    assert _openmp.effective_num_threads(3) == (3 if _openmp.openmp_enabled() else 1)
    with pytest.raises(TypeError):
        _openmp.effective_num_threads(True)


def test_show_config_and_version_command(capsys, tmp_path):
    fastinit.show_config()
    text = capsys.readouterr().out
    assert fastinit.__version__ in text and "openmp" in text and "threads" in text
    result = subprocess.run([sys.executable, "-m", "fastinit", "--version"], capture_output=True,
                            text=True, check=True, cwd=tmp_path)
    assert "openmp" in result.stdout and fastinit.__version__ in result.stdout


def test_a_constant_too_big_for_the_dtype_is_named():
    with pytest.raises(ValueError, match=r"value=1e\+300 is not representable in float32"):
        fastinit.constant((2,), value=1e300, dtype="float32")
    with pytest.raises(ValueError, match=r"value=100000.0 is not representable in float16"):
        fastinit.constant((2,), value=1e5, dtype="float16")


# -- issue 25: results that overflow the dtype are errors naming the user's argument ----------

@pytest.mark.parametrize("call, name", [
    (lambda f, out: f.orthogonal(out=out, gain=1e39), "gain=1e+39"),
    (lambda f, out: f.normal(out=out, std=3e38), "std=3e+38"),
    (lambda f, out: f.normal(out=out, std=1e37, mean=3.3e38), "std=1e+37"),
    (lambda f, out: f.xavier_normal(out=out, gain=1e300), "gain=1e+300"),
    (lambda f, out: f.xavier_uniform(out=out, gain=1e300), "gain=1e+300"),
    (lambda f, out: f.variance_scaling(out=out, scale=1e300), "scale=1e+300"),
])
@pytest.mark.parametrize("api", [fastinit, fastinit.reference], ids=["engine", "reference"])
def test_a_result_beyond_float32_is_an_error_naming_the_argument(api, call, name):
    out = np.full((3, 3), SENTINEL, np.float32)
    with pytest.raises(ValueError, match=r"^" + re.escape(name)):
        call(api, out)
    assert (out == SENTINEL).all()


def test_identity_gain_beyond_float16_and_normal_at_the_edge():
    out = np.full((3, 3), SENTINEL, np.float16)
    with pytest.raises(ValueError, match=r"gain=100000\.0 is not representable in float16"):
        fastinit.identity(out=out, gain=1e5)
    assert (out == SENTINEL).all()
    # the largest std whose every draw fits float32 (|z| <= 13.71) fills finite values
    w = fastinit.normal((10**6,), std=3.4e38 / 13.8, dtype="float32", rng=0)
    assert np.isfinite(w).all()


def test_huge_slopes_give_a_gain_not_an_overflow():
    assert fastinit.calculate_gain("leaky_relu", 1e200) == pytest.approx(math.sqrt(2) * 1e-200)
    assert fastinit.calculate_gain("leaky_relu", -1e300) == pytest.approx(math.sqrt(2) * 1e-300)
    w = fastinit.he_uniform((3, 3), a=1e200, rng=0)  # U(+-sqrt(2/(1+a^2)) sqrt(3/3))
    assert np.isfinite(w).all() and 0 < np.abs(w).max() <= math.sqrt(2) * 1e-200


@pytest.mark.parametrize("api", [fastinit, fastinit.reference], ids=["engine", "reference"])
def test_forward_prop_arguments_the_reference_checked_too_loosely(api):
    with pytest.raises(ValueError, match="block_bytes must be positive, got -1"):
        api.forward_prop([8], "he_normal", rng=0, block_bytes=-1)
    with pytest.raises(TypeError, match="hidden_layer_sizes must be a sequence.*got dict"):
        api.forward_prop({8: 1}, "he_normal", rng=0)
    with pytest.raises(TypeError, match="hidden_layer_sizes must be a sequence.*got set"):
        api.forward_prop({8}, "he_normal", rng=0)

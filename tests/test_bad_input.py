"""Bad input: a ValueError or TypeError naming the argument, raised before anything is written."""
import math
import re
import subprocess
import sys

import numpy as np
import pytest

import fastinit
import fastinit.reference
from fastinit._kernels import openmp as _openmp
from conftest import fastinit_cli

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


# The defects found by fuzzing and independent validation (issue 10), by section.

# -- dtype ------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["flaot32", "float", "i2", np.int32, "f2"])
def test_a_misspelled_dtype_is_an_error(api, dtype):
    if dtype == "float":  # np.dtype("float") is float64: a valid spelling
        assert api.normal((2, 2), rng=0, dtype=dtype).dtype == np.float64
        return
    if dtype == "f2":  # float16: a fill's dtype (tests/test_half.py), not a network's
        assert api.normal((2, 2), rng=0, dtype=dtype).dtype == np.float16
        with pytest.raises(TypeError, match="dtype"):
            api.forward_prop([4], "he_normal", batch=2, rng=0, dtype=dtype)
        return
    with pytest.raises(TypeError, match="dtype"):
        api.normal((2, 2), rng=0, dtype=dtype)
    with pytest.raises(TypeError, match="dtype"):
        api.forward_prop([4], "he_normal", batch=2, rng=0, dtype=dtype)


# -- clear errors -----------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, match", [
    (lambda f: f.normal(out=np.matrix(np.full((2, 2), SENTINEL))), TypeError, "subclass"),
    (lambda f: f.orthogonal(out=np.matrix(np.full((2, 2), SENTINEL))), TypeError, "subclass"),
    (lambda f: f.normal(out=np.ma.masked_array(np.full((2, 2), SENTINEL))), TypeError,
     "subclass"),
    (lambda f: f.he_normal((4, 4), nonlinearity=["relu"]), ValueError, "nonlinearity"),
    (lambda f: f.calculate_gain(["relu"]), ValueError, "nonlinearity"),
    (lambda f: f.forward_prop([4], "he_normal", batch=2, hist_range=(1,)), ValueError,
     "hist_range"),
    (lambda f: f.forward_prop([4], "he_normal", batch=2, hist_range=(1.0, 1.0 + 1e-15)),
     ValueError, "hist_range"),
    (lambda f: f.forward_prop([4], "he_normal", batch=2, activation=None), TypeError,
     "activation"),
    (lambda f: f.forward_prop([4], "he_normal", batch=2, activation=[None]), ValueError,
     "activation"),
    (lambda f: f.identity((3, 3), rng=-1), ValueError, "rng"),
    (lambda f: f.dirac((3, 3, 3), rng=-1), ValueError, "rng"),
    (lambda f: f.identity((3, 3), num_threads=0), ValueError, "num_threads"),
    (lambda f: f.dirac((3, 3, 3), num_threads=0), ValueError, "num_threads"),
    (lambda f: f.compute_fans((-5, 3)), ValueError, "non-negative"),
    (lambda f: f.compute_fans((5.5, 3)), TypeError, "integer"),
    (lambda f: f.kaiming_normal(np.zeros((4, 3))), TypeError, "out="),
    (lambda f: f.forward_prop([4], "he_normal", X=np.ma.masked_array(np.ones((2, 4)),
                                                                     mask=[[1, 0, 0, 0]] * 2)),
     TypeError, "mask"),
])
def test_unclear_errors_now_name_the_argument(api, call, error, match):
    with pytest.raises(error, match=match):
        call(api)


def test_orthogonal_does_not_write_into_a_matrix(api):
    out = np.matrix(np.full((3, 3), SENTINEL))
    with pytest.raises(TypeError):
        api.orthogonal(out=out, rng=0)
    assert np.all(out == SENTINEL)


def test_dirac_with_an_empty_out(api):
    for shape in [(0, 3, 3), (3, 0, 3), (0, 0, 0)]:
        assert api.dirac(out=np.empty(shape)).shape == shape


def test_child_of_an_int_seed():
    assert fastinit.child(5, 1).spawn_key == (1,)
    assert fastinit.child(5, 1).entropy == 5
    with pytest.raises(TypeError, match="ss"):
        fastinit.child(np.random.default_rng(0), 1)
    with pytest.raises(ValueError, match="index"):
        fastinit.child(5, -1)


@pytest.mark.parametrize("args", [
    ["sweep", "--init", "zeros", "--out", "{tmp}/x.csv", "--threads", "0"],
    ["sweep", "--init", "zeros", "--out", "{tmp}/x.csv", "--threads", "-1"],
    ["bench", "--depth", "0"],
    ["bench", "--batch", "0"],
    ["demo", "--seed", "-1", "--out", "{tmp}/demo"],
    ["sweep", "--init", "zeros", "--out", "/nonexistent/dir/x.csv"],
    ["run", "--layers", "8x2", "--plot", "/nonexistent/dir/x.png"],
    ["sweep", "--init", "zeros", "--out", "{tmp}/x.csv", "--plot", "/nonexistent/dir/x.png"],
    ["phase", "--grid", "100000"],
])
def test_cli_usage_errors_exit_2_with_one_line(tmp_path, args):
    result = fastinit_cli(*(a.format(tmp=tmp_path) for a in args), check=False)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert "x.csv.tmp" not in result.stderr
    assert not (tmp_path / "x.csv").exists()


def test_cli_missing_out_folder_names_the_file_not_a_temporary(tmp_path):
    result = fastinit_cli("sweep", "--init", "zeros", "--out", "/nonexistent/dir/x.csv", check=False)
    assert "/nonexistent/dir" in result.stderr and ".tmp" not in result.stderr


@pytest.mark.parametrize("returned, error, message", [
    (lambda fi, fo: [[0.1] * fo] * fi, TypeError,
     r"weight_init returned list for layer 1; it must return a numpy.ndarray"),
    (lambda fi, fo: np.full((fi, fo), "a"), TypeError,
     r"weight_init returned dtype <U1 for layer 1"),
    (lambda fi, fo: np.full((fi, fo), 1 + 1j), TypeError,
     r"weight_init returned dtype complex128 for layer 1"),
])
def test_a_callable_returning_no_real_matrix_is_named(api, returned, error, message):
    with pytest.raises(error, match=message):
        api.forward_prop([3, 3], returned, batch=4, rng=0)


def test_a_callable_s_integer_matrix_is_used_in_the_network_dtype(api):
    result = api.forward_prop([3], lambda fi, fo: np.ones((fi, fo), np.int64), batch=4,
                              X=np.ones((4, 2), np.float32), dtype="float32", rng=0)
    assert result.acts[0].dtype == np.float32
    np.testing.assert_allclose(result.acts[0], np.tanh(2.0), rtol=1e-6)


def test_a_callable_s_float32_matrix_is_used_in_a_float64_network(api):
    eye = lambda fi, fo: np.eye(fi, fo, dtype=np.float32)  # noqa: E731
    result = api.forward_prop([3], eye, activation="linear", X=np.full((2, 3), 0.1), rng=0)
    assert result.acts[0].dtype == np.float64
    np.testing.assert_array_equal(result.acts[0], np.full((2, 3), 0.1))


@pytest.mark.parametrize("keep", [False, True])
def test_a_correlated_run_keeps_activations_only_when_asked(api, keep):
    result = api.forward_prop([20, 20], "lecun_normal", batch=30, rng=1,
                              input_correlation=0.5, keep_activations=keep)
    assert len(result.acts) == (2 if keep else 0)
    assert all(0 < s.correlation < 1 for s in result.layers)


# -- forward_prop's messages, word for word ----------------------------------------------------
# Each argument's error starts with the argument's name as the user wrote it, then says what
# was wrong and what was given (README: "Bad input"); the patterns are anchored so a message
# that lost or changed its name, its case or its value fails.

def _fp(**kwargs):
    args = {"batch": 2, "rng": 0, **kwargs}
    sizes, init = args.pop("sizes", [4]), args.pop("init", "he_normal")
    return lambda f: f.forward_prop(sizes, init, **args)


@pytest.mark.parametrize("call, error, message", [
    (_fp(batch="2"), TypeError, "batch must be an integer, got '2'"),
    (_fp(batch=0), ValueError, "batch must be positive, got 0"),
    (_fp(input_dim="3"), TypeError, "input_dim must be an integer, got '3'"),
    (_fp(input_dim=0), ValueError, "input_dim must be positive, got 0"),
    (_fp(X=[[1.0] * 4]), TypeError, "X must be a numpy.ndarray, got list"),
    (_fp(X=np.ma.masked_array(np.ones((2, 4)))), TypeError,
     "X is a masked array, and the engine would ignore its mask: pass X.filled(value) or "
     "X.compressed() rows instead"),
    (_fp(X=np.ones((2, 4), complex)), TypeError, "X must have a real dtype, got complex128"),
    (_fp(X=np.ones((2, 4), bool)), TypeError, "X must have a real dtype, got bool"),
    (_fp(X=np.ones((0, 4))), ValueError, "X must not be empty, got shape (0, 4)"),
    (_fp(X=np.ones((2, 4)), input_dim="4"), TypeError, "input_dim must be an integer, got '4'"),
    (_fp(X=np.ones((2, 4)), input_dim=3), ValueError,
     "input_dim 3 does not match X.shape[1] = 4"),
    (_fp(X=np.array([[1.0, 2.0, np.inf, 0.0]])), ValueError, "X has NaN or infinite values"),
    (_fp(bins="5"), TypeError, "bins must be an integer, got '5'"),
    (_fp(bins=-1), ValueError, "bins must be >= 0, got -1"),
    (_fp(hist_range=("a", 1.0)), TypeError, "hist_range must be a real number, got 'a'"),
    (_fp(hist_range=(1.0, 1.0)), ValueError,
     "hist_range must be (low, high) with low < high, got (1.0, 1.0)"),
    (_fp(hist_range=(1.0, 1.0 + 2**-52)), ValueError,
     "hist_range (1.0, 1.0000000000000002) is too narrow for 30 distinct bins"),
    (_fp(bias=float("nan")), ValueError, "bias must be finite, got nan"),
    (_fp(activation="swish"), ValueError, "unknown activation 'swish'; valid: tanh, relu, "
     "leaky_relu, sigmoid, linear, selu, elu, gelu"),
    (_fp(bias=object()), TypeError,
     "bias must be a number, an initializer name or an Initializer"),
    (_fp(bias="gaussian"), ValueError, "bias: unknown initializer 'gaussian'; valid names: "),
    (_fp(init="gaussian"), ValueError,
     "weight_init: unknown initializer 'gaussian'; valid names: "),
    (_fp(init="normal:std"), ValueError,
     "weight_init: bad parameter 'std' in 'normal:std'; write KEY=VALUE"),
    (_fp(bias="normal:std"), ValueError,
     "bias: bad parameter 'std' in 'normal:std'; write KEY=VALUE"),
    (_fp(init="normal:std=1|2"), ValueError,
     "weight_init: 'normal:std=1|2' lists alternatives (|): give one value each"),
    (_fp(init=3), TypeError, "weight_init must be an initializer name, an Initializer or a "
     "callable (fan_in, fan_out) -> ndarray; got int"),
    (_fp(activation=5), TypeError, "activation must be a name or a list of names (one per "
     "layer); valid names: tanh, relu, leaky_relu, sigmoid, linear, selu, elu, gelu; got 5"),
    (_fp(activation=["tanh"] * 2), ValueError, "activation has 2 entries for 1 layers"),
    (_fp(sizes=[4, "5"]), TypeError, "hidden_layer_sizes must be an integer, got '5'"),
    (_fp(sizes=[]), ValueError, "hidden_layer_sizes is empty: give at least one layer width"),
    (_fp(sizes=[4, 0]), ValueError, "hidden_layer_sizes must be positive, got [4, 0]"),
    (_fp(negative_slope="0.1"), TypeError, "negative_slope must be a real number, got '0.1'"),
    (_fp(block_bytes="64"), TypeError, "block_bytes must be an integer, got '64'"),
    (_fp(upstream=np.ones((2, 4))), ValueError,
     "upstream is the backward pass's gradient: give backward=True"),
    (_fp(upstream=[[1.0] * 4] * 2, backward=True), ValueError,
     "upstream must be an array of shape (2, 4)"),
    (_fp(upstream=np.full((2, 4), np.nan), backward=True), ValueError,
     "upstream has NaN or infinite values"),
    (_fp(perturbation=0.1, input_correlation=0.5), ValueError,
     "give perturbation or input_correlation, not both"),
    (_fp(perturbation="0.1"), TypeError, "perturbation must be a real number, got '0.1'"),
    (_fp(perturbation=-0.1), ValueError, "perturbation must be >= 0, got -0.1"),
    (_fp(input_correlation="1"), TypeError, "input_correlation must be a real number, got '1'"),
    (_fp(input_correlation=-1.5), ValueError, "input_correlation must be in [-1, 1], got -1.5"),
    (_fp(perturbation=0.1, rng=np.random.default_rng(0)), ValueError,
     "perturbation runs the network twice on the same weights: it needs an int or "
     "SeedSequence rng and a named or Initializer weight_init"),
    (_fp(input_correlation=0.5, init=lambda i, o: np.eye(i, o)), ValueError,
     "input_correlation runs the network twice on the same weights: it needs an int or "
     "SeedSequence rng and a named or Initializer weight_init"),
])
def test_forward_prop_messages_word_for_word(api, call, error, message):
    _message_is(api, call, error, message)


def _message_is(api, call, error, message):
    """The error's text: ``message`` exactly, or starting with it when it ends in ": " (a
    list follows). Returns the text."""
    with pytest.raises(error) as raised:
        call(api)
    text = str(raised.value)
    assert text.startswith(message) if message.endswith(": ") else text == message, text
    return text


@pytest.mark.parametrize("kwargs", [
    {"input_dim": 1}, {"block_bytes": 1}, {"input_correlation": -1.0},
    {"input_correlation": 1.0}, {"perturbation": 0.0}, {"hist_range": (-1.0, 1.0), "bins": 1},
])
def test_forward_prop_edges_of_the_valid_range_are_accepted(api, kwargs):
    result = api.forward_prop([4], "he_normal", batch=2, rng=0, **kwargs)
    assert len(result.layers) == 1 and np.isfinite(result.layers[0].std)


def test_an_integer_input_is_used_as_the_network_dtype(api):
    """X of ints (and an int upstream) are read as the layer dtype: the same network as the
    same values given as floats."""
    X = np.arange(-4, 4).reshape(2, 4)
    up = np.array([[1, -2, 0, 3], [2, 1, -1, 0]])
    for dtype in ("float32", "float64"):
        as_int = api.forward_prop([4], "he_normal", X=X, rng=0, dtype=dtype, backward=True,
                                  upstream=up)
        as_float = api.forward_prop([4], "he_normal", X=X.astype(dtype), rng=0, dtype=dtype,
                                    backward=True, upstream=up.astype(dtype))
        assert as_int.acts[0].dtype == np.dtype(dtype)
        np.testing.assert_array_equal(as_int.acts[0], as_float.acts[0])
        assert as_int.layers[0].grad_std == as_float.layers[0].grad_std


@pytest.mark.parametrize("call, error, message", [
    (lambda f: f.variance_scaling((5, 5), mode="fan_mid"), ValueError,
     "mode must be one of 'fan_in', 'fan_out', 'fan_avg'; got 'fan_mid'"),
    (lambda f: f.he_normal((5, 5), mode="fan_mid"), ValueError,
     "mode must be one of 'fan_in', 'fan_out'; got 'fan_mid'"),
    (lambda f: f.he_normal((5, 5), mode="fan_avg"), ValueError,
     "he_normal takes mode 'fan_in' or 'fan_out'; for the mean of the fans use "
     "variance_scaling(scale=2.0, mode='fan_avg', distribution='untruncated_normal')"),
    (lambda f: f.he_uniform((5, 5), mode="fan_avg"), ValueError,
     "he_uniform takes mode 'fan_in' or 'fan_out'; for the mean of the fans use "
     "variance_scaling(scale=2.0, mode='fan_avg', distribution='uniform')"),
    (lambda f: f.he_normal((5, 5), a=1.0, negative_slope=2.0), TypeError,
     "he_normal: give a= (PyTorch's name) or negative_slope=, not both"),
    (lambda f: f.he_normal((5,)), ValueError,
     "fans need a weight shape of at least 2 dimensions: (fan_in, fan_out), or (*kernel, in, "
     "out) for a convolution (layout='in_out'); got shape (5,)"),
    (lambda f: f.he_normal((5,), layout="out_in"), ValueError,
     "fans need a weight shape of at least 2 dimensions: (fan_out, fan_in), or (out, in, "
     "*kernel) for a convolution (layout='out_in'); got shape (5,)"),
    (lambda f: f.he_normal((5, 5), layout="io"), ValueError,
     "layout must be one of 'in_out', 'out_in'; got 'io'"),
    (lambda f: f.get_initializer("zeros", std=1.0), TypeError,
     "zeros takes no parameter 'std'; it takes: none"),
    (lambda f: f.get_initializer("normal", gain=1.0), TypeError,
     "normal takes no parameter 'gain'; it takes: "),
    (lambda f: f.get_initializer("he"), ValueError, "unknown initializer 'he'; valid names: "),
    (lambda f: f.calculate_gain("swish"), ValueError,
     "unknown nonlinearity 'swish'; valid: conv1d, conv2d, conv3d, conv_transpose1d, "
     "conv_transpose2d, conv_transpose3d, identity, leaky_relu, linear, relu, selu, sigmoid, "
     "tanh"),
])
def test_initializer_messages_word_for_word(api, call, error, message):
    text = _message_is(api, call, error, message)
    if message.endswith("valid names: "):  # the list: sorted, comma-separated, complete
        names = text[len(message):].split(", ")
        assert names == sorted(names) and {"he_normal", "kaiming_uniform", "orthogonal",
                                           "glorot_uniform", "zeros"} <= set(names)
    elif message.endswith("it takes: "):
        assert text[len(message):].split(", ")[:2] == ["mean", "std"]


def test_activations_not_kept_say_how_to_keep_them(api):
    result = api.forward_prop([4], "he_normal", batch=2, rng=0, keep_activations=False)
    with pytest.raises(KeyError) as raised:
        result.acts[0]
    assert raised.value.args == ("the activations were not kept: run forward_prop with "
                                 "keep_activations=True",)

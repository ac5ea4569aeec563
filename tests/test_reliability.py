"""The defects found by fuzzing and independent validation (issue 10): one test per class, each
failing before its fix. Engine and reference alike where both apply; the CLI through
subprocess with exit codes."""
import math
import os
import subprocess
import sys
import tempfile
import threading
import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import optimize, special
from threadpoolctl import threadpool_info

import fastinit
import fastinit.reference as reference
from fastinit import result_files, sweep as sweeps, theory

SENTINEL = 123.0
TOO_MANY_THREADS = [100000, 2**31 - 1, 2**40]


def fastinit_cli(*args, cwd=None):
    # outside the checkout: from its root, `python -m` would import the uncompiled source tree
    return subprocess.run([sys.executable, "-m", "fastinit", *args], capture_output=True,
                          text=True, cwd=cwd or tempfile.gettempdir(), timeout=300)


# -- num_threads ------------------------------------------------------------------------------

@pytest.mark.parametrize("threads", TOO_MANY_THREADS)
@pytest.mark.parametrize("call", [
    lambda f, n: f.normal((10,), rng=1, num_threads=n),
    lambda f, n: f.uniform((10,), low=0.0, high=1.0, rng=1, num_threads=n),
    lambda f, n: f.orthogonal((4, 4), rng=1, num_threads=n),
    lambda f, n: f.identity((4, 4), num_threads=n),
    lambda f, n: f.dirac((3, 3, 3), num_threads=n),
    lambda f, n: f.sparse((4, 4), sparsity=0.5, num_threads=n),
    lambda f, n: f.Stream(0).normal(np.empty(4), num_threads=n),
    lambda f, n: f.forward_prop([4, 4], "he_normal", batch=2, rng=0, num_threads=n),
    lambda f, n: f.forward_prop([4, 4], "he_normal", batch=2, rng=0, num_threads=n,
                                keep_activations=False),
])
def test_too_many_threads_is_a_value_error(api, call, threads):
    with pytest.raises(ValueError, match="num_threads"):
        call(api, threads)


def test_the_thread_cap_itself_runs():
    from fastinit._validation import MAX_THREADS
    a = fastinit.normal((10000,), rng=3, num_threads=MAX_THREADS)
    assert np.array_equal(a, fastinit.normal((10000,), rng=3, num_threads=1))


def test_cli_refuses_too_many_threads(tmp_path):
    result = fastinit_cli("sweep", "--init", "zeros", "--out", str(tmp_path / "x.csv"),
                          "--threads", "100000")
    assert result.returncode == 2 and "--threads" in result.stderr


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


# -- BLAS threads -----------------------------------------------------------------------------

def _blas_threads():
    return [(i["filepath"], i["num_threads"]) for i in threadpool_info()
            if i["user_api"] == "blas"]


def test_blas_limit_is_restored_when_blocks_exit_out_of_order():
    from fastinit._blas_threads import blas_single_threaded
    before = _blas_threads()
    first, second = blas_single_threaded(), blas_single_threaded()
    first.__enter__()
    second.__enter__()
    assert all(n == 1 for _, n in _blas_threads())
    first.__exit__(None, None, None)  # the first one in leaves first
    assert all(n == 1 for _, n in _blas_threads())  # the second still runs kernels
    second.__exit__(None, None, None)
    assert _blas_threads() == before


def test_concurrent_forward_props_leave_blas_as_they_found_it():
    before = _blas_threads()
    errors = []

    def work(seed):
        try:
            for i in range(20):  # kernels long enough that the calls overlap
                fastinit.forward_prop([256, 256], "he_normal", batch=512, rng=seed * 100 + i,
                                      keep_activations=i % 2 == 0)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert _blas_threads() == before


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


# -- mean-field theory ------------------------------------------------------------------------

def _independent_depth_scale(sigma_w2, sigma_b2):
    """xi_c of tanh by the paper's definitions, with scipy's probabilists' Hermite nodes."""
    z, w = special.roots_hermitenorm(150)
    w = w / math.sqrt(2 * math.pi)

    def second_moment(q):
        return np.sum(w * np.tanh(math.sqrt(q) * z) ** 2)

    q = optimize.brentq(lambda q: sigma_w2 * second_moment(q) + sigma_b2 - q, 1e-9, 100.0,
                        xtol=1e-14)

    def joint(f, c):
        u1 = math.sqrt(q) * z[:, None]
        u2 = math.sqrt(q) * (c * z[:, None] + math.sqrt(1 - c * c) * z[None, :])
        return np.sum(f(u1) * f(u2) * w[:, None] * w[None, :])

    def dtanh(x):
        return 1 / np.cosh(x) ** 2

    def map_minus_c(c):
        return (sigma_w2 * joint(np.tanh, c) + sigma_b2) / q - c

    chi_1 = sigma_w2 * np.sum(w * dtanh(math.sqrt(q) * z) ** 2)
    c_star = 1.0 if chi_1 < 1 else optimize.brentq(map_minus_c, 0.0, 1 - 1e-7, xtol=1e-13)
    chi_c = chi_1 if c_star == 1.0 else sigma_w2 * joint(dtanh, c_star)
    return -1 / math.log(chi_c)


@pytest.mark.parametrize("sigma_w2, sigma_b2", [(2.5, 0.05), (1.8, 0.3), (0.5, 0.05),
                                                (1.2, 0.2)])
def test_depth_scale_correlation_is_the_papers(sigma_w2, sigma_b2):
    expected = _independent_depth_scale(sigma_w2, sigma_b2)
    got = theory.depth_scale_correlation(sigma_w2, sigma_b2, "tanh")
    assert got > 0
    assert got == pytest.approx(expected, rel=1e-6)


def test_depth_scale_in_the_chaotic_example_of_the_issue():
    assert theory.depth_scale_correlation(2.5, 0.05, "tanh") == pytest.approx(11.8, abs=0.05)


# -- block_bytes ------------------------------------------------------------------------------

def test_block_bytes_changes_only_the_last_bits_and_says_so():
    kwargs = dict(batch=64, rng=4, keep_activations=False, bins=0)
    whole = fastinit.forward_prop([200, 300], "he_normal", **kwargs)
    blocked = fastinit.forward_prop([200, 300], "he_normal", block_bytes=200 * 8 * 7,
                                    **kwargs)
    for a, b in zip(whole.layers, blocked.layers):
        assert a.std == pytest.approx(b.std, rel=1e-12)
        assert a.preact_std == pytest.approx(b.preact_std, rel=1e-12)
    doc = " ".join(fastinit.forward_prop.__doc__.split())
    assert "the same numbers" not in doc and "last bits" in doc


# -- valid configurations that crashed --------------------------------------------------------

def test_zero_variance_network_with_correlated_inputs(api):
    result = api.forward_prop([8, 8], "zeros", input_correlation=0.5, rng=0)
    for layer in result.layers:  # every output is 0: the cosine is 0 / 0, measured and predicted
        assert math.isnan(layer.correlation) and math.isnan(layer.predicted_correlation)


def test_constant_layer_has_a_histogram(api):
    result = api.forward_prop([200, 129], fastinit.get_initializer("constant", value=0.01),
                              activation="linear", batch=1, rng=0)
    for layer in result.layers:
        assert layer.hist.sum() == layer.width
        assert np.all(np.diff(layer.bin_edges) > 0)
        assert layer.bin_edges[0] <= layer.min and layer.max <= layer.bin_edges[-1]


def test_histograms_agree_on_a_near_constant_layer():
    init = fastinit.get_initializer("constant", value=0.01)
    kwargs = dict(activation="linear", batch=3, rng=0)
    engine = fastinit.forward_prop([50, 40], init, **kwargs)
    spec = reference.forward_prop([50, 40], init, **kwargs)
    for e, r in zip(engine.layers, spec.layers):
        assert np.array_equal(e.hist, r.hist)


def test_huge_bias_gives_a_result(api):
    with pytest.warns(RuntimeWarning, match="overflowed"):
        result = api.forward_prop([8, 8], "he_normal", activation="linear", bias=1e308, rng=0)
    assert math.isnan(result.layers[-1].mean)


@pytest.mark.parametrize("activation", ["linear", "tanh", "relu"])
def test_overflow_gives_the_same_nonfinite_statistics_in_engine_and_reference(activation):
    X = np.full((4, 8), 1e200)
    results = []
    for f in (fastinit, reference):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            results.append(f.forward_prop([8, 8, 8], "he_normal", X=X, rng=0,
                                          activation=activation))
        assert all(issubclass(w.category, RuntimeWarning) for w in caught)
    names = ("mean", "std", "min", "max", "preact_std", "dead")
    engine, spec = ([[getattr(layer, k) for k in names] for layer in r.layers] for r in results)
    np.testing.assert_allclose(np.array(engine), np.array(spec), rtol=1e-9)


# -- Ctrl-C -----------------------------------------------------------------------------------

CTRL_C = """
import os, signal, sys, threading, time
import numpy as np
import fastinit
from fastinit import sweep as sweeps
calls = {
    "fill": lambda: fastinit.truncated_normal((10**8,), a=6.0, b=7.0, rng=0),
    "network": lambda: fastinit.forward_prop([4000] * 8, "lecun_normal", rng=0,
                                             keep_activations=False, bins=0),
    "layers": lambda: fastinit.forward_prop([4000] * 8, "lecun_normal", rng=0),
    "orthogonal": lambda: fastinit.orthogonal((5000, 5000), rng=0),
    "sweep": lambda: sweeps.sweep(init="lecun_normal", depth=20, width=64, batch=256,
                                  seeds=50000, progress=False),
    # issue 25: a Generator's one long call, a tall QR's long LAPACK calls and copies, the
    # backward pass's pre-activations (gelu) and the perturbed second run
    "compat": lambda: fastinit.normal((2 * 10**8,), dtype="float32",
                                      rng=np.random.default_rng(0)),
    "orthogonal_tall": lambda: fastinit.orthogonal((8192, 4096), rng=0),
    "backward": lambda: fastinit.forward_prop([4000] * 4, "he_normal", activation="gelu",
                                              rng=0, backward=True),
    "perturbation": lambda: fastinit.forward_prop([4000] * 4, "he_normal", rng=0,
                                                  perturbation=0.1),
}
fastinit.normal((10,), rng=0)  # imports and thread pools ready
# a shell starts background jobs with SIGINT ignored, and Python keeps it so: Ctrl-C as usual
signal.signal(signal.SIGINT, signal.default_int_handler)
sent = []
def interrupt():
    sent.append(time.perf_counter())
    os.kill(os.getpid(), signal.SIGINT)
threading.Timer(float(sys.argv[2]), interrupt).start()
try:
    calls[sys.argv[1]]()
    print("finished")
except KeyboardInterrupt:
    time.sleep(0.05)
    print("interrupted", time.perf_counter() - sent[0], threading.active_count())
"""


@pytest.mark.parametrize("case, delay", [
    ("fill", 0.3), ("network", 0.3), ("layers", 0.3), ("orthogonal", 0.3), ("sweep", 0.3),
    ("compat", 1.5), ("orthogonal_tall", 2.0), ("backward", 2.0), ("perturbation", 1.5)])
def test_ctrl_c_is_answered_within_a_second(case, delay, tmp_path):
    # with a busy process beside it, as on a laptop or a CI machine running other work: a
    # kernel whose waiting threads spun would starve the thread that must answer (issue 26)
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        result = subprocess.run([sys.executable, "-c", CTRL_C, case, str(delay)],
                                capture_output=True, text=True, timeout=300, cwd=tmp_path)
    finally:
        busy.kill()
        busy.wait()
    words = result.stdout.split()
    assert words[0] == "interrupted", result.stdout + result.stderr
    latency, threads = float(words[1]), int(words[2])
    assert latency < 1.0
    assert threads == 1  # no helper thread left running


POOL_CTRL_C = """
import os, signal, sys, threading, time
from concurrent.futures import ProcessPoolExecutor
from fastinit import sweep as sweeps
signal.signal(signal.SIGINT, signal.default_int_handler)
sent = []
def interrupt():
    sent.append(time.perf_counter())
    os.kill(os.getpid(), signal.SIGINT)
start = time.perf_counter()
try:
    with ProcessPoolExecutor(2) as pool:
        threading.Timer(3.0, interrupt).start()
        sweeps.sweep(init="lecun_normal", depth=10, width=500, batch=1000, seeds=400,
                     executor=pool, progress=False)
    print("finished")
except KeyboardInterrupt:
    print("interrupted", time.perf_counter() - sent[0])
"""


def test_ctrl_c_cancels_a_process_pools_pending_chunks(tmp_path):
    # 400 networks of 10 x 500 take a minute on 2 cores; after Ctrl-C only the chunks already
    # running (about a second of work each) finish before the pool's `with` lets go
    result = subprocess.run([sys.executable, "-c", POOL_CTRL_C], capture_output=True,
                            text=True, timeout=600, cwd=tmp_path)
    words = result.stdout.split()
    assert words[0] == "interrupted", result.stdout + result.stderr
    assert float(words[1]) < 8.0


# -- sweep files ------------------------------------------------------------------------------

SMALL = ["--depth", "2", "--width", "8", "--batch", "4", "--quiet"]


@pytest.mark.parametrize("first, second, message", [
    ([], ["--histograms"], "without histograms"),
    (["--histograms"], [], "with histograms"),
    ([], ["--backward"], "without backward"),
    (["--init", "zeros,ones"], ["--init", "zeros"], "does not have"),
])
def test_resume_with_other_settings_is_refused(tmp_path, first, second, message):
    out = tmp_path / "x.csv"
    init = [] if "--init" in first else ["--init", "zeros"]
    assert fastinit_cli("sweep", *init, *first, *SMALL, "--out", str(out)).returncode == 0
    before = out.read_bytes()
    init = [] if "--init" in second else ["--init", "zeros"]
    result = fastinit_cli("sweep", *init, *second, *SMALL, "--out", str(out), "--resume")
    assert result.returncode == 2 and message in result.stderr
    assert out.read_bytes() == before


def test_resume_with_other_bins_is_refused(tmp_path):
    out = tmp_path / "x.jsonl"
    sweeps.sweep(init="zeros", depth=2, width=8, batch=4, out=out, histograms=True, bins=5)
    with pytest.raises(ValueError, match="5"):
        sweeps.sweep(init="zeros", depth=2, width=8, batch=4, out=out, histograms=True,
                     bins=6, resume=True)


def test_a_binary_file_to_resume_is_a_usage_error(tmp_path):
    out = tmp_path / "x.csv"
    out.write_bytes(bytes(range(256)) * 4)
    result = fastinit_cli("sweep", "--init", "zeros", *SMALL, "--out", str(out), "--resume")
    assert result.returncode == 2 and "x.csv" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_text_file_that_is_no_result_file_is_kept(tmp_path):
    out = tmp_path / "notes.jsonl"
    out.write_text("my notes\nmore notes\n")
    with pytest.raises(ValueError, match="not a fastinit sweep file"):
        sweeps.sweep(init="zeros", depth=2, width=8, batch=4, out=out, resume=True)
    assert out.read_text() == "my notes\nmore notes\n"


def test_a_failed_rewrite_leaves_no_temporary(tmp_path, monkeypatch):
    out = tmp_path / "x.csv"

    def full_disk(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(result_files, "_csv_header", full_disk)
    with pytest.raises(OSError):
        sweeps.sweep(init="zeros", depth=2, width=8, batch=4, out=out)
    assert os.listdir(tmp_path) == []


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
    result = fastinit_cli(*(a.format(tmp=tmp_path) for a in args))
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert "x.csv.tmp" not in result.stderr
    assert not (tmp_path / "x.csv").exists()


def test_cli_missing_out_folder_names_the_file_not_a_temporary(tmp_path):
    result = fastinit_cli("sweep", "--init", "zeros", "--out", "/nonexistent/dir/x.csv")
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


@pytest.mark.parametrize("keep", [False, True])
def test_a_correlated_run_keeps_activations_only_when_asked(api, keep):
    result = api.forward_prop([20, 20], "lecun_normal", batch=30, rng=1,
                              input_correlation=0.5, keep_activations=keep)
    assert len(result.acts) == (2 if keep else 0)
    assert all(0 < s.correlation < 1 for s in result.layers)

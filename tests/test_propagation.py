"""The propagation engine against its NumPy reference (the main oracle), the classic study's
story, thread-count and blocking invariance, and bad input."""
import math
import os

import numpy as np
import pytest

import fastinit
import fastinit.reference as reference
import subprocess
import sys
import threading
import warnings

STATS = ("std", "min", "max", "preact_std")


def assert_same(engine, ref, dtype):
    """Per-layer statistics equal within rtol 1e-9 (float64) or 1e-4 (float32); the mean,
    which sits near 0, within that fraction of the std."""
    rtol = 1e-9 if np.dtype(dtype) == np.float64 else 1e-4
    assert len(engine.layers) == len(ref.layers)
    for e, r in zip(engine.layers, ref.layers):
        for name in STATS:
            assert getattr(e, name) == pytest.approx(getattr(r, name), rel=rtol, abs=1e-300), name
        assert e.mean == pytest.approx(r.mean, abs=rtol * max(r.std, 1e-300))
        assert e.dead == pytest.approx(r.dead, abs=rtol)
        if math.isnan(r.saturated):
            assert math.isnan(e.saturated)
        else:
            assert e.saturated == pytest.approx(r.saturated, abs=rtol)
        # data range if unbounded: an edge near 0 is only as exact as the range's ends
        span = abs(r.bin_edges[-1] - r.bin_edges[0]) if r.bin_edges.size else 0.0
        np.testing.assert_allclose(e.bin_edges, r.bin_edges, rtol=rtol, atol=rtol * span)
        total = max(r.hist.sum(), 1)
        assert np.abs(e.hist - r.hist).max(initial=0) <= (0 if rtol == 1e-9 else 1e-4 * total + 2)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("activation", fastinit.ACTIVATIONS)
def test_engine_equals_reference_every_activation(activation, dtype):
    kwargs = dict(activation=activation, rng=3, dtype=dtype, batch=300)
    assert_same(fastinit.forward_prop([200, 150, 120], "lecun_normal", **kwargs),
                reference.forward_prop([200, 150, 120], "lecun_normal", **kwargs), dtype)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("init", ["xavier_uniform", "he_normal", "orthogonal", "zeros",
                                  fastinit.get_initializer("normal", std=1.0),
                                  fastinit.get_initializer("truncated_normal", std=0.1)],
                         ids=str)
@pytest.mark.parametrize("widths", [[64] * 6, [500, 128, 257]])
def test_engine_equals_reference_schemes_and_widths(init, widths, dtype):
    ref_init = init if isinstance(init, str) else reference.get_initializer(init.name,
                                                                            **init.params)
    kwargs = dict(activation="tanh", rng=np.random.SeedSequence(8), dtype=dtype, batch=257)
    assert_same(fastinit.forward_prop(widths, init, **kwargs),
                reference.forward_prop(widths, ref_init, **kwargs), dtype)


def test_engine_activations_match_reference_activations():
    e = fastinit.forward_prop([100, 80], "xavier_normal", activation="relu", rng=1, batch=50)
    r = reference.forward_prop([100, 80], "xavier_normal", activation="relu", rng=1, batch=50)
    for layer in (0, 1):
        np.testing.assert_allclose(e.acts[layer], r.acts[layer], rtol=1e-12, atol=1e-15)


def test_user_callable_drawing_from_np_random():
    def init_fn(fan_in, fan_out):
        return np.random.randn(fan_in, fan_out) / np.sqrt(fan_in)
    X = np.random.default_rng(0).standard_normal((200, 100))
    np.random.seed(5)
    e = fastinit.forward_prop([100] * 4, init_fn, X=X)
    np.random.seed(5)
    r = reference.forward_prop([100] * 4, init_fn, X=X)
    assert_same(e, r, "float64")
    # the classic loop, written out by hand, from the same seed
    np.random.seed(5)
    H = X
    for layer in range(4):
        H = np.tanh(H @ init_fn(100, 100))
        assert e.layers[layer].std == pytest.approx(H.std(), rel=1e-9)
        assert e.layers[layer].mean == pytest.approx(H.mean(), abs=1e-9 * H.std())


def test_user_callable_runs_in_layer_order_on_the_calling_thread():
    # the engine calls it for layer l + 1 while layer l's kernel runs on a helper thread
    calls = []

    def init_fn(fan_in, fan_out):
        calls.append((fan_in, fan_out, threading.current_thread() is threading.main_thread()))
        return np.random.default_rng(len(calls)).standard_normal((fan_in, fan_out)) / 10
    widths = [30, 20, 40, 10]
    result = fastinit.forward_prop(widths, init_fn, batch=64, rng=3)
    assert calls == [(fan_in, fan_out, True)
                     for fan_in, fan_out in zip([30] + widths[:-1], widths)]
    calls.clear()
    ref = reference.forward_prop(widths, init_fn, batch=64, rng=3)
    assert_same(result, ref, "float64")


def test_user_callable_error_mid_network_waits_for_the_running_layer():
    class Stop(Exception):
        pass

    def init_fn(fan_in, fan_out):
        if fan_out == 7:
            raise Stop("no weights for layer 2")
        return np.ones((fan_in, fan_out)) / fan_in
    with pytest.raises(Stop, match="layer 2"):
        fastinit.forward_prop([300, 300, 7], init_fn, batch=500, rng=0)
    # nothing is left running: the next call works and gives the reference's numbers
    ok = fastinit.forward_prop([300, 300], init_fn, batch=500, rng=0)
    assert_same(ok, reference.forward_prop([300, 300], init_fn, batch=500, rng=0), "float64")


@pytest.mark.parametrize("bias", [0.3, "normal", fastinit.get_initializer("uniform", low=-0.5,
                                                                           high=0.5)], ids=str)
def test_bias(bias):
    ref_bias = bias if not isinstance(bias, fastinit.Initializer) else \
        reference.get_initializer(bias.name, **bias.params)
    e = fastinit.forward_prop([80] * 3, "xavier_normal", bias=bias, rng=2, batch=100)
    r = reference.forward_prop([80] * 3, "xavier_normal", bias=ref_bias, rng=2, batch=100)
    assert_same(e, r, "float64")
    # the first layer by hand, from the documented streams: X from child 0, W_1 from child 1,
    # a drawn bias vector from child 1 of W_1's stream
    from fastinit.seeding import child
    root = np.random.SeedSequence(2)
    X = fastinit.normal((100, 80), rng=child(root, 0))
    W = fastinit.xavier_normal((80, 80), rng=child(root, 1))
    if isinstance(bias, float):
        b = bias
    else:
        init = bias if isinstance(bias, fastinit.Initializer) else \
            fastinit.get_initializer(bias)
        b = init((80,), rng=child(child(root, 1), 1))
        assert np.ptp(b) > 0.1  # a real vector, not a constant
    pre = X @ W + b
    first = e.layers[0]
    assert first.preact_std == pytest.approx(pre.std(), rel=1e-12)
    assert first.mean == pytest.approx(np.tanh(pre).mean(), rel=1e-12)
    assert first.std == pytest.approx(np.tanh(pre).std(), rel=1e-12)


def test_bias_vector_is_drawn_from_the_documented_stream():
    from fastinit.seeding import child
    X = np.zeros((4, 10))  # zero input: the pre-activation is the bias itself
    init = fastinit.get_initializer("normal", std=0.7)
    result = fastinit.forward_prop([10], "xavier_normal", X=X, bias=init, rng=9,
                                   activation="linear")
    expected = fastinit.normal(10, std=0.7, rng=child(child(np.random.SeedSequence(9), 1), 1))
    np.testing.assert_array_equal(result.acts[0], np.tile(expected, (4, 1)))


def test_weights_come_from_the_documented_stream():
    from fastinit.seeding import child
    X = np.eye(30)  # identity input: the output is the weight matrix itself
    result = fastinit.forward_prop([20], "he_normal", X=X, rng=4, activation="linear")
    W = fastinit.he_normal((30, 20), rng=child(np.random.SeedSequence(4), 1))
    np.testing.assert_allclose(result.acts[0], W, rtol=0, atol=0)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_same_numbers_on_1_2_3_threads(dtype):
    runs = [fastinit.forward_prop([300] * 3, "he_normal", activation="relu", rng=6,
                                  batch=500, dtype=dtype, num_threads=t).to_records()
            for t in (1, 2, 3)]
    np.testing.assert_equal(runs[0], runs[1])  # exact, NaN (no saturation for relu) == NaN
    np.testing.assert_equal(runs[0], runs[2])


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_blocked_wide_layers_give_the_unblocked_statistics(activation):
    kwargs = dict(activation=activation, rng=7, batch=64, keep_activations=False)
    whole = fastinit.forward_prop([700, 900], "xavier_uniform", **kwargs)
    blocked = fastinit.forward_prop([700, 900], "xavier_uniform", block_bytes=10_000, **kwargs)
    for a, b in zip(whole.layers, blocked.layers):
        for name in STATS + ("mean",):
            assert getattr(b, name) == pytest.approx(getattr(a, name), rel=1e-12, abs=1e-15)
        assert np.abs(a.hist - b.hist).max() <= 1


def test_keep_activations_false_keeps_nothing():
    result = fastinit.forward_prop([50] * 5, "lecun_normal", keep_activations=False, rng=1,
                                   batch=20)
    acts, means, stds = result
    assert acts == {} and len(means) == len(stds) == 5


def test_given_X_is_used_and_never_modified():
    X = np.random.default_rng(1).standard_normal((40, 30))
    before = X.copy()
    result = fastinit.forward_prop([25], "lecun_normal", X=X, rng=2, activation="linear")
    np.testing.assert_array_equal(X, before)
    W = fastinit.lecun_normal((30, 25), rng=fastinit.child(np.random.SeedSequence(2), 1))
    np.testing.assert_allclose(result.acts[0], X @ W, rtol=1e-12, atol=1e-14)


def test_generator_compat_mode_matches_reference():
    e = fastinit.forward_prop([60] * 3, "he_normal", rng=np.random.default_rng(3), batch=80)
    r = reference.forward_prop([60] * 3, "he_normal", rng=np.random.default_rng(3), batch=80)
    assert_same(e, r, "float64")


def test_generator_compat_mode_draws_the_input_then_the_weights_from_the_generator():
    """A Generator's next draws, in order (docs/propagation.md): the input N(0, 1), then each
    layer's standard normals scaled by the scheme's std; NumPy's own Generator is the oracle."""
    result = fastinit.forward_prop([6, 5], "lecun_normal", activation="linear", batch=4,
                                   input_dim=6, rng=np.random.default_rng(7))
    g = np.random.default_rng(7)
    X = g.standard_normal((4, 6))
    W1 = g.standard_normal((6, 6)) / np.sqrt(6)
    W2 = g.standard_normal((6, 5)) / np.sqrt(6)
    np.testing.assert_allclose(result.acts[0], X @ W1, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(result.acts[1], X @ W1 @ W2, rtol=1e-12, atol=1e-14)


def test_generator_compat_mode_draws_random_biases_in_order():
    kwargs = dict(bias="normal", batch=40, rng=None)
    e = fastinit.forward_prop([30] * 2, "he_normal", **{**kwargs, "rng": np.random.default_rng(4)})
    r = reference.forward_prop([30] * 2, "he_normal", **{**kwargs, "rng": np.random.default_rng(4)})
    assert_same(e, r, "float64")


def test_result_interface():
    result = fastinit.forward_prop([30, 20], "xavier_normal", rng=1, batch=10)
    acts, means, stds = result
    assert set(acts) == {0, 1} and acts[1].shape == (10, 20)
    assert all(isinstance(v, float) for v in means + stds)
    records = result.to_records()
    assert [r["layer"] for r in records] == [1, 2]  # layer numbers count from 1
    assert {"mean", "std", "min", "max", "saturated", "dead", "preact_std", "hist"} <= set(
        records[0])
    lines = result.report().split("\n")
    assert lines[0].startswith(f"Hidden layer 1 had mean {means[0]:.6g} and std {stds[0]:.6g}")
    assert len(lines) == 2 and lines[1].startswith("Hidden layer 2 had mean")
    assert sum(records[0]["hist"]) == 10 * 30  # tanh outputs all fall in [-1, 1]


def test_classic_study_tells_the_documented_story():
    def run(init, activation="tanh"):
        return fastinit.forward_prop([500] * 10, init, activation=activation, rng=0,
                                     keep_activations=False)
    small = run(fastinit.get_initializer("normal", std=0.01))
    assert small.stds[-1] < 1e-5 and all(b < a for a, b in zip(small.stds, small.stds[1:]))
    big = run(fastinit.get_initializer("normal", std=1.0))
    assert all(layer.saturated > 0.9 for layer in big.layers)  # tanh pinned at +-1
    zero = run("zeros")
    assert all(layer.std == 0 and layer.dead == 1 for layer in zero.layers)
    xavier = run("xavier_normal")
    assert 0.15 < xavier.stds[-1] < xavier.stds[0] < 0.7  # a slowly shrinking spread
    he = run("he_normal", "relu")
    second_moments = [layer.std**2 + layer.mean**2 for layer in he.layers]
    assert max(second_moments) / min(second_moments) < 1.5  # kept, where Xavier halves it
    xavier_relu = run("xavier_normal", "relu")
    assert xavier_relu.stds[-1] < 0.1 * he.stds[-1]


def test_leaky_relu_uses_negative_slope():
    X = -np.ones((2, 3))
    out = fastinit.forward_prop([3], "identity", X=X, activation="leaky_relu",
                                negative_slope=0.2)
    np.testing.assert_allclose(out.acts[0], np.full((2, 3), -0.2), rtol=1e-15)


@pytest.mark.parametrize("api", [fastinit, reference], ids=["engine", "reference"])
@pytest.mark.parametrize("call, error, match", [
    (lambda f: f.forward_prop([], "he_normal"), ValueError, "empty"),
    (lambda f: f.forward_prop([10, 0], "he_normal"), ValueError, "positive"),
    (lambda f: f.forward_prop([10, -3], "he_normal"), ValueError, "positive"),
    (lambda f: f.forward_prop([10.5], "he_normal"), TypeError, "hidden_layer_sizes"),
    (lambda f: f.forward_prop(10, "he_normal"), TypeError, "hidden_layer_sizes"),
    (lambda f: f.forward_prop([10], "he_normal", batch=0), ValueError, "batch"),
    (lambda f: f.forward_prop([10], "he_normal", X=np.ones(10)), ValueError, "2-D"),
    (lambda f: f.forward_prop([10], "he_normal", X=np.ones((3, 4)), input_dim=5), ValueError,
     "input_dim"),
    (lambda f: f.forward_prop([10], "he_normal", X=np.array([[1.0, np.nan]])), ValueError,
     "NaN"),
    (lambda f: f.forward_prop([10], "he_normal", X=np.ones((2, 2), complex)), TypeError,
     "dtype"),
    (lambda f: f.forward_prop([10], "he_normal", X=[[1.0]]), TypeError, "numpy.ndarray"),
    (lambda f: f.forward_prop([10], "he_normal", activation="swish"), ValueError,
     "valid: tanh"),
    (lambda f: f.forward_prop([10, 10], "he_normal", activation=["tanh"]), ValueError,
     "entries"),
    (lambda f: f.forward_prop([10], "bogus"), ValueError, "valid names"),
    (lambda f: f.forward_prop([10], 3.0), TypeError, "weight_init"),
    (lambda f: f.forward_prop([10], "he_normal", dtype="float16"), TypeError, "dtype"),
    (lambda f: f.forward_prop([10], "he_normal", bias=float("nan")), ValueError, "bias"),
    (lambda f: f.forward_prop([10], "he_normal", bias="he_normal"), ValueError,
     "bias initializer 'he_normal' cannot draw a bias vector: .*2 dimensions"),
    (lambda f: f.forward_prop([10], "he_normal", bias="uniform"), ValueError,
     "bias initializer 'uniform' cannot draw"),
    (lambda f: f.forward_prop([10], "he_normal", bins=-1), ValueError, "bins"),
    (lambda f: f.forward_prop([10], "he_normal", hist_range=(1, 0)), ValueError,
     "hist_range"),
    (lambda f: f.forward_prop([10], lambda i, o: np.ones((o, i + 1))), ValueError, "layer 1"),
    (lambda f: f.forward_prop([10], lambda i, o: [[1.0]]), TypeError, "layer 1"),
    (lambda f: f.forward_prop([10, 12], lambda i, o: np.full((i, o), np.inf if o == 12 else 1.0)),
     ValueError, "layer 2"),
])
def test_bad_input(api, call, error, match):
    with pytest.raises(error, match=match):
        call(api)


def test_demo_command_writes_tables_csv_and_figures(tmp_path):
    import csv
    out = tmp_path / "demo"
    result = subprocess.run([sys.executable, "-m", "fastinit", "demo", "--out", str(out)],
                            capture_output=True, text=True, check=True, cwd=tmp_path)
    assert "Hidden layer 10 had mean" in result.stdout and "== he_normal · relu ==" in \
        result.stdout
    # small values in significant digits, never 0.000000
    assert "0.000000" not in result.stdout and "e-07" in result.stdout
    assert result.stdout.splitlines()[-1].startswith(
        "wrote classic_study.csv, all_initializations.png, zeros_tanh.png")
    with open(out / "classic_study.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 6 * 10
    small = [float(r["std"]) for r in rows if r["init"] == "normal:std=0.01"]
    assert small[-1] < 1e-5  # the collapse the demo is there to show
    plt = pytest.importorskip("matplotlib.pyplot")
    image = plt.imread(out / "xavier_normal_tanh.png")
    assert image.shape[0] > 200 and image.shape[1] > 400
    assert (image[..., :3] < 0.5).mean() > 0.01  # ink on the page, not a blank canvas


@pytest.mark.parametrize("keep", [False, True], ids=["dropped", "kept"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("activation, init, bias, bins", [
    ("tanh", "lecun_normal", 0.0, 30), ("sigmoid", "xavier_uniform", 0.1, 12),
    ("relu", "he_normal", "normal", 0), ("selu", "truncated_normal", 0.0, 0),
    ("tanh", "zeros", 0.0, 5),
    ("gelu", "he_uniform", fastinit.get_initializer("uniform", low=-0.2, high=0.2), 0),
    # orthogonal: the kernels' QR of square (90 x 90), tall (90 x 70) and wide (70 x 110)
    # weights gives structured.orthogonal's bits, gain and signs included
    ("tanh", "orthogonal", 0.0, 30), ("relu", "orthogonal:gain=1.4", 0.1, 0),
])
def test_one_call_network_path_is_the_per_layer_path_bit_for_bit(monkeypatch, dtype, activation,
                                                                 init, bias, bins, keep):
    from fastinit import propagation
    kwargs = dict(activation=activation, bias=bias, bins=bins, dtype=dtype, rng=11, batch=130,
                  keep_activations=keep)
    calls = []
    fused_run = propagation._FusedNetwork.run
    monkeypatch.setattr(propagation._FusedNetwork, "run",
                        lambda *a: calls.append(1) or fused_run(*a))
    fused = fastinit.forward_prop([90, 70, 110], init, **kwargs)
    assert calls, "the one-call path did not run"
    monkeypatch.setattr(propagation, "_fusable", lambda p, block_bytes: False)
    monkeypatch.setattr(propagation, "_compiled_network", lambda arguments: None)
    per_layer = fastinit.forward_prop([90, 70, 110], init, **kwargs)
    for a, b in zip(fused.layers, per_layer.layers):
        assert repr(a.record()) == repr(b.record())
    assert len(fused.acts) == len(per_layer.acts) == (3 if keep else 0)
    for i in range(len(fused.acts)):  # kept activations: the same bytes on both paths
        assert np.array_equal(fused.acts[i].view(np.uint8), per_layer.acts[i].view(np.uint8))
    assert_same(fused, reference.forward_prop([90, 70, 110], init, **kwargs), dtype)


@pytest.mark.parametrize("rng", [11, np.random.SeedSequence(2**80 + 3), None])
@pytest.mark.parametrize("config", [
    dict(activation="tanh", dtype="float32"),
    dict(activation=["relu", "sigmoid", "tanh"], bias=0.25, bins=0, keep_activations=False),
    dict(activation="leaky_relu", negative_slope=0.2, hist_range=(-1, 1), input_dim=33),
    dict(weight_init=fastinit.get_initializer("uniform", low=-0.3, high=0.2), bins=7),
])
def test_repeated_call_path_is_the_one_call_path_bit_for_bit(monkeypatch, rng, config):
    # a call with a drawn input and constant biases reuses its laid-out network (cached by
    # its layout arguments): the same numbers as _run_fused on the call's own plan
    from fastinit import propagation
    from fastinit.network import ForwardArgs, plan
    config = dict(config)
    init = config.pop("weight_init", "he_normal")
    kwargs = dict(batch=70, rng=rng, **config)
    if rng is None:  # fresh entropy: the same SeedSequence for both paths
        kwargs["rng"] = np.random.SeedSequence()
    seen = []
    original = propagation._FusedNetwork.run
    monkeypatch.setattr(propagation._FusedNetwork, "run",
                        lambda self, *a: seen.append(self) or original(self, *a))
    monkeypatch.setattr(propagation, "_run_fused", refuse_path)
    repeated = [fastinit.forward_prop([40, 30, 50], init, **kwargs) for _ in range(2)]
    assert len(seen) == 2 and seen[0] is seen[1], "the second call did not reuse the layout"
    monkeypatch.undo()
    args = ForwardArgs([40, 30, 50], init, batch=70, rng=kwargs["rng"], **config)
    one_call = propagation._run_fused(plan(args, propagation.ENGINE))
    for run in repeated:
        assert [repr(s.record()) for s in run.layers] == \
               [repr(s.record()) for s in one_call.layers]
        assert len(run.acts) == len(one_call.acts)
        for i in range(len(run.acts)):
            assert np.array_equal(run.acts[i].view(np.uint8), one_call.acts[i].view(np.uint8))


def refuse_path(*args):
    raise AssertionError("the call took the other path")


def test_repeated_calls_with_other_seeds_or_layouts_differ():
    base = fastinit.forward_prop([20] * 3, "lecun_normal", batch=9, rng=1)
    for changed in (dict(rng=2), dict(batch=10), dict(activation="relu"), dict(dtype="float32"),
                    dict(rng=np.random.SeedSequence(1, spawn_key=(0,)))):
        other = fastinit.forward_prop([20] * 3, "lecun_normal", **{"batch": 9, "rng": 1,
                                                                   **changed})
        assert other.layers[-1].std != base.layers[-1].std, changed
    again = fastinit.forward_prop([20] * 3, "lecun_normal", batch=9, rng=1)
    assert [repr(s.record()) for s in again.layers] == [repr(s.record()) for s in base.layers]


@pytest.mark.parametrize("bad, error", [(dict(batch=True), TypeError), (dict(batch=0), ValueError),
                                        (dict(rng=-1), ValueError), (dict(rng=1.5), TypeError),
                                        (dict(block_bytes=0), ValueError)])
def test_a_repeated_call_is_checked_like_any(bad, error):
    fastinit.forward_prop([8] * 2, "lecun_normal", batch=4, rng=0)  # the layout is cached
    with pytest.raises(error):
        fastinit.forward_prop([8] * 2, "lecun_normal", **{"batch": 4, "rng": 0, **bad})


def test_one_call_path_is_thread_count_invariant():
    runs = [fastinit.forward_prop([300] * 4, "xavier_normal", rng=2, batch=500, num_threads=n,
                                  keep_activations=False) for n in (1, 2, 3)]
    for run in runs[1:]:
        assert [repr(s.record()) for s in run.layers] == [repr(s.record()) for s in runs[0].layers]


@pytest.mark.parametrize("init", ["he_uniform", "orthogonal"])
@pytest.mark.parametrize("keep", [True, False])
@pytest.mark.parametrize("widths", [[37, 300, 5, 129, 64], [700], [3] * 12, [400] * 4])
def test_network_stages_are_thread_count_invariant(widths, keep, init):
    # one parallel region per network: a stage holds one layer's GEMM items, the merge of the
    # layer before and the next layer's weight draws (and an orthogonal layer's QR, a task of
    # its own once the draws are in); any split of that work over threads must give the bits
    # of one thread, for widths that make every kind of stage
    runs = [fastinit.forward_prop(widths, init, activation="relu", rng=5, batch=333,
                                  dtype=np.float32, bias=0.1, num_threads=n,
                                  keep_activations=keep) for n in (1, 2, 3, 5)]
    for run in runs[1:]:
        assert [repr(s.record()) for s in run.layers] == [repr(s.record()) for s in runs[0].layers]
        assert len(run.acts) == (len(widths) if keep else 0)
        for mine, first in zip(run.acts.values(), runs[0].acts.values()):
            np.testing.assert_array_equal(mine, first)
    if keep:
        assert [a.shape for a in runs[0].acts.values()] == [(333, w) for w in widths]
        assert all(a.flags.c_contiguous for a in runs[0].acts.values())
        # the kept activations are the reference's (a separate implementation) to rounding
        ref = fastinit.reference.forward_prop(widths, init, activation="relu", rng=5,
                                              batch=333, dtype=np.float32, bias=0.1)
        for mine, theirs in zip(runs[0].acts.values(), ref.acts.values()):
            np.testing.assert_allclose(mine, theirs, rtol=2e-4, atol=2e-5)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("bins, lo, hi", [(30, -1.0, 1.0), (7, 0.0, 1.0), (1, -3.0, 2.5),
                                          (128, -0.3, 0.7), (200, -2.0, 2.0), (13, 1e-3, 5.1)])
def test_histogram_kernel_counts_exactly_like_numpy(dtype, bins, lo, hi):
    from fastinit._kernels import propagate as _propagate
    edges = np.histogram_bin_edges(np.empty(0), bins, range=(lo, hi))
    rng = np.random.default_rng(bins)
    near = np.concatenate([edges, np.nextafter(edges, -np.inf), np.nextafter(edges, np.inf)])
    values = np.concatenate([near, rng.uniform(lo - 0.5, hi + 0.5, 5000),
                             [np.nan, np.inf, -np.inf, lo, hi]]).astype(dtype)
    values = np.resize(values, (len(values) // 7 + 1) * 7).reshape(-1, 7)  # odd row length
    expected, _ = np.histogram(values.astype(np.float64), edges)
    for threads in (1, 2):
        got = _propagate.histogram(np.ascontiguousarray(values), edges, threads)
        np.testing.assert_array_equal(got, expected)


# -- issue 25: valid networks whose predictions or spreads overflow ---------------------------

@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("activation", sorted(fastinit.activations.TABLE))
@pytest.mark.parametrize("api", [fastinit, fastinit.reference], ids=["engine", "reference"])
def test_a_huge_std_runs_and_its_predictions_overflow_to_inf_or_nan(api, activation):
    result = api.forward_prop([8, 8], api.get_initializer("normal", std=1e200), rng=0,
                              activation=activation, batch=16)
    first = result.to_records()[0]
    assert math.isfinite(first["max"]) and first["max"] > 0  # the measurement is there
    # sigma_w^2 = 8e400 is not a float: the predictions are inf or NaN, not an exception
    assert not math.isfinite(first["predicted_mean"]) or not math.isfinite(
        first["predicted_std"]) or activation in ("tanh", "sigmoid")


@pytest.mark.parametrize("api", [fastinit, fastinit.reference], ids=["engine", "reference"])
def test_an_overflowed_spread_is_nan_never_inf(api):
    with pytest.warns(RuntimeWarning):
        result = api.forward_prop([8, 8], "he_normal", activation="linear", rng=0, bias=1e200,
                                  batch=2000)
    for layer in result.layers:
        for key in ("std", "preact_std"):
            value = getattr(layer, key)
            assert math.isnan(value) or (math.isfinite(value) and value >= 0), (key, value)


@pytest.mark.parametrize("api", [fastinit, fastinit.reference], ids=["engine", "reference"])
def test_spec_strings_work_wherever_a_name_does(api):
    # the notebook's first experiment (issue 29): the CLI's spec text in forward_prop
    spec = api.forward_prop([20] * 3, "normal:std=0.01", bias="normal:std=0.5", rng=4,
                            batch=30)
    objects = api.forward_prop([20] * 3, api.get_initializer("normal", std=0.01),
                               bias=api.get_initializer("normal", std=0.5), rng=4, batch=30)
    assert [layer.std for layer in spec.layers] == [layer.std for layer in objects.layers]
    small = api.forward_prop([20] * 3, "normal:std=0.01", rng=4, batch=30)
    assert small.layers[0].std < 0.05  # std 0.01, not the default normal's 1
    with pytest.raises(ValueError, match=r"weight_init: .*lists alternatives"):
        api.forward_prop([4], "normal:std=0.01|0.1", rng=0)
    with pytest.raises(TypeError, match=r"weight_init: normal takes no parameter 'sd'"):
        api.forward_prop([4], "normal:sd=0.01", rng=0)


# -- issue 34: a constant layer's histogram -----------------------------------------------------

@pytest.mark.parametrize("api", [fastinit, fastinit.reference], ids=["engine", "reference"])
@pytest.mark.parametrize("value", [0.3, -2.0, 1e300, -1e300])
def test_a_constant_layers_histogram_holds_every_value_in_one_bin(api, value):
    # zero weights and a constant bias: every value of the linear layer is `value`. NumPy bins
    # a constant over [v - 0.5, v + 0.5]; where it cannot ("Too many bins for data range", for
    # 1e300), the edges widen to 2 * bins ulps either side: still every value in one bin
    result = api.forward_prop([7, 5], "zeros", activation="linear", bias=value, batch=6,
                              rng=0, bins=30)
    for layer in result.layers:
        edges, hist = np.asarray(layer.bin_edges), np.asarray(layer.hist)
        assert layer.min == layer.max == value
        assert len(edges) == 31 and np.all(np.diff(edges) > 0)
        assert edges[0] <= value <= edges[-1]
        assert hist.sum() == 6 * layer.width and np.count_nonzero(hist) == 1
        if abs(value) < 1e10:
            np.testing.assert_array_equal(edges, np.histogram_bin_edges([value], 30))
            np.testing.assert_array_equal(hist, np.histogram(np.full(6, value), 30)[0] *
                                          layer.width)


def test_data_range_edges_of_values_a_few_ulps_apart():
    from fastinit.network import data_range_edges
    lo = 1.0
    hi = np.nextafter(np.nextafter(lo, 2.0), 2.0)
    edges = data_range_edges(30, lo, hi)
    assert len(edges) == 31 and np.all(np.diff(edges) > 0)
    counts = np.histogram([lo, hi], edges)[0]
    # NumPy refuses 30 bins over 2 ulps; the widened edges hold both values, in one bin or two
    # neighbours (the docstring's "one bin or a few")
    assert counts.sum() == 2 and np.ptp(np.flatnonzero(counts)) <= 1


# The defects found by fuzzing and independent validation (issue 10), by section.

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


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape", [(256, 256), (256, 40), (12, 256), (1, 9), (9, 1)])
def test_orthogonal_weights_from_the_kernels_are_the_schemes_bit_for_bit(monkeypatch, dtype,
                                                                         shape):
    # the largest weight whose QR the kernels make (one LAPACK panel) and the thinnest; a
    # linear layer with the identity as its input outputs its weight itself
    from fastinit import propagation
    fan_in, width = shape
    calls = []
    fused_run = propagation._FusedNetwork.run
    monkeypatch.setattr(propagation._FusedNetwork, "run",
                        lambda *a: calls.append(1) or fused_run(*a))
    run = fastinit.forward_prop([width], "orthogonal:gain=0.7", activation="linear",
                                X=np.eye(fan_in, dtype=dtype), dtype=dtype, rng=23, bins=0)
    assert calls, "the one-call path did not run"
    from fastinit.network import ForwardArgs, plan
    p = plan(ForwardArgs([width], "orthogonal:gain=0.7", rng=23, dtype=dtype,
                         X=np.eye(fan_in, dtype=dtype)), propagation.ENGINE)
    expected = fastinit.orthogonal(shape, gain=0.7, rng=p.weight_rng(0), dtype=dtype)
    assert np.array_equal(run.acts[0].view(np.uint8), expected.view(np.uint8))


def _eye(fan_in, fan_out):
    return np.eye(fan_in, fan_out)


def _outside_fastinit(filename):
    """A warning's file is the caller's (this file; under mutmut, its trampoline, which wraps
    every call), never one of fastinit's own modules."""
    return not os.path.abspath(filename).startswith(os.path.dirname(fastinit.__file__) + os.sep)


def _overflow_warnings(api, X, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = api.forward_prop([4, 4], _eye, activation="linear", X=X, bins=4, **kwargs)
    ours = [w for w in caught if "layer" in str(w.message)]
    return result, ours


@pytest.mark.parametrize("api", [fastinit, reference], ids=["engine", "reference"])
def test_a_sum_that_overflows_makes_the_layer_nan_with_a_warning_at_the_callers_line(api):
    """Values of 1e308 are finite, their sum is not: the layer's mean, std, min and max are
    NaN (results.checked_stats), each layer says so once, numbered from 1, and the warning
    points at the caller's file, not inside fastinit."""
    result, caught = _overflow_warnings(api, np.full((2, 4), 1e308))
    assert [str(w.message) for w in caught] == [
        f"layer {n}'s activations overflowed (values or their sum not finite): its mean, std, "
        "min and max are NaN" for n in (1, 2)]
    assert all(w.category is RuntimeWarning and _outside_fastinit(w.filename) for w in caught)
    for layer in result.layers:
        assert all(math.isnan(getattr(layer, k)) for k in ("mean", "std", "min", "max"))


@pytest.mark.parametrize("api", [fastinit, reference], ids=["engine", "reference"])
def test_a_spread_that_overflows_makes_std_alone_nan(api):
    """+-1e308: the mean (0), min and max are finite, the squared deviations are not."""
    X = np.array([[1e308, -1e308, 1e308, -1e308]] * 2)
    result, caught = _overflow_warnings(api, X)
    assert [str(w.message) for w in caught] == [
        f"layer {n}'s activations' spread overflowed: its std is NaN" for n in (1, 2)]
    assert all(w.category is RuntimeWarning and _outside_fastinit(w.filename) for w in caught)
    for layer in result.layers:
        assert (layer.mean, layer.min, layer.max) == (0.0, -1e308, 1e308)
        assert math.isnan(layer.std)
        # max - min overflows: no equal-width bins hold both ends, so there is no histogram
        # (it was 4 empty bins around 0: every value lost)
        assert layer.hist.size == 0 and layer.bin_edges.size == 0


@pytest.mark.parametrize("api", [fastinit, reference], ids=["engine", "reference"])
def test_an_infinite_layer_has_no_histogram(api):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = api.forward_prop([4], lambda i, o: 4 * np.eye(i, o), activation="linear",
                                  X=np.full((2, 4), 1e308), bins=4)
    layer = result.layers[0]
    assert layer.hist.size == 0 and layer.bin_edges.size == 0


@pytest.mark.parametrize("api", [fastinit, reference], ids=["engine", "reference"])
@pytest.mark.parametrize("values, mid, half", [
    # a few ulps apart: NumPy refuses the range ("Too many bins"); the fallback is
    # [mid - 0.5, mid + 0.5] (network.data_range_edges' docstring)
    ([1.0, 1.0 + 2**-52, 1.0 + 2**-51, 1.0], 1.0 + 2**-52, 0.5),
    # a constant 1e307: half a unit is below its ulp; the fallback is 2 * bins ulps each side
    ([1e307] * 4, 1e307, 2 * 4 * float(np.spacing(1e307))),
])
def test_a_layer_numpy_cannot_bin_gets_the_documented_fallback_range(api, values, mid, half):
    result = api.forward_prop([4], _eye, activation="linear", X=np.array([values]), bins=4)
    layer = result.layers[0]
    np.testing.assert_array_equal(layer.bin_edges, np.linspace(mid - half, mid + half, 5))
    assert layer.hist.sum() == 4

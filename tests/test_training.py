"""The trainer (issue 33): gradients by finite differences, the engine against the reference,
thread-count invariance, the digits, and bad input."""
import numpy as np
import pytest

import fastinit
from fastinit import learning, reference
from fastinit.seeding import child

pytest.importorskip("sklearn")


def blobs(n=160, features=5, classes=3, seed=0):
    """A small labelled set: class means apart, unit noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    X = rng.standard_normal((n, features)) + 2.0 * np.eye(classes, features)[y]
    return X, y


def hand_loss(weights, biases, X, y, activation, loss):
    """The network's mean loss, written out in NumPy (float64): the oracle of the gradients."""
    h = X
    for layer, (W, b) in enumerate(zip(weights, biases)):
        z = h @ W + b
        last = layer == len(weights) - 1
        h = z if last else {"tanh": np.tanh, "relu": lambda t: np.maximum(t, 0),
                            "sigmoid": lambda t: 1 / (1 + np.exp(-t))}[activation](z)
    if loss == "cross_entropy":
        z = h - h.max(axis=1, keepdims=True)
        return float(-np.mean(z[np.arange(len(y)), y] - np.log(np.exp(z).sum(axis=1))))
    target = np.eye(h.shape[1])[y]
    return float(0.5 * np.mean(np.sum((h - target) ** 2, axis=1)))


@pytest.mark.parametrize("api", [fastinit, reference], ids=["engine", "reference"])
@pytest.mark.parametrize("activation, loss", [("tanh", "cross_entropy"), ("sigmoid", "mse"),
                                              ("relu", "cross_entropy")])
def test_the_step_follows_the_gradient_finite_differences_give(api, activation, loss):
    # one step with momentum 0: w1 = w0 - lr * dL/dw, so (w0 - w1) / lr is the gradient the
    # trainer used, on the first batch of its seeded shuffle; central differences of a loss
    # written out here must agree with it, entry by entry, in every layer and bias
    X, y = blobs()
    kwargs = dict(activation=activation, loss=loss, batch_size=32, test=0, rng=5,
                  bias=0.1, momentum=0.0, standardize=False)
    before = api.train([7, 6], "xavier_normal", X, y, steps=0, **kwargs)
    lr = 1e-3
    after = api.train([7, 6], "xavier_normal", X, y, steps=1, lr=lr, **kwargs)
    rows = np.random.default_rng(child(child(5, 2**31), 1)).permutation(len(y))[:32]
    Xb, yb = X[rows], y[rows]
    rng = np.random.default_rng(1)
    params = [*before.weights, *before.biases]
    trained = [*after.weights, *after.biases]
    for index, (w0, w1) in enumerate(zip(params, trained)):
        used = (w0 - w1) / lr
        for flat in rng.choice(w0.size, size=min(4, w0.size), replace=False):
            h = 1e-6
            probes = []
            for sign in (1, -1):
                moved = [p.copy() for p in params]
                moved[index].reshape(-1)[flat] += sign * h
                probes.append(hand_loss(moved[:3], moved[3:], Xb, yb, activation, loss))
            numeric = (probes[0] - probes[1]) / (2 * h)
            assert used.reshape(-1)[flat] == pytest.approx(numeric, rel=1e-5, abs=1e-8), \
                (index, flat)


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-10), ("float32", 2e-4)])
def test_the_engine_trains_like_the_reference(dtype, rtol):
    X, y = blobs(n=300, features=8, classes=4)
    kwargs = dict(activation="tanh", steps=60, batch_size=40, lr=0.05, rng=9, dtype=dtype,
                  eval_every=20)
    ours = fastinit.train([32, 32, 32], "lecun_normal", X, y, **kwargs)
    spec = reference.train([32, 32, 32], "lecun_normal", X, y, **kwargs)
    np.testing.assert_allclose(ours.loss, spec.loss, rtol=rtol)
    np.testing.assert_allclose(ours.test_loss, spec.test_loss, rtol=rtol)
    for a, b in zip(ours.weights, spec.weights):
        np.testing.assert_allclose(a, b, rtol=rtol * 10, atol=rtol)
    assert list(ours.eval_steps) == [0, 20, 40, 60] == sorted(ours.layers)
    for step in ours.layers:  # per-layer statistics at each evaluation step
        for mine, theirs in zip(ours.layers[step], spec.layers[step]):
            for key in ("mean", "std", "grad_std", "weight_grad_std"):
                assert mine[key] == pytest.approx(theirs[key], rel=rtol * 10, abs=1e-12)


def test_step_zero_is_the_network_forward_prop_runs():
    X, y = blobs(n=100, features=6)
    run = fastinit.train([12, 12], "he_normal", X, y, steps=0, rng=4, test=0, batch_size=50,
                         activation="relu", standardize=False)
    prop = fastinit.forward_prop([12, 12], "he_normal", X=X, rng=4, activation="relu")
    h = X
    for layer in range(2):  # the same weights: the same activations
        h = np.maximum(h @ run.weights[layer] + run.biases[layer], 0)
        np.testing.assert_allclose(h, prop.acts[layer], rtol=1e-12, atol=1e-12)


def test_the_same_bits_on_any_thread_count():
    X, y = blobs(n=400, features=20, classes=5)
    runs = [fastinit.train([300, 260], "lecun_normal", X, y, steps=5, batch_size=300, rng=2,
                           num_threads=n, dtype="float32") for n in (1, 2, 3)]
    for run in runs[1:]:
        assert np.array_equal(run.loss, runs[0].loss)
        for a, b in zip(run.weights, runs[0].weights):
            assert np.array_equal(a.view(np.uint32), b.view(np.uint32))


def test_the_digits_teach_the_seed_studys_lesson():
    # scikit-learn's digits by default: a LeCun-initialised tanh network learns them, an
    # all-zero one cannot move off chance (every hidden unit stays at 0, so no weight below
    # the readout gets a gradient)
    good = fastinit.train([64] * 3, "lecun_normal", steps=150, rng=0, dtype="float32")
    dead = fastinit.train([64] * 3, "zeros", steps=150, rng=0, dtype="float32")
    assert good.final_test_accuracy > 0.85
    assert dead.final_test_accuracy < 0.2
    assert all(np.all(w == 0) for w in dead.weights[:3])
    assert good.test_accuracy[0] < 0.3  # it learned: step 0 was chance


def test_digits_are_scikit_learns():
    from sklearn.datasets import load_digits
    X, y = learning.digits()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert np.array_equal(X, load_digits().data) and set(y) == set(range(10))


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(loss="hinge"), ValueError, "loss"),
    (dict(lr=-1.0), ValueError, "lr"),
    (dict(lr="fast"), TypeError, "lr"),
    (dict(momentum=1.0), ValueError, "momentum"),
    (dict(batch_size=0), ValueError, "batch_size"),
    (dict(batch_size=10**6), ValueError, "batch_size"),
    (dict(steps=-1), ValueError, "steps"),
    (dict(test=1.5), ValueError, "test"),
    (dict(activation="gelu"), ValueError, "gelu"),
    (dict(y=np.zeros(3, int)), ValueError, "y"),
    (dict(y=np.full(160, -1)), ValueError, "y"),
    (dict(X=np.full((160, 5), np.nan)), ValueError, "X"),
    (dict(eval_every=0), ValueError, "eval_every"),
])
def test_bad_arguments_are_refused_naming_them(kwargs, error, match):
    X, y = blobs()
    args = {"X": X, "y": y, **kwargs}
    for api in (fastinit, reference):
        with pytest.raises(error, match=match):
            api.train([8], "lecun_normal", **args)


def test_train_demo_writes_what_it_says(tmp_path):
    from conftest import fastinit_cli
    result = fastinit_cli("train-demo", "--out", tmp_path / "demo", "--steps", 30, "--width", 48,
                          "--depth", 3, "--batch-size", 64)
    import csv
    with open(tmp_path / "demo" / "train_demo.csv") as f:
        rows = list(csv.DictReader(f))
    assert {r["init"] for r in rows} == {"zeros", "std 0.01", "std 1", "xavier_normal",
                                         "lecun_normal", "LSUV"}
    assert len(rows) == 6 * 30
    final = {r["init"]: float(r["test_accuracy"]) for r in rows if r["step"] == "30"}
    assert final["lecun_normal"] > 0.5 > final["zeros"]  # the lesson, in the file
    assert "lecun_normal" in result.stdout and "wrote train_demo.csv, train_demo.png" in \
        result.stdout
    plt = pytest.importorskip("matplotlib.pyplot")
    image = plt.imread(tmp_path / "demo" / "train_demo.png")
    assert image.shape[1] > 1000 and (image[..., :3] < 0.5).mean() > 0.01
    bad = fastinit_cli("train-demo", "--steps", 0, "--out", tmp_path / "x", check=False)
    assert bad.returncode == 2 and "--steps" in bad.stderr and "Traceback" not in bad.stderr


def test_training_figure_draws_each_runs_numbers():
    pytest.importorskip("matplotlib")
    from fastinit import plot
    X, y = blobs(n=200)
    runs = {"lecun": fastinit.train([16, 16], "lecun_normal", X, y, steps=40, batch_size=32,
                                    rng=1, eval_every=10),
            "zeros": fastinit.train([16, 16], "zeros", X, y, steps=40, batch_size=32, rng=1,
                                    eval_every=10)}
    fig = plot.training_figure(runs)
    loss_ax, accuracy_ax, std_ax = fig.axes[:3]
    assert len(loss_ax.lines) == 2
    for line, run in zip(accuracy_ax.lines, runs.values()):  # the chance line comes last
        np.testing.assert_array_equal(line.get_ydata(), run.test_accuracy)
        np.testing.assert_array_equal(line.get_xdata(), run.eval_steps)
    # zeros' activations are exactly 0: not drawn on the log axis, but said in words
    assert len(std_ax.lines) == 1
    assert any("zeros: every unit exactly 0" in t.get_text() for t in std_ax.texts)
    smooth = np.convolve(runs["lecun"].loss, np.ones(10) / 10, mode="valid")
    np.testing.assert_allclose(loss_ax.lines[0].get_ydata(), smooth)


@pytest.mark.parametrize("api", [fastinit, reference], ids=["engine", "reference"])
def test_lsuv_gives_every_layer_unit_variance_on_the_batch(api, monkeypatch):
    # train(..., "lsuv") at step 0: orthogonal weights, each layer then scaled so that its
    # output before the activation has variance 1 within 0.1 on the first 256 examples,
    # checked here layer by layer with NumPy on the weights it returns
    X, y = blobs(n=400, features=30)
    run = api.train([64, 48, 32], "lsuv", X, y, steps=0, test=0, rng=3, bias=0.05)
    h = (X - X.mean(0)) / X.std(0)
    h = h[:256]
    for layer, (W, b) in enumerate(zip(run.weights, run.biases)):
        z = h @ W + b
        assert abs(z.var() - 1.0) < 0.1, layer
        h = np.tanh(z)
        # the direction is orthogonal's: W's columns orthogonal, all of one norm
        gram = W.T @ W if W.shape[0] >= W.shape[1] else W @ W.T
        scale = gram[0, 0]
        np.testing.assert_allclose(gram, scale * np.eye(len(gram)), atol=1e-10 * scale)

"""The backward pass: against a hand-written backward pass on the documented weights, the
derivative-from-output formulas against the derivatives, and engine == reference."""
import numpy as np
import pytest

import fastinit
import fastinit.reference as reference
from fastinit import theory
from fastinit.gradients import derivative
from fastinit.seeding import child


@pytest.mark.parametrize("activation", [a for a in fastinit.ACTIVATIONS if a != "gelu"])
def test_derivative_from_output_equals_derivative(activation):
    z = np.linspace(-6, 6, 10001)
    z = z[z != 0]  # the kink, where either side's slope is a valid choice
    h = theory.phi(z, activation, 0.1)
    np.testing.assert_allclose(derivative(h, activation, 0.1), theory.dphi(z, activation, 0.1),
                               rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("activation", ["tanh", "relu", "gelu", "selu"])
def test_against_a_hand_written_backward_pass(activation):
    widths, batch = [30, 20, 10], 16
    root = np.random.SeedSequence(5)
    bias = fastinit.get_initializer("normal", std=0.1)
    result = fastinit.forward_prop(widths, "he_normal", activation=activation, bias=bias,
                                   rng=root, batch=batch, backward=True)
    X = fastinit.normal((batch, widths[0]), rng=child(root, 0))
    Ws = [fastinit.he_normal((fan_in, w), rng=child(root, i + 1))
          for i, (fan_in, w) in enumerate(zip([widths[0]] + widths[:-1], widths))]
    bs = [fastinit.normal(w, std=0.1, rng=child(child(root, i + 1), 1))
          for i, w in enumerate(widths)]
    Hs, Zs = [X], []
    for W, b in zip(Ws, bs):
        Zs.append(Hs[-1] @ W + b)
        Hs.append(theory.phi(Zs[-1], activation))
    G = fastinit.normal((batch, widths[-1]), rng=child(root, len(widths) + 1))
    for layer in reversed(range(len(widths))):
        D = G * theory.dphi(Zs[layer], activation)
        dW = Hs[layer].T @ D
        got = result.layers[layer]
        assert got.grad_std == pytest.approx(G.std(), rel=1e-9)
        assert got.weight_grad_norm == pytest.approx(np.linalg.norm(dW), rel=1e-9)
        assert got.weight_grad_std == pytest.approx(dW.std(), rel=1e-9)
        G = D @ Ws[layer].T


@pytest.mark.parametrize("kwargs", [
    {"rng": 3}, {"rng": 3, "block_bytes": 4000}, {"rng": np.random.default_rng(3)},
    {"rng": 3, "dtype": "float32"}, {"rng": 3, "keep_activations": False},
], ids=["seed", "blocked", "generator", "float32", "not-kept"])
def test_engine_equals_reference(kwargs):
    def run(api):
        args = {k: (np.random.default_rng(3) if k == "rng" and not isinstance(v, int) else v)
                for k, v in kwargs.items()}
        return api.forward_prop([60, 50, 40], "xavier_uniform", activation="tanh", batch=70,
                                backward=True, **args)
    e, r = run(fastinit), run(reference)
    rtol = 1e-4 if kwargs.get("dtype") == "float32" else 1e-9
    for a, b in zip(e.layers, r.layers):
        for name in ("grad_std", "weight_grad_norm", "weight_grad_std"):
            assert getattr(a, name) == pytest.approx(getattr(b, name), rel=rtol)
    if not kwargs.get("keep_activations", True):
        assert e.acts == {}


def test_user_callable_weights_are_kept_for_the_backward_pass():
    def init(fan_in, fan_out):
        return np.random.randn(fan_in, fan_out) / np.sqrt(fan_in)
    np.random.seed(1)
    e = fastinit.forward_prop([40, 30], init, rng=2, batch=20, backward=True)
    np.random.seed(1)
    r = reference.forward_prop([40, 30], init, rng=2, batch=20, backward=True)
    assert [a.grad_std for a in e.layers] == pytest.approx([b.grad_std for b in r.layers],
                                                           rel=1e-9)


def test_given_upstream_gradient_and_no_backward_means_nan():
    G = np.full((8, 5), 2.0)
    result = fastinit.forward_prop([6, 5], "lecun_normal", rng=0, batch=8, backward=True,
                                   upstream=G)
    assert result.layers[-1].grad_std == 0.0  # the given constant gradient
    plain = fastinit.forward_prop([6, 5], "lecun_normal", rng=0, batch=8)
    assert np.isnan(plain.layers[0].grad_std)
    assert "grad_std" in plain.to_records()[0]


def test_glorot_bengio_story():
    # tanh with the old uniform 1/sqrt(fan_in) init: back-propagated gradients shrink towards
    # the input; Xavier keeps their spread far more even across layers
    def spread(init):
        r = fastinit.forward_prop([500] * 5, init, rng=0, batch=500, backward=True,
                                  keep_activations=False, bins=0)
        stds = [layer.grad_std for layer in r.layers]
        return max(stds) / min(stds)
    assert spread("uniform") > 1.5 * spread("xavier_uniform")


@pytest.mark.parametrize("kwargs, match", [
    ({"upstream": np.ones((3, 3))}, "backward=True"),
    ({"backward": True, "upstream": np.ones((3, 3))}, "shape"),
    ({"backward": True, "upstream": np.full((10, 4), np.nan)}, "NaN"),
])
def test_bad_upstream(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fastinit.forward_prop([5, 4], "he_normal", batch=10, **kwargs)


@pytest.mark.parametrize("init, activation", [("xavier_normal", "tanh"), ("he_normal", "relu"),
                                              ("lecun_uniform", "selu"),
                                              ("xavier_uniform", "sigmoid")])
def test_measured_gradient_stds_follow_the_prediction(init, activation):
    r = fastinit.forward_prop([1500] * 4, init, activation=activation, rng=0, batch=1000,
                              backward=True, keep_activations=False, bins=0)
    measured = [layer.grad_std for layer in r.layers]
    predicted = [layer.predicted_grad_std for layer in r.layers]
    assert predicted[-1] == measured[-1]  # the prediction starts from the measured upstream
    np.testing.assert_allclose(measured, predicted, rtol=0.04)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("activation", fastinit.ACTIVATIONS)
def test_backward_kernels_equal_the_reference_for_every_activation(activation, dtype):
    kwargs = dict(activation=activation, batch=150, rng=8, dtype=dtype, backward=True,
                  bias=0.05, keep_activations=False)
    e = fastinit.forward_prop([130, 300, 70], "he_uniform", **kwargs)
    r = reference.forward_prop([130, 300, 70], "he_uniform", **kwargs)
    rtol = 1e-4 if dtype == "float32" else 1e-9
    for a, b in zip(e.layers, r.layers):
        for name in ("grad_std", "weight_grad_norm", "weight_grad_std"):
            assert getattr(a, name) == pytest.approx(getattr(b, name), rel=rtol), name


def test_backward_is_thread_count_invariant():
    runs = [fastinit.forward_prop([200, 700, 150], "xavier_normal", rng=1, batch=300,
                                  backward=True, num_threads=n) for n in (1, 2, 3)]
    for run in runs[1:]:
        assert [(s.grad_std, s.weight_grad_norm, s.weight_grad_std) for s in run.layers] == \
            [(s.grad_std, s.weight_grad_norm, s.weight_grad_std) for s in runs[0].layers]

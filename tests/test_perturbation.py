"""Sensitivity to input noise: X and X + eps * noise through the same weights."""
import math

import numpy as np
import pytest

import fastinit
import fastinit.reference as reference
from fastinit.seeding import child


def test_linear_layer_distance_is_the_propagated_noise():
    root = np.random.SeedSequence(3)
    r = fastinit.forward_prop([20], "lecun_normal", activation="linear", rng=root, batch=50,
                              perturbation=0.1)
    noise = fastinit.normal((50, 20), rng=child(root, 3))  # child(ss, depth + 2)
    W = fastinit.lecun_normal((20, 20), rng=child(root, 1))
    X = fastinit.normal((50, 20), rng=child(root, 0))
    assert r.layers[0].distance == pytest.approx(np.mean((0.1 * noise @ W) ** 2), rel=1e-9)
    a, b = X @ W, (X + 0.1 * noise) @ W
    assert r.layers[0].correlation == pytest.approx(
        np.sum(a * b) / np.sqrt(np.sum(a * a) * np.sum(b * b)), rel=1e-12)


def test_zero_perturbation():
    r = fastinit.forward_prop([40] * 3, "xavier_normal", rng=1, batch=30, perturbation=0.0)
    assert all(layer.distance == 0 and layer.correlation == pytest.approx(1.0, abs=1e-15)
               for layer in r.layers)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_engine_equals_reference(dtype):
    kwargs = dict(rng=2, batch=100, perturbation=1e-2, dtype=dtype, activation="tanh")
    e = fastinit.forward_prop([80] * 4, "he_normal", **kwargs)
    r = reference.forward_prop([80] * 4, "he_normal", **kwargs)
    rtol = 1e-9 if dtype == "float64" else 1e-3
    for a, b in zip(e.layers, r.layers):
        assert a.distance == pytest.approx(b.distance, rel=rtol)
        assert a.correlation == pytest.approx(b.correlation, rel=rtol)


def test_small_noise_dies_out_when_ordered_and_grows_when_chaotic():
    def distances(sigma_w2):
        init = fastinit.get_initializer("normal", std=np.sqrt(sigma_w2 / 500))
        r = fastinit.forward_prop([500] * 10, init, rng=0, perturbation=1e-3,
                                  keep_activations=False, bins=0)
        return [layer.distance for layer in r.layers]
    ordered, chaotic = distances(0.5), distances(4.0)
    assert all(b < a for a, b in zip(ordered, ordered[1:]))
    assert all(b > a for a, b in zip(chaotic, chaotic[1:]))


@pytest.mark.parametrize("kwargs, error", [
    ({"perturbation": -1.0}, ValueError),
    ({"perturbation": 0.1, "rng": np.random.default_rng(0)}, ValueError),
    ({"perturbation": 0.1, "weight_init": lambda i, o: np.ones((i, o))}, ValueError),
    ({"perturbation": "big"}, TypeError),
])
def test_bad_perturbation(kwargs, error):
    kwargs = {"weight_init": "he_normal", **kwargs}
    with pytest.raises(error, match="perturbation"):
        fastinit.forward_prop([5], batch=4, **kwargs)


@pytest.mark.parametrize("activation, sigma_w2, sigma_b2, tolerance", [
    ("tanh", 0.8, 0.0, 0.01), ("tanh", 1.5, 0.0, 0.01), ("tanh", 3.0, 0.05, 0.01),
    ("sigmoid", 4.0, 0.0, 0.01), ("selu", 1.0, 0.0, 0.01), ("relu", 2.0, 0.0, 0.03),
])
def test_measured_correlations_follow_the_correlation_map(activation, sigma_w2, sigma_b2,
                                                         tolerance):
    width = 1000
    init = fastinit.get_initializer("normal", std=np.sqrt(sigma_w2 / width))
    bias = fastinit.get_initializer("normal", std=np.sqrt(sigma_b2)) if sigma_b2 else 0.0
    r = fastinit.forward_prop([width] * 8, init, activation=activation, bias=bias, rng=1,
                              batch=400, input_correlation=0.5, keep_activations=False, bins=0)
    measured = [layer.correlation for layer in r.layers]
    predicted = [layer.predicted_correlation for layer in r.layers]
    np.testing.assert_allclose(measured, predicted, atol=tolerance)
    # and the prediction is not the trivial one: the correlation moves over depth
    assert abs(predicted[-1] - 0.5) > 0.03


def test_linear_network_keeps_the_input_correlation_in_theory_and_in_measurement():
    r = fastinit.forward_prop([800] * 3, "lecun_normal", activation="linear", rng=4, batch=300,
                              input_correlation=-0.3, keep_activations=False, bins=0)
    for layer in r.layers:
        assert layer.predicted_correlation == pytest.approx(-0.3, abs=1e-12)
        assert layer.correlation == pytest.approx(-0.3, abs=0.01)


def test_fully_correlated_inputs_are_the_same_input():
    r = fastinit.forward_prop([50] * 3, "xavier_normal", rng=3, batch=20, input_correlation=1.0)
    assert all(layer.distance == 0 and layer.correlation == pytest.approx(1, abs=1e-14)
               for layer in r.layers)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_correlated_pair_engine_equals_reference(dtype):
    kwargs = dict(rng=5, batch=60, input_correlation=0.2, dtype=dtype, activation="selu")
    e = fastinit.forward_prop([70] * 3, "lecun_normal", **kwargs)
    r = reference.forward_prop([70] * 3, "lecun_normal", **kwargs)
    rtol = 1e-9 if dtype == "float64" else 1e-3
    for a, b in zip(e.layers, r.layers):
        assert a.correlation == pytest.approx(b.correlation, rel=rtol)
        assert a.predicted_correlation == b.predicted_correlation
    # and the shared prediction against an independent computation (SELU written here)
    for layer, expected in zip(e.layers, selu_correlation_map(0.2, 3)):
        assert layer.predicted_correlation == pytest.approx(expected, abs=1e-9)


SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805  # Klambauer et al. 2017


def selu(x):
    return SELU_SCALE * (x if x > 0 else SELU_ALPHA * math.expm1(x))


def selu_mean(a, b):
    """E[selu(a + b Z)], Z ~ N(0, 1), in closed form: E[(a + bZ)+] = a Phi(a/b) + b pdf(a/b),
    E[(e^{a + bZ} - 1) 1{a + bZ < 0}] = e^{a + b^2/2} Phi(-a/b - b) - Phi(-a/b)."""
    from scipy.stats import norm
    t = a / b
    positive = a * norm.cdf(t) + b * norm.pdf(t)
    negative = math.exp(a + b * b / 2) * norm.cdf(-t - b) - norm.cdf(-t)
    return SELU_SCALE * (positive + SELU_ALPHA * negative)


def selu_correlation_map(c0, depth):
    """Mean-field correlation of two signals through lecun_normal SELU layers (Var W = 1/fan_in,
    unit input second moment): q_l = E[phi(sqrt(q_{l-1}) z)^2], and the output cosine
    E[phi(u1) phi(u2)] / E[phi(u)^2], (u1, u2) of variance q and correlation c_l. The inner
    expectation over u2 given u1 in closed form (selu_mean), the outer by adaptive quadrature
    split at the kink (scipy.integrate.quad): nothing shared with fastinit.theory."""
    from scipy import integrate
    from scipy.stats import norm
    second, cross, out = 1.0, c0, []
    for _ in range(depth):
        s, c = math.sqrt(second), cross / second
        r = math.sqrt(1 - c * c)
        second = integrate.quad(lambda z: selu(s * z) ** 2 * norm.pdf(z), -14, 14,
                                points=[0.0], epsabs=1e-14, limit=200)[0]
        cross = integrate.quad(lambda z: selu(s * z) * selu_mean(s * c * z, s * r)
                               * norm.pdf(z), -14, 14, points=[0.0], epsabs=1e-14,
                               limit=200)[0]
        out.append(cross / second)
    return out


@pytest.mark.parametrize("kwargs, match", [
    ({"input_correlation": 1.5}, "input_correlation must be in"),
    ({"input_correlation": 0.5, "perturbation": 0.1}, "not both"),
    ({"input_correlation": "high"}, "input_correlation"),
    ({"input_correlation": 0.5, "rng": np.random.default_rng(0)}, "input_correlation"),
])
def test_bad_input_correlation(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        fastinit.forward_prop([5], "he_normal", batch=4, **kwargs)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_correlated_second_input_is_c_x_plus_the_noise_exactly(dtype):
    # one linear layer of identity weights: layer 1 is the input itself, so the distance and
    # correlation are those of X and c X + sqrt(1 - c^2) noise, summed in float64
    root = np.random.SeedSequence(8)
    X = (1e-3 * np.arange(40 * 5).reshape(40, 5) / 200 - 4e-4).astype(dtype)  # tiny: norms < 1
    c = 0.6
    r = fastinit.forward_prop([5], "identity", activation="linear", X=X, rng=root,
                              input_correlation=c, dtype=dtype, keep_activations=False)
    noise = fastinit.normal((40, 5), rng=child(root, 3), dtype=dtype)  # child(ss, depth + 2)
    second = np.dtype(dtype).type(c) * X + np.dtype(dtype).type(math.sqrt(1 - c * c)) * noise
    a, b = X.astype(np.float64), second.astype(np.float64)
    layer = r.layers[0]
    # float32: differences and products are rounded to float32 before the float64 sums
    rel = 1e-12 if dtype == "float64" else 1e-6
    assert layer.distance == pytest.approx(np.mean((a - b) ** 2), rel=rel)
    assert layer.correlation == pytest.approx(
        np.sum(a * b) / math.sqrt(np.sum(a * a) * np.sum(b * b)), rel=rel)
    with pytest.raises(KeyError, match="not kept"):
        r.acts[0]
    with pytest.raises(KeyError, match="indexed by layer position 0 .. 0"):
        r.acts["first"]


def test_correlation_predictions_read_the_slope_and_the_inputs_second_moment():
    X = 2.0 * np.random.default_rng(5).standard_normal((400, 30))  # E[x^2] = 4
    # leaky ReLU of slope 1 is the identity: the prediction keeps c
    r = fastinit.forward_prop([30, 30], "lecun_normal", activation="leaky_relu",
                              negative_slope=1.0, X=X, rng=1, input_correlation=0.3)
    assert [s.predicted_correlation for s in r.layers] == pytest.approx([0.3, 0.3], rel=1e-12)
    # tanh bends: the prediction is theory's for inputs of second moment E[x^2]
    r = fastinit.forward_prop([30, 30], "lecun_normal", X=X, rng=1, input_correlation=0.3)
    network = [(30, 30, 1.0 / 30, 0.0, "tanh")] * 2
    expected = fastinit.theory.predict_correlation(network, 0.3,
                                                   input_variance=float(np.mean(X * X)))
    assert [s.predicted_correlation for s in r.layers] == pytest.approx(expected, rel=1e-12)
    assert expected != pytest.approx(fastinit.theory.predict_correlation(network, 0.3),
                                     rel=1e-3)

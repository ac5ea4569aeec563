"""Independent oracles for the code the engine and the reference share, where comparing the two
cannot see a bug: derivatives against finite differences, histogram edges and law parameters
written out here, predictions against closed forms on non-square networks whose input has
E[x^2] != 1."""
import math

import numpy as np
import pytest

import fastinit
import fastinit.reference as reference
from fastinit import activations
from fastinit.gradients import derivative

STEP = 1e-6


@pytest.mark.parametrize("name", activations.NAMES)
def test_each_derivative_is_the_finite_difference_of_its_function(name):
    # points away from the kinks at 0, where a central difference is not the derivative
    x = np.concatenate([np.linspace(-4.0, -0.05, 40), np.linspace(0.05, 4.0, 40)])
    slope = 0.13
    numeric = (activations.phi(x + STEP, name, slope) - activations.phi(x - STEP, name, slope)) \
        / (2 * STEP)
    np.testing.assert_allclose(activations.dphi(x, name, slope), numeric, rtol=1e-6, atol=1e-8)
    # the backward pass reads phi' back from the outputs h = phi(z) (or recomputes z): the same
    h = activations.phi(x, name, slope)
    np.testing.assert_allclose(derivative(h, name, slope, z=x), numeric, rtol=1e-6, atol=1e-8)


# the default histogram range of each bounded activation, and 30 bins over it
EDGES = {
    "tanh": [-1.0 + k / 15 for k in range(31)],
    "sigmoid": [k / 30 for k in range(31)],
}


@pytest.mark.parametrize("name", sorted(EDGES))
def test_bounded_activations_histogram_over_their_range(api, name):
    result = api.forward_prop([20, 20], "xavier_normal", activation=name, batch=5, rng=0)
    for layer in result.layers:
        np.testing.assert_allclose(layer.bin_edges, EDGES[name], rtol=0, atol=1e-15)
        assert layer.hist.sum() == 5 * 20


@pytest.mark.parametrize("name", [n for n in activations.NAMES if n not in EDGES])
def test_unbounded_activations_histogram_over_the_data(name):
    result = fastinit.forward_prop([20, 20], "xavier_normal", activation=name, batch=5, rng=0)
    for layer in result.layers:
        assert layer.bin_edges[0] == layer.min and layer.bin_edges[-1] == layer.max


FAN_IN, FAN_OUT = 300, 200
# scheme, parameters, (law, the law's parameters) from the papers' formulas, written out here
LAW_TABLE = [
    ("he_normal", {}, "normal", (0.0, math.sqrt(2 / FAN_IN))),
    ("he_normal", {"mode": "fan_out", "nonlinearity": "tanh"}, "normal",
     (0.0, 5 / 3 / math.sqrt(FAN_OUT))),
    ("he_uniform", {}, "uniform", (-math.sqrt(6 / FAN_IN), math.sqrt(6 / FAN_IN))),
    ("he_uniform", {"nonlinearity": "leaky_relu", "negative_slope": 0.2}, "uniform",
     (-math.sqrt(2 / 1.04) * math.sqrt(3 / FAN_IN), math.sqrt(2 / 1.04) * math.sqrt(3 / FAN_IN))),
    ("xavier_normal", {}, "normal", (0.0, math.sqrt(2 / (FAN_IN + FAN_OUT)))),
    ("xavier_uniform", {"gain": 2.0}, "uniform",
     (-2 * math.sqrt(6 / (FAN_IN + FAN_OUT)), 2 * math.sqrt(6 / (FAN_IN + FAN_OUT)))),
    ("lecun_normal", {}, "normal", (0.0, 1 / math.sqrt(FAN_IN))),
    ("lecun_uniform", {}, "uniform", (-math.sqrt(3 / FAN_IN), math.sqrt(3 / FAN_IN))),
    ("uniform", {}, "uniform", (-1 / math.sqrt(FAN_IN), 1 / math.sqrt(FAN_IN))),
    ("variance_scaling", {"scale": 2.0, "mode": "fan_avg", "distribution": "uniform"},
     "uniform", (-math.sqrt(3 * 2 / 250), math.sqrt(3 * 2 / 250))),
    ("variance_scaling", {"distribution": "untruncated_normal"}, "normal",
     (0.0, math.sqrt(1 / FAN_IN))),
]


@pytest.mark.parametrize("name, params, kind, expected", LAW_TABLE,
                         ids=[f"{r[0]}-{i}" for i, r in enumerate(LAW_TABLE)])
def test_each_scheme_draws_from_the_papers_law(name, params, kind, expected):
    law = fastinit.get_initializer(name, **params).law((FAN_IN, FAN_OUT))
    assert law.kind == kind
    got = (law.mean, law.std) if kind == "normal" else (law.low, law.high)
    assert got == pytest.approx(expected, rel=1e-12)


def test_keras_truncated_normal_has_the_asked_variance():
    law = fastinit.get_initializer("variance_scaling", scale=3.0).law((FAN_IN, FAN_OUT))
    # N(0, s^2) truncated to [-2s, 2s] has variance s^2 (1 - 4 phi(2) / (2 Phi(2) - 1))
    from scipy.stats import truncnorm
    assert (law.a, law.b) == pytest.approx((-2 * law.std, 2 * law.std))
    assert truncnorm(-2, 2, scale=law.std).var() == pytest.approx(3.0 / FAN_IN, rel=1e-12)


WIDTHS = [800, 1500, 400]
INPUT_DIM = 300


def _network(api, activation, backward=False):
    X = 2.0 * np.random.default_rng(0).standard_normal((50, INPUT_DIM))  # E[x^2] = 4
    return api.forward_prop(WIDTHS, "he_normal", activation=activation, X=X, rng=1,
                            keep_activations=False, backward=backward), float(np.mean(X * X))


@pytest.mark.parametrize("api", [fastinit, reference], ids=["engine", "reference"])
def test_linear_and_relu_predictions_on_a_non_square_network(api):
    for activation in ("linear", "relu"):
        result, second = _network(api, activation)
        fan_in = INPUT_DIM
        for layer, width in zip(result.layers, WIDTHS):
            q = fan_in * (2 / fan_in) * second  # he_normal: Var W = 2 / fan_in
            if activation == "linear":
                mean, second = 0.0, q
            else:  # relu of N(0, q): mean sqrt(q / 2 pi), second moment q / 2
                mean, second = math.sqrt(q / (2 * math.pi)), q / 2
            assert layer.predicted_mean == pytest.approx(mean, rel=1e-9, abs=1e-12)
            assert layer.predicted_std == pytest.approx(math.sqrt(second - mean**2), rel=1e-9)
            fan_in = width


@pytest.mark.parametrize("api", [fastinit, reference], ids=["engine", "reference"])
def test_backward_prediction_uses_each_layers_width(api):
    result, _ = _network(api, "linear", backward=True)
    layers = result.layers
    assert layers[-1].predicted_grad_std == layers[-1].grad_std
    fan_ins = [INPUT_DIM] + WIDTHS[:-1]
    for lower, upper, width, fan_in in zip(layers[:-1], layers[1:], WIDTHS[1:], fan_ins[1:]):
        # G_{l-1} = G_l W_l^T sums over the layer's width: Var = width Var(W_l) Var(G_l)
        gain = math.sqrt(width * 2 / fan_in)
        assert lower.predicted_grad_std == pytest.approx(upper.predicted_grad_std * gain,
                                                         rel=1e-12)
        # and the measurement agrees to a few percent at these widths
        assert lower.grad_std == pytest.approx(lower.predicted_grad_std, rel=0.1)


@pytest.mark.parametrize("figure", ["classic", "overlay"])
def test_figures_put_layer_numbers_on_their_x_axis(tmp_path, figure):
    pytest.importorskip("matplotlib")
    from fastinit import plot, sweep
    if figure == "classic":
        result = fastinit.forward_prop([8] * 4, "lecun_normal", batch=10, rng=0)
        fig = plot.classic_figure(result, "t", tmp_path / "c.png")
    else:
        result = sweep.sweep(init="lecun_normal", depth=4, width=8, batch=10)
        fig = plot.sweep_overlay(result.records, tmp_path / "o.png")
    x = fig.axes[0].lines[0].get_xdata()
    assert list(x) == [1, 2, 3, 4]  # layers count from 1

"""Mean-field predictions: quadrature against closed forms, the known critical points, and the
engine's measurements at width 2000 within 3% of the prediction."""
import math

import numpy as np
import pytest
from scipy import integrate

import fastinit
from fastinit import theory
from scipy import optimize, special


def quad_expectation(f, q):
    g = lambda z: f(math.sqrt(q) * z) * math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)  # noqa: E731
    return integrate.quad(g, -np.inf, 0, epsabs=1e-14)[0] + \
        integrate.quad(g, 0, np.inf, epsabs=1e-14)[0]


@pytest.mark.parametrize("activation", fastinit.ACTIVATIONS)
@pytest.mark.parametrize("q", [0.05, 1.0, 7.0])
def test_quadrature_against_adaptive_integration(activation, q):
    f = lambda x: float(theory.phi(np.array(x), activation) ** 2)  # noqa: E731
    assert theory.gaussian_expectation(lambda x: theory.phi(x, activation) ** 2, q) == \
        pytest.approx(quad_expectation(f, q), rel=1e-10, abs=1e-14)


@pytest.mark.parametrize("q", [0.3, 1.0, 4.0])
def test_relu_and_linear_closed_forms(q):
    mean, std = theory.moments(q, "relu")
    assert mean == pytest.approx(math.sqrt(q / (2 * math.pi)), rel=1e-12)
    assert std**2 + mean**2 == pytest.approx(q / 2, rel=1e-12)
    assert theory.variance_map(q, 1.5, 0.2, "linear") == pytest.approx(1.5 * q + 0.2, rel=1e-12)



@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "tanh"])
@pytest.mark.parametrize("c", [-0.5, 0.3, 0.9])
def test_correlation_map_against_adaptive_2d_integration(activation, c):
    q, w2, b2 = 1.7, 1.8, 0.1
    density = lambda z1, z2: math.exp(-0.5 * (z1 * z1 + z2 * z2)) / (2 * math.pi)  # noqa: E731
    f = lambda x: float(theory.phi(np.array(x), activation, 0.2))  # noqa: E731
    s = math.sqrt(1 - c * c)
    joint = integrate.dblquad(
        lambda z2, z1: f(math.sqrt(q) * z1) * f(math.sqrt(q) * (c * z1 + s * z2)) *
        density(z1, z2), -9, 9, -9, 9, epsabs=1e-11)[0]
    q_next = w2 * quad_expectation(lambda x: f(x) ** 2, q) + b2
    expected = (w2 * joint + b2) / q_next
    got = float(theory.correlation_map(c, q, w2, b2, activation, 0.2))
    assert got == pytest.approx(expected, rel=1e-6)
    assert float(theory.correlation_map(1.0, q, w2, b2, activation, 0.2)) == pytest.approx(
        1.0, rel=1e-7)  # the 1-D and 2-D rules agree


def test_critical_points():
    # ReLU: chi_1 = sigma_w^2 / 2 whatever q*, critical at sigma_w^2 = 2 (He)
    for w2 in (1.0, 2.0, 3.0):
        assert float(theory.chi_1(w2, 0.0, "relu")) == pytest.approx(w2 / 2, rel=1e-12)
    # tanh with sigma_b = 0: q* = 0 below sigma_w^2 = 1, where chi_1 = sigma_w^2
    assert float(theory.chi_1(0.8, 0.0, "tanh")) == pytest.approx(0.8, rel=1e-6)
    assert float(theory.chi_1(1.5, 0.0, "tanh")) > 1.0
    diagram = theory.phase_diagram([0.5, 0.9, 1.2, 2.0, 4.0], [0.0, 0.05], "tanh")
    assert diagram.shape == (2, 5)
    assert (diagram[0, :2] < 1).all() and (diagram[0, 2:] > 1).all()


def test_selu_fixed_point_is_mean_0_variance_1():
    mean, std = theory.moments(1.0, "selu")
    assert abs(mean) < 1e-6 and std == pytest.approx(1.0, abs=1e-6)
    assert float(theory.fixed_point(1.0, 0.0, "selu", q0=3.0)) == pytest.approx(1.0, abs=1e-6)
    # from an input of mean 1 and variance 4 the network drifts towards mean 0, variance 1
    X = np.random.default_rng(0).normal(1.0, 2.0, (1000, 500))
    measured = fastinit.forward_prop([500] * 30, "lecun_normal", activation="selu", rng=0,
                                     X=X, keep_activations=False, bins=0)
    assert abs(measured.means[0]) > 0.3 and measured.stds[0] > 1.3
    assert abs(measured.means[-1]) < 0.05 and measured.stds[-1] == pytest.approx(1.0, abs=0.05)


CASES = [  # activation, sigma_w, sigma_b
    ("tanh", 1.0, 0.0), ("tanh", 2.0, 0.3), ("relu", math.sqrt(2), 0.0), ("relu", 1.2, 0.2),
    ("sigmoid", 3.0, 0.5), ("selu", 1.0, 0.0), ("selu", 1.3, 0.1),
]


@pytest.mark.parametrize("activation, sigma_w, sigma_b", CASES)
@pytest.mark.parametrize("law", ["normal", "uniform"])
def test_measured_std_follows_the_prediction_at_width_2000(activation, sigma_w, sigma_b, law):
    width = 2000
    if law == "normal":
        init = fastinit.get_initializer("normal", std=sigma_w / math.sqrt(width))
    else:
        limit = sigma_w * math.sqrt(3.0 / width)
        init = fastinit.get_initializer("uniform", low=-limit, high=limit)
    bias = fastinit.get_initializer("normal", std=sigma_b) if sigma_b else 0.0
    # 3 layers: at finite width each layer's std also moves by O(1/sqrt(width)) at random,
    # and those moves add up with depth
    measured = fastinit.forward_prop([width] * 3, init, activation=activation, bias=bias,
                                     rng=1, batch=1000, keep_activations=False, bins=0)
    predicted = theory.predict([width] * 3, init, activation=activation,
                               bias_variance=sigma_b**2)
    assert theory.weight_variance(init, (width, width)) == pytest.approx(sigma_w**2, rel=1e-12)
    # A finite-width ReLU network's output scale is itself random: log ||h_L||^2 has variance
    # about 5 L / width (Hanin & Nica 2019), so log std about 1.25 L / width; 4 of those
    # standard deviations bound it. The smooth activations here fluctuate far less (measured
    # 0.2% at layer 3 over 16 seeds), and 3% bounds them.
    rtol = 4 * math.sqrt(1.25 * 3 / width) if activation == "relu" else 0.03
    np.testing.assert_allclose(measured.stds, predicted["std"], rtol=rtol)


def test_results_carry_the_prediction_where_the_theory_applies():
    result = fastinit.forward_prop([1000] * 3, "xavier_normal", rng=0, keep_activations=False)
    predicted = theory.predict([1000] * 3, "xavier_normal")
    assert [layer.predicted_std for layer in result.layers] == pytest.approx(predicted["std"],
                                                                            rel=1e-12)
    np.testing.assert_allclose(result.stds, predicted["std"], rtol=0.03)
    assert "predicted mean" in result.report().splitlines()[0]
    assert "predicted_std" in result.to_records()[0]
    # no law to read (orthogonal), or a biased mean: no prediction
    for kwargs in ({"weight_init": "orthogonal"}, {"weight_init": "he_normal", "bias": 0.5}):
        r = fastinit.forward_prop([50, 50], rng=0, batch=20, **kwargs)
        assert all(np.isnan(layer.predicted_std) for layer in r.layers)
        assert "predicted" not in r.report()


@pytest.mark.parametrize("activation", ["tanh", "selu", "elu"])
def test_critical_line_is_where_chi_1_is_one(activation):
    sigma_b2 = np.array([0.02, 0.1, 0.3])
    critical = theory.critical_line(sigma_b2, activation)
    assert np.all(np.isfinite(critical))
    np.testing.assert_allclose(theory.chi_1(critical, sigma_b2, activation), 1.0, atol=1e-6)
    assert np.all(theory.chi_1(critical * 0.95, sigma_b2, activation) < 1)
    assert np.all(theory.chi_1(critical * 1.05, sigma_b2, activation) > 1)


def test_sigmoid_has_no_edge_of_chaos_below_sixteen():
    # its slope is at most 1/4: chi_1 <= sigma_w^2 / 16, ordered everywhere
    assert np.isnan(theory.critical_line([0.0, 0.1], "sigmoid", w_max=16.0)).all()


@pytest.mark.parametrize("c", [-0.6, 0.0, 0.35, 0.9, 0.999])
def test_selu_pair_expectations_against_closed_form_inner_integrals(c):
    # SELU's value has a kink and its derivative a jump at 0; the expectations must not lose
    # digits there. Oracle: the inner expectation over u2 given u1 in closed form, the outer
    # by adaptive quadrature split at 0 (SciPy), SELU's constants written here.
    from scipy import integrate
    from scipy.stats import norm
    alpha, scale, q = 1.6732632423543772, 1.0507009873554805, 1.7
    s, r = math.sqrt(q), math.sqrt(1 - c * c)

    def value(x):
        return scale * (x if x > 0 else alpha * math.expm1(x))

    def slope(x):
        return scale * (1.0 if x > 0 else alpha * math.exp(x))

    def mean_value(a, b):  # E[selu(a + bZ)]
        t = a / b
        return scale * (a * norm.cdf(t) + b * norm.pdf(t) + alpha * (
            math.exp(a + b * b / 2) * norm.cdf(-t - b) - norm.cdf(-t)))

    def mean_slope(a, b):  # E[selu'(a + bZ)]
        t = a / b
        return scale * (norm.cdf(t) + alpha * math.exp(a + b * b / 2) * norm.cdf(-t - b))

    def outer(f, inner):
        return integrate.quad(lambda z: f(s * z) * inner(s * c * z, s * r) * norm.pdf(z),
                              -14, 14, points=[0.0], epsabs=1e-14, limit=200)[0]

    assert theory.joint_expectation(c, q, "selu") == pytest.approx(
        outer(value, mean_value), abs=1e-10)
    assert theory.joint_derivative_expectation(c, q, "selu") == pytest.approx(
        outer(slope, mean_slope), abs=1e-10)


@pytest.mark.parametrize("slope", [0.2, 0.5])
def test_leaky_relu_slope_reaches_every_order_to_chaos_quantity(slope):
    """Leaky ReLU is positively homogeneous: for any q* > 0, E[phi'(h)^2] = (1 + a^2) / 2, so
    chi_1 = sigma_w^2 (1 + a^2) / 2 (Poole et al. 2016, eq. 5 with this phi'), whatever the
    bias. In the ordered phase c* = 1, so chi_c = chi_1 and xi_c = -1 / log(chi_c)."""
    sigma_w2 = np.array([0.6, 1.2, 1.5])
    sigma_b2 = np.array([0.05, 0.3])
    expected = np.broadcast_to(sigma_w2 * (1 + slope**2) / 2, (2, 3))
    np.testing.assert_allclose(theory.phase_diagram(sigma_w2, sigma_b2, "leaky_relu", slope),
                               expected, rtol=1e-10)
    for w2 in sigma_w2:
        chi = w2 * (1 + slope**2) / 2
        assert chi < 1  # every point above is ordered for these slopes
        assert theory.correlation_fixed_point(w2, 0.1, "leaky_relu", slope) == 1.0
        assert theory.chi_c(w2, 0.1, "leaky_relu", slope) == pytest.approx(chi, rel=1e-10)
        assert theory.depth_scale_correlation(w2, 0.1, "leaky_relu", slope) == \
            pytest.approx(-1 / math.log(chi), rel=1e-8)


def test_an_ordered_network_forgets_its_inputs_completely():
    # chi_1 < 1: every pair of inputs converges, c* = 1 exactly (tanh, sigma_w^2 = 0.5)
    assert theory.correlation_fixed_point(0.5, 0.0, "tanh") == 1.0
    assert theory.correlation_fixed_point(0.9, 0.2, "tanh") == 1.0


# -- what mutation testing found loose: leaky ReLU's slope, the phases' edges ----------------

def test_critical_line_of_leaky_relu_follows_its_slope():
    # chi_1 = sigma_w^2 (1 + a^2) / 2 whatever q: critical at sigma_w^2 = 2 / (1 + a^2)
    for slope in (0.5, 0.2):
        line = theory.critical_line(np.array([0.0, 0.3]), "leaky_relu", slope=slope)
        np.testing.assert_allclose(line, 2.0 / (1.0 + slope ** 2), rtol=1e-9)


def test_ordered_phase_without_bias_keeps_c_star_one():
    # tanh, sigma_b = 0, chi_1 < 1: every pair of inputs converges (c* = 1, not the odd
    # activation's other fixed point 0)
    assert theory.correlation_fixed_point(0.5, 0.0, "tanh") == 1.0


def test_chaotic_phase_with_small_q_star_finds_c_star_zero():
    # tanh at sigma_w^2 = 1.5, sigma_b = 0: q* = 0.287 (< 1), chaotic, c* = 0 (odd, no bias)
    assert theory.fixed_point(1.5, 0.0, "tanh") < 1.0
    assert theory.correlation_fixed_point(1.5, 0.0, "tanh") < 1e-9


@pytest.mark.parametrize("sigma_w2, sigma_b2, activation", [
    (2.0, 0.0, "relu"), (1.0, 0.0, "linear"), (1.0, 0.4, "linear")])
def test_depth_scale_is_infinite_on_the_critical_line(sigma_w2, sigma_b2, activation):
    assert theory.depth_scale_correlation(sigma_w2, sigma_b2, activation) == math.inf
    # just off it, finite and large: -1 / log(chi) with chi = sigma_w^2 / 2 (relu) or
    # sigma_w^2 (linear)
    off = sigma_w2 * 0.999
    expected = -1.0 / math.log(0.999)
    assert theory.depth_scale_correlation(off, sigma_b2, activation) == pytest.approx(expected,
                                                                                     rel=1e-6)


def test_fixed_point_broadcasts_an_array_against_a_scalar():
    w2 = np.array([0.5, 1.0, 1.7])
    for activation in ("tanh", "relu"):
        for args in ((w2, 0.2), (1.2, w2 / 4)):
            q = theory.fixed_point(*args, activation)
            assert q.shape == (3,)
            scalars = [float(theory.fixed_point(w, b, activation))
                       for w, b in zip(*np.broadcast_arrays(*args))]
            np.testing.assert_allclose(q, scalars, rtol=1e-12)


@pytest.mark.parametrize("activation, slope", [("relu", 0.0), ("leaky_relu", 0.5),
                                               ("leaky_relu", 0.2)])
def test_fixed_point_of_the_piecewise_linear_maps_is_their_closed_form(activation, slope):
    # V(q) = sigma_w^2 q (1 + a^2) / 2 + sigma_b^2: q* = sigma_b^2 / (1 - sigma_w^2 (1 + a^2) / 2),
    # here far above sigma_w^2 + sigma_b^2 (a bracket that holds only for bounded activations)
    sigma_w2, sigma_b2 = 1.8 / (1 + slope ** 2), 0.5
    expected = sigma_b2 / (1 - sigma_w2 * (1 + slope ** 2) / 2)
    assert expected > sigma_w2 + sigma_b2
    assert theory.fixed_point(sigma_w2, sigma_b2, activation, slope) == pytest.approx(
        expected, rel=1e-9)


def test_predicted_correlation_of_a_linear_network_is_the_inputs_at_any_input_variance():
    network = [(30, 20, 1.0 / 30, 0.0, "linear"), (20, 20, 1.0 / 20, 0.0, "linear")]
    for variance in (1.0, 2.0, 0.25):
        np.testing.assert_allclose(
            theory.predict_correlation(network, 0.3, input_variance=variance), [0.3, 0.3],
            rtol=1e-12)
    # leaky ReLU of slope 1 is the identity: the slope must reach every expectation
    leaky = [(30, 20, 1.0 / 30, 0.0, "leaky_relu"), (20, 20, 1.0 / 20, 0.0, "leaky_relu")]
    np.testing.assert_allclose(theory.predict_correlation(leaky, 0.3, slope=1.0, input_variance=2.0),
                               [0.3, 0.3], rtol=1e-12)


def test_zero_variance_layers_predict_outputs_fully_correlated():
    # zeros init, no bias: both pre-activations are 0, both outputs sigmoid(0) = 1/2
    network = [(10, 10, 0.0, 0.0, "sigmoid")] * 2
    assert theory.predict_correlation(network, 0.3) == [1.0, 1.0]


# The defects found by fuzzing and independent validation (issue 10), by section.

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


def test_leaky_relu_theory_uses_the_slope_it_is_given():
    # closed forms for phi(x) = x (x > 0), a x (x <= 0) at a = 0.2, not the default 0.01:
    # E[phi(sqrt(q) z)] = sqrt(q / 2pi) (1 - a), E[phi^2] = q (1 + a^2) / 2,
    # E[phi'^2] = (1 + a^2) / 2, so chi_1 = sigma_w^2 (1 + a^2) / 2, the critical line is
    # sigma_w^2 = 2 / (1 + a^2) and q* = sigma_b^2 / (1 - sigma_w^2 (1 + a^2) / 2);
    # E[phi(u) phi(v)] = a^2 c q + a (1 - a) c q + (1 - a)^2 q (sin t + (pi - t) c) / 2pi,
    # t = arccos c (Cho & Saul's arc-cosine kernel for the ReLU part)
    a, q, w2, b2 = 0.2, 1.7, 1.5, 0.1
    half = (1 + a * a) / 2
    mean, std = theory.moments(q, "leaky_relu", slope=a)
    assert mean == pytest.approx(math.sqrt(q / (2 * math.pi)) * (1 - a), rel=1e-9)
    assert std ** 2 + mean ** 2 == pytest.approx(q * half, rel=1e-9)
    assert theory.variance_map(q, w2, b2, "leaky_relu", slope=a) == \
        pytest.approx(w2 * q * half + b2, rel=1e-9)
    assert theory.fixed_point(w2, b2, "leaky_relu", slope=a) == \
        pytest.approx(b2 / (1 - w2 * half), rel=1e-6)
    assert theory.chi_1(w2, b2, "leaky_relu", slope=a) == pytest.approx(w2 * half, rel=1e-9)
    line = theory.critical_line([0.0, 0.3], "leaky_relu", slope=a)
    np.testing.assert_allclose(line, 1 / half, rtol=1e-6)
    for c in (-0.5, 0.3, 0.9):
        t = math.acos(c)
        expected = a * a * c * q + a * (1 - a) * c * q + (1 - a) ** 2 * q * (
            math.sin(t) + (math.pi - t) * c) / (2 * math.pi)
        assert float(theory.joint_expectation(c, q, "leaky_relu", slope=a)) == \
            pytest.approx(expected, rel=1e-6, abs=1e-9)
    # and the network prediction carries the slope through (negative_slope=): He's gain for
    # this slope makes sigma_w^2 = 1 / half, so q = 1 / half at every layer, and the activation
    # std is sqrt(q half - mean^2) = sqrt(1 - q (1 - a)^2 / 2pi)
    predicted = theory.predict([400] * 3, fastinit.get_initializer("he_normal", a=a),
                               activation="leaky_relu", negative_slope=a)
    np.testing.assert_allclose(predicted["q"], [1 / half] * 3, rtol=1e-12)
    np.testing.assert_allclose(predicted["std"], [math.sqrt(
        1 - (1 - a) ** 2 / (2 * math.pi * half))] * 3, rtol=1e-9)
    np.testing.assert_allclose(predicted["mean"], [math.sqrt(1 / (2 * math.pi * half)) * (
        1 - a)] * 3, rtol=1e-9)


def test_a_laws_mean_is_that_of_its_distribution():
    from fastinit.laws import Constant, Normal, TruncatedNormal, Uniform
    assert theory.law_mean(Constant(1.0)) == 1.0
    assert theory.law_mean(Uniform(0.1, 0.3)) == pytest.approx(0.2, rel=1e-15)
    assert theory.law_mean(Uniform(-0.25, 0.25)) == 0.0  # exactly: the theory's zero mean
    assert theory.law_mean(Normal(0.3, 2.0)) == 0.3
    assert theory.law_mean(TruncatedNormal(0.5, 1.0, -1.5, 2.5)) == 0.5  # symmetric bounds
    # asymmetric: mu + sigma (pdf(alpha) - pdf(beta)) / (cdf(beta) - cdf(alpha)), by erf
    mu, sigma, a, b = 0.0, 2.0, -1.0, 4.0
    alpha, beta = (a - mu) / sigma, (b - mu) / sigma

    def pdf(x):
        return math.exp(-x * x / 2) / math.sqrt(2 * math.pi)

    def cdf(x):
        return 0.5 * (1 + math.erf(x / math.sqrt(2)))
    expected = mu + sigma * (pdf(alpha) - pdf(beta)) / (cdf(beta) - cdf(alpha))
    assert theory.law_mean(TruncatedNormal(mu, sigma, a, b)) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("init, bias, predicted", [
    ("uniform:low=-0.2,high=0.2", 0.0, True),
    ("ones", 0.0, False),                           # every weight 1: not zero-mean
    ("uniform:low=0.0,high=0.2", 0.0, False),       # a uniform law off centre
    ("lecun_uniform", "uniform:low=0.1,high=0.3", False),  # a bias law off centre
    ("truncated_normal:mean=0,std=0.1,a=-0.1,b=0.3", 0.0, False),  # truncated off centre
])
def test_predictions_only_for_zero_mean_laws(init, bias, predicted):
    # mean-field theory assumes zero-mean weights and biases: a law with another mean gets no
    # prediction (NaN) rather than one that ignores its mean (ones once predicted std 0 beside
    # a measured 0.94)
    result = fastinit.forward_prop([50, 50], init, bias=bias, rng=0, batch=100)
    assert all(math.isfinite(layer.predicted_std) == predicted for layer in result.layers)

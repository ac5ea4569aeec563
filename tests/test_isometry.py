"""The input-output Jacobian's spectrum (fastinit.jacobian_spectrum) against independent
oracles: J by central finite differences of the reference's forward pass, known facts of
free probability (Pennington, Schoenholz & Ganguli 2017) and the closed forms of linear and
ReLU networks; the measured moments against theory.jacobian_moments over fixed seeds, with a
tolerance set by the seed-to-seed spread."""
import json
import math

import numpy as np
import pytest
from conftest import fastinit_cli

import fastinit
import fastinit.reference as reference
from fastinit import theory


def test_the_singular_values_are_those_of_finite_differences():
    # J of one input by central differences of the reference forward pass (float64, h = 1e-6):
    # an oracle that knows nothing of the product of layer Jacobians
    rng = np.random.default_rng(5)
    x = rng.standard_normal((1, 12))
    kwargs = dict(activation="tanh", bias="normal:std=0.1", rng=3, input_dim=12,
                  keep_activations=True)

    def output(v):
        return reference.forward_prop([10, 9, 8], "xavier_normal", X=v, **kwargs).acts[-1][0]

    h = 1e-6
    J = np.stack([(output(x + h * e) - output(x - h * e)) / (2 * h) for e in np.eye(12)[:, None]])
    expected = np.linalg.svd(J, compute_uv=False)
    for api in (fastinit, reference):
        got = api.jacobian_spectrum([10, 9, 8], "xavier_normal", activation="tanh",
                                    bias="normal:std=0.1", rng=3, X=x)
        np.testing.assert_allclose(got.singular_values[0], expected, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("activation", ["tanh", "relu", "gelu", "leaky_relu"])
def test_the_engine_gives_the_reference_numbers(activation):
    kwargs = dict(activation=activation, rng=11, batch=3, dtype="float32")
    engine = fastinit.jacobian_spectrum([48, 40, 48], "he_normal", **kwargs)
    spec = reference.jacobian_spectrum([48, 40, 48], "he_normal", **kwargs)
    np.testing.assert_allclose(engine.singular_values, spec.singular_values, rtol=1e-12)
    assert engine.singular_values.shape == (3, 48)


def test_a_linear_network_with_orthogonal_weights_is_an_isometry():
    s = fastinit.jacobian_spectrum([96] * 24, "orthogonal", activation="linear", rng=2, batch=2)
    assert np.abs(s.singular_values - 1).max() < 1e-12
    assert s.predicted_mean == pytest.approx(1) and abs(s.predicted_variance) < 1e-12


def test_tanh_with_orthogonal_weights_near_q0_concentrates_at_one():
    # sigma_w^2 = 1 and a tiny input (q -> 0): phi' -> 1 everywhere; orthogonal weights keep
    # every singular value near 1, Gaussian ones spread them as a product of L Wishart factors
    x = 1e-3 * np.random.default_rng(0).standard_normal((2, 200))
    ortho = fastinit.jacobian_spectrum([200] * 32, "orthogonal", activation="tanh", X=x, rng=1)
    gauss = fastinit.jacobian_spectrum([200] * 32, "lecun_normal", activation="tanh", X=x, rng=1)
    assert np.abs(ortho.singular_values - 1).max() < 1e-3
    assert gauss.variance / gauss.mean ** 2 > 10  # relative variance ~ L = 32
    assert gauss.max_singular_value > 3


def _relative_variances(init, depth, seeds, width=200):
    values = []
    for seed in seeds:
        s = fastinit.jacobian_spectrum([width] * depth, init, activation="relu", rng=seed,
                                       batch=2)
        values.append(s.variance / s.mean ** 2)
    return np.array(values)


@pytest.mark.parametrize("init, per_layer", [("he_normal", 2.0), ("orthogonal", 1.0)])
def test_relu_spreads_linearly_with_depth_whatever_the_weights(init, per_layer):
    # relative variance of J J^T's eigenvalues: depth * (mu_2/mu_1^2 - 1 - s_1) = depth * 1
    # for orthogonal weights and depth * 2 for Gaussian ones (ReLU: mu_2 / mu_1^2 = 2)
    shallow = _relative_variances(init, 4, range(6))
    deep = _relative_variances(init, 12, range(6))
    assert np.mean(deep) / np.mean(shallow) == pytest.approx(3, rel=0.25)
    assert np.mean(shallow) == pytest.approx(4 * per_layer, rel=0.3)


CASES = [  # (init, activation): on the critical line and off it
    ("lecun_normal", "tanh"), ("orthogonal", "tanh"), ("normal:std=0.1", "tanh"),
    ("he_normal", "relu"), ("lecun_normal", "linear"),
]


@pytest.mark.parametrize("init, activation", CASES)
def test_measured_moments_match_free_probability_over_seeds(init, activation):
    # one network's empirical mean eigenvalue fluctuates from seed to seed (a product of
    # depth random factors); over 8 fixed seeds the average ratio to the prediction must lie
    # within 3 standard errors of 1, plus 5% for finite width (N = 300, depth 10); so must
    # each network's relative variance (variance / mean^2, the paper's L (mu_2 / mu_1^2 - 1 -
    # s_1) on the critical line), which the seed-to-seed spread of the mean does not inflate
    ratios = []
    for seed in range(8):
        s = fastinit.jacobian_spectrum([300] * 10, init, activation=activation, rng=seed,
                                       batch=2)
        ratios.append((s.mean / s.predicted_mean, s.variance / s.predicted_variance,
                       (s.variance / s.mean ** 2) /
                       (s.predicted_variance / s.predicted_mean ** 2)))
    ratios = np.array(ratios)
    spread = ratios.std(axis=0, ddof=1) / math.sqrt(len(ratios))
    assert np.all(np.abs(ratios.mean(axis=0) - 1) < 3 * spread + 0.05), ratios.mean(axis=0)


def test_the_prediction_is_the_paper_s_formula_on_the_critical_line():
    # at chi_1 = 1 (tanh, sigma_b^2 = 0.05 on the critical line, q at its fixed point) the
    # variance is L (mu_2 / mu_1^2 - 1 - s_1), s_1 = -1 for Gaussian and 0 for orthogonal
    sigma_b2 = 0.05
    sigma_w2 = float(theory.critical_line(sigma_b2, "tanh")[0])
    q = float(theory.fixed_point(sigma_w2, sigma_b2, "tanh"))
    mu1 = float(theory.gaussian_expectation(lambda x: (1 - np.tanh(x) ** 2) ** 2, q))
    mu2 = float(theory.gaussian_expectation(lambda x: (1 - np.tanh(x) ** 2) ** 4, q))
    assert sigma_w2 * mu1 == pytest.approx(1, abs=1e-9)
    second = float(theory.gaussian_expectation(lambda x: np.tanh(x) ** 2, q))
    for orthogonal, s1 in [(False, -1), (True, 0)]:
        network = [(sigma_w2, sigma_b2, "tanh", orthogonal)] * 20
        input_variance = (q - sigma_b2) / sigma_w2  # the first layer starts at q*
        mean, variance = theory.jacobian_moments(network, input_variance)
        assert mean == pytest.approx(1, abs=1e-8)
        assert variance == pytest.approx(20 * (mu2 / mu1 ** 2 - 1 - s1), rel=1e-8)
    assert second > 0


def test_the_moments_method_estimates_the_svd_moments():
    kwargs = dict(activation="tanh", rng=4, batch=2)
    exact = fastinit.jacobian_spectrum([256] * 6, "xavier_normal", **kwargs)
    probed = fastinit.jacobian_spectrum([256] * 6, "xavier_normal", method="moments",
                                        probes=256, **kwargs)
    assert probed.singular_values is None and math.isnan(probed.max_singular_value)
    assert probed.mean == pytest.approx(exact.mean, rel=0.03)
    assert probed.variance == pytest.approx(exact.variance, rel=0.15)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(method="eig"), ValueError, "method"),
    (dict(probes=0), ValueError, "probes"),
    (dict(probes=2.5), TypeError, "probes"),
    (dict(batch=0), ValueError, "batch"),
    (dict(activation="swish"), ValueError, "activation"),
])
def test_bad_arguments_are_named(kwargs, error, match):
    for api in (fastinit, reference):
        with pytest.raises(error, match=match):
            api.jacobian_spectrum([8, 8], "he_normal", **kwargs)


def test_no_prediction_where_the_theory_does_not_apply():
    # layers of different widths, a non-zero constant bias: measured, not predicted
    for widths, bias in (([16, 12], 0.0), ([16], 0.5)):
        s = fastinit.jacobian_spectrum(widths, "he_normal", bias=bias, rng=0, batch=1)
        assert math.isnan(s.predicted_mean) and s.singular_values.shape[0] == 1


def test_the_isometry_command_prints_measured_beside_predicted(tmp_path):
    out = fastinit_cli("isometry", "--width", 24, "--depths", "2,6", "--batch", 2,
                       "--format", "json", "--plot", tmp_path / "iso.png",
                       "--report", tmp_path / "iso.html").stdout
    rows = json.loads(out)["rows"]
    assert [(r["case"].split(",")[0], r["depth"]) for r in rows] == [
        ("tanh", 2), ("tanh", 6), ("tanh", 2), ("tanh", 6), ("ReLU", 2), ("ReLU", 6)]
    orthogonal = [r for r in rows if "orthogonal" in r["case"]]
    # on the critical line at q* = 1/64 the mean of J J^T's eigenvalues is about 1, and the
    # orthogonal network's variance is far below the Gaussian one's
    assert all(abs(r["predicted_mean"] - 1) < 0.1 for r in rows)  # E[x^2] of 48 draws varies
    assert all(r["variance"] < 0.2 for r in orthogonal)
    assert (tmp_path / "iso.png").stat().st_size > 10_000
    page = (tmp_path / "iso.html").read_text()
    assert "<h2>Dynamical isometry</h2>" in page and page.count("<img") == 1
    assert "predicted_variance" in page and "orthogonal weights" in page
    bad = fastinit_cli("isometry", "--width", 4000, "--depths", "64", check=False)
    assert bad.returncode == 2 and "multiply-adds" in bad.stderr and "Traceback" not in bad.stderr


def test_the_figure_shows_every_depth_and_the_prediction():
    pytest.importorskip("matplotlib")
    from fastinit import plot
    spectra = {case: [fastinit.jacobian_spectrum([32] * d, init, activation=act, rng=0, batch=2)
                      for d in (2, 8)]
               for case, init, act in [("a", "orthogonal", "tanh"), ("b", "he_normal", "relu")]}
    fig = plot.isometry_figure(spectra)
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == ["a", "b", "largest singular value"]
    labels = [t.get_text() for t in axes[1].get_legend().get_texts()]
    assert labels[0].startswith("depth 2: E[s^2]") and "(" in labels[0]
    assert "< 1e-4" in labels[0]  # ReLU's dead units, said, not hidden
    assert len(axes[2].lines[0].get_xdata()) == 2


def test_the_density_of_one_gaussian_layer_is_marchenko_pastur():
    # J J^T = W W^T, W (N x N) of variance sigma^2 / N: Marchenko-Pastur with ratio 1, in
    # closed form sqrt(l (4 s - l)) / (2 pi s l) on (0, 4 s), s = sigma^2
    for sigma2 in (0.5, 2.0):
        lam = np.linspace(0.02, 3.98, 25) * sigma2
        got = theory.jacobian_density([(sigma2, 0.0, "linear", False)], lam, epsilon=1e-10)
        expected = np.sqrt(lam * (4 * sigma2 - lam)) / (2 * np.pi * sigma2 * lam)
        np.testing.assert_allclose(got, expected, rtol=1e-8)
    # outside the support: nothing
    assert theory.jacobian_density([(1.0, 0.0, "linear", False)], [4.5], epsilon=1e-10)[0] < 1e-8


def test_the_density_has_the_predicted_mean_and_variance():
    # two routes to the same two numbers: the S-transform density integrated, and the
    # moments' closed form (means multiply, relative variances add); Gaussian weights put mass
    # near 0, which carries no weight in the moments
    network = [(1.0, 0.0, "tanh", False)] * 6
    mean, variance = theory.jacobian_moments(network, 0.05)
    lam = np.geomspace(1e-8, 40, 1200)
    rho = theory.jacobian_density(network, lam, input_variance=0.05, epsilon=1e-5)
    weights = np.gradient(lam)
    first = np.sum(rho * lam * weights)
    second = np.sum(rho * lam ** 2 * weights)
    assert first == pytest.approx(mean, rel=1e-3)
    assert second - first ** 2 == pytest.approx(variance, rel=1e-3)


@pytest.mark.parametrize("init, activation", CASES)
def test_the_measured_spectrum_follows_the_predicted_density(init, activation):
    # Kolmogorov-Smirnov between the eigenvalues of 4 networks (2 inputs each, width 200,
    # depth 8) and the S-transform density's CDF. Eigenvalues of one matrix are far more
    # regular than independent draws, and the inputs of one network share its weights, so
    # the sample counts as 4 x 200 draws: the 0.1% critical value 1.95 / sqrt(800) = 0.069
    seeds, width = 4, 200
    values = []
    for seed in range(seeds):
        s = fastinit.jacobian_spectrum([width] * 8, init, activation=activation, rng=seed,
                                       batch=2)
        values.append(s.eigenvalues.ravel())
    values = np.sort(np.concatenate(values))
    cut = 1e-6 * s.predicted_mean  # below: ReLU's exact zeros, rounding; the CDF counts them
    kept = values[values >= cut]
    predicted = s.predicted_cdf(kept)
    above = np.searchsorted(values, kept, side="right") / values.size
    below = np.searchsorted(values, kept, side="left") / values.size
    distance = max(np.abs(above - predicted).max(), np.abs(below - predicted).max())
    assert distance < 1.95 / math.sqrt(seeds * width), distance


def test_a_network_the_theory_does_not_cover_has_no_density():
    s = fastinit.jacobian_spectrum([16, 12], "he_normal", rng=0, batch=1)
    assert s.theory is None and np.isnan(s.predicted_density([0.5, 1.0])).all()


def test_the_spectrum_is_the_same_bits_on_any_thread_count():
    # BLAS splits each product's rows and columns over its threads, never the sum: the same
    # bits on 1 and 2 threads (as the kernels promise)
    one = fastinit.jacobian_spectrum([96] * 6, "he_normal", activation="tanh", rng=8, batch=3,
                                     num_threads=1)
    two = fastinit.jacobian_spectrum([96] * 6, "he_normal", activation="tanh", rng=8, batch=3,
                                     num_threads=2)
    assert one.singular_values.tobytes() == two.singular_values.tobytes()


@pytest.mark.parametrize("init, bias, network", [
    # (sigma_w^2, Var b) per layer, as the docs define them: fan_in Var(W) for a law, gain^2
    # for orthogonal weights, the bias law's variance
    ("lecun_normal", 0.0, [(1.0, 0.0, False)] * 3),
    ("he_uniform", "normal:std=0.3", [(2.0, 0.09, False)] * 3),
    ("orthogonal:gain=1.5", "uniform:low=-0.2,high=0.2", [(2.25, 0.04 / 3, True)] * 3),
])
def test_the_prediction_is_the_theory_of_the_networks_laws(init, bias, network):
    s = fastinit.jacobian_spectrum([12] * 3, init, activation="tanh", bias=bias, rng=0, batch=2)
    expected = theory.jacobian_moments([(w2, b2, "tanh", o) for w2, b2, o in network])
    assert (s.predicted_mean, s.predicted_variance) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("kwargs", [
    dict(X=np.ones((2, 8))),                       # the first layer is 8 -> 12, not square
    dict(bias="uniform:low=0.1,high=0.3"),         # a bias law with a non-zero mean
    dict(init="uniform:low=0.0,high=0.2"),         # a weight law with a non-zero mean
    dict(init=lambda fan_in, width: np.eye(fan_in, width)),  # weights from a callable
    dict(init="identity"),                         # no random law: not the free product's
    dict(X=np.ones((2, 8)), depth=1),              # one layer, 8 -> 12
])
def test_no_prediction_for_what_the_free_product_does_not_cover(kwargs):
    kwargs = {"init": "lecun_normal", "depth": 3, **kwargs}
    s = fastinit.jacobian_spectrum([12] * kwargs.pop("depth"), kwargs.pop("init"), rng=0,
                                   batch=2, **kwargs)
    assert math.isnan(s.predicted_mean) and math.isnan(s.predicted_variance)
    assert s.singular_values.shape[0] == 2  # measured all the same


# -- the predicted density in closed form: Marchenko-Pastur, and the variance map ------------

_LAMBDAS = np.array([0.5, 1.0, 2.0, 3.0])
# Marchenko-Pastur at ratio 1: the eigenvalues of W W^T for a square W of i.i.d. entries of
# variance 1/N (Pennington, Schoenholz & Ganguli 2017's S_{WW^T} = 1 / (1 + z))
_MARCHENKO_PASTUR = np.sqrt(_LAMBDAS * (4 - _LAMBDAS)) / (2 * math.pi * _LAMBDAS)


@pytest.mark.parametrize("network, slope", [
    ([(1.0, 0.0, "linear", False)], 0.01),
    # an orthogonal factor leaves the spectrum alone, in either order: the two layers are
    # different factors (not one layer counted twice) though their sigma_w^2 and q agree
    ([(1.0, 0.0, "linear", True), (1.0, 0.0, "linear", False)], 0.01),
    ([(1.0, 0.0, "linear", False), (1.0, 0.0, "linear", True)], 0.01),
    # leaky ReLU of slope 1 is the identity: the slope asked for is the one used
    ([(1.0, 0.0, "leaky_relu", False)], 1.0),
])
def test_the_density_of_one_gaussian_factor_is_marchenko_pastur(network, slope):
    density = theory.jacobian_density(network, _LAMBDAS, slope=slope)
    np.testing.assert_allclose(density, _MARCHENKO_PASTUR, rtol=1e-5)


def test_a_bias_variance_adds_to_q_as_the_inputs_second_moment_does():
    """q^1 = sigma_w^2 E[x^2] + sigma_b^2: a tanh layer with sigma_b^2 = 0.5 on unit inputs has
    the density of one without bias on inputs of second moment 1.5, and not 0.5's."""
    biased = theory.jacobian_density([(1.0, 0.5, "tanh", False)], _LAMBDAS)
    same_q = theory.jacobian_density([(1.0, 0.0, "tanh", False)], _LAMBDAS, input_variance=1.5)
    other_q = theory.jacobian_density([(1.0, 0.0, "tanh", False)], _LAMBDAS, input_variance=0.5)
    np.testing.assert_allclose(biased, same_q, rtol=1e-9)
    assert np.all(np.abs(biased / other_q - 1) > 0.1)

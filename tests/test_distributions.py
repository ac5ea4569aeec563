"""Each law against its exact distribution: KS tests on 10^6 draws with fixed seeds, moments
within a few standard errors."""
import re

import numpy as np
import pytest
from scipy import stats

import fastinit

N = 1_000_000
DTYPES = [np.float64, np.float32]
P_MIN = 1e-3  # fixed seeds: these either pass for good or expose a real defect


def assert_moments(x, mean, var, k=5.0):
    x = x.astype(np.float64)
    n = x.size
    assert abs(x.mean() - mean) < k * np.sqrt(var / n)
    centered = x - x.mean()
    se_var = np.sqrt((np.mean(centered**4) - centered.var() ** 2) / n)
    assert abs(centered.var() - var) < k * se_var


@pytest.mark.parametrize("dtype", DTYPES)
def test_uniform(dtype):
    x = fastinit.Stream(1).uniform(np.empty(N, dtype), -1.0, 3.0)
    assert x.min() >= -1.0 and x.max() < 3.0
    assert stats.kstest(x, stats.uniform(-1.0, 4.0).cdf).pvalue > P_MIN
    assert_moments(x, 1.0, 16.0 / 12.0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_standard_normal(dtype):
    x = fastinit.Stream(2).normal(np.empty(N, dtype))
    assert stats.kstest(x, "norm").pvalue > P_MIN
    assert_moments(x, 0.0, 1.0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_normal_tails_have_the_right_mass_and_shape(dtype):
    # beyond R = 3.654 every draw comes from the ziggurat's tail algorithm
    x = fastinit.Stream(3).normal(np.empty(4 * N, dtype)).astype(np.float64)
    tail = np.abs(x[np.abs(x) > 3.0])
    p = 2 * stats.norm.sf(3.0)
    assert abs(tail.size - p * x.size) < 5 * np.sqrt(x.size * p * (1 - p))
    conditional = stats.truncnorm(3.0, np.inf)
    assert stats.kstest(tail, conditional.cdf).pvalue > P_MIN


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mean, std, a, b", [
    (0.0, 1.0, -2.0, 2.0),     # the usual one: mostly the normal itself
    (0.5, 2.0, -1.0, 0.0),     # narrow: inverse CDF
    (0.0, 1.0, 2.0, 3.0),      # far tail (PyTorch and Keras get this wrong)
    (0.0, 1.0, -9.0, -8.0),    # farther tail, lower side
    (1.0, 0.1, 1.05, np.inf),  # one-sided
])
def test_truncated_normal_follows_the_exact_law(mean, std, a, b, dtype):
    x = fastinit.Stream(4).truncated_normal(np.empty(N, dtype), mean, std, a, b)
    assert x.min() >= a and x.max() <= b
    law = stats.truncnorm((a - mean) / std, (b - mean) / std, loc=mean, scale=std)
    assert stats.kstest(x, law.cdf).pvalue > P_MIN
    assert_moments(x, law.mean(), law.var())


@pytest.mark.parametrize("dtype", DTYPES)
def test_truncated_normal_with_tiny_std_never_touches_a_bound(dtype):
    std = 1e-8
    x = fastinit.Stream(5).truncated_normal(np.empty(N, dtype), 0.0, std, -2.0, 2.0)
    assert np.abs(x).max() < 1e-6
    assert stats.kstest(x.astype(np.float64) / std, "norm").pvalue > P_MIN


def test_normal_float32_is_not_a_rounded_float64():
    # float32 normals use their own 32-bit halves (twice as many per Philox block)
    x32 = fastinit.Stream(6).normal(np.empty(1000, np.float32))
    x64 = fastinit.Stream(6).normal(np.empty(1000))
    assert not np.allclose(x32, x64.astype(np.float32))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_an_asymmetric_uniform_has_its_bounds_and_its_width(api, dtype):
    # U[-2, 3): scipy's uniform(loc=-2, scale=5), the width high - low
    w = api.uniform((200_000,), low=-2.0, high=3.0, rng=12, dtype=dtype)
    assert stats.kstest(w.astype(np.float64), "uniform", args=(-2.0, 5.0)).pvalue > 1e-3
    assert w.min() >= -2.0 and w.max() < 3.0


def test_uniform_bounds_too_big_for_the_dtype_are_named():
    for low, high, name in ((-1e300, 0.0, "low=-1e+300"), (0.0, 1e300, "high=1e+300")):
        with pytest.raises(ValueError, match=re.escape(f"{name} is not representable in float32")):
            fastinit.uniform((3,), low=low, high=high, dtype="float32", rng=0)


@pytest.mark.parametrize("a, b", [(-3.0, -1.0), (1.0, 3.0), (-9.0, -8.0)])
def test_truncated_normal_from_a_generator_follows_the_exact_law(a, b):
    # compat mode (a numpy Generator): inverse-CDF draws, mirrored only when the interval leans
    # positive
    x = fastinit.truncated_normal((N,), a=a, b=b, rng=np.random.default_rng(11))
    assert x.min() >= a and x.max() <= b
    law = stats.truncnorm(a, b)
    assert stats.kstest(x, law.cdf).pvalue > P_MIN
    assert_moments(x, law.mean(), law.var())

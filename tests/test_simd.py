"""The hand-written AVX2 paths (ziggurat fast path, min/max, histogram binning) give the same
bits as the portable paths that run on other CPUs. Where the CPU lacks AVX2 both runs take the
portable path and the tests compare it with itself."""
import numpy as np
import pytest

import fastinit
from fastinit._kernels import fill as _fill, propagate as _propagate
from fastinit import activations
from fastinit.streams import Stream


def both_paths(module, compute):
    previous = module.use_simd(True)
    try:
        fast = compute()
        module.use_simd(False)
        portable = compute()
    finally:
        module.use_simd(previous)
    return fast, portable


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("offset", [0, 1, 4099])
def test_normal_fill_paths_agree(dtype, offset):
    # 3 * 4096 + 37 elements: whole chunks, ragged vector tails, ~1% slow-path candidates
    def compute():
        return Stream(np.random.SeedSequence(11)).normal(
            np.empty(3 * 4096 + 37, dtype), 0.25, 1.5, offset=offset, num_threads=2)
    fast, portable = both_paths(_fill, compute)
    np.testing.assert_array_equal(fast.view(np.uint8), portable.view(np.uint8))
    assert np.isfinite(fast).all() and abs(fast.mean() - 0.25) < 0.1


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_layer_statistics_and_histogram_paths_agree(dtype):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((300, 77)).astype(dtype)
    w = (rng.standard_normal((77, 91)) / 5).astype(dtype)
    edges = np.linspace(-1.0, 1.0, 31)

    def compute():
        out = np.empty((300, 91), dtype)
        layer = _propagate.LayerPass(activations.get("tanh").code, bias_value=0.1,
                                     saturation=activations.saturation_bounds("tanh", dtype),
                                     edges=edges)
        stats, hist = _propagate.forward_layer(x, w, out, layer, num_threads=2)
        return stats, hist, out
    (s_fast, h_fast, o_fast), (s_port, h_port, o_port) = both_paths(_propagate, compute)
    assert s_fast == s_port
    np.testing.assert_array_equal(h_fast, h_port)
    np.testing.assert_array_equal(o_fast, o_port)
    np.testing.assert_array_equal(h_fast, np.histogram(o_fast, edges)[0])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("lo, hi, bins", [(-0.7, 1.3, 21), (-1.0, 1.0, 30), (0.0, 1.0, 7),
                                          (1000.0, 1000.5, 30)])
def test_histogram_paths_agree_on_edges(dtype, lo, hi, bins):
    # values at, just below and just above every edge (in the data's dtype), out of range, NaN
    edges = np.linspace(lo, hi, bins + 1)
    near = edges.astype(dtype)
    values = np.concatenate([near, np.nextafter(near, -np.inf), np.nextafter(near, np.inf),
                             np.array([lo - 5, hi + 5, np.nan], dtype),
                             np.random.default_rng(0).uniform(lo - 0.1, hi + 0.1, 5000)
                             .astype(dtype)])
    h = values.reshape(1, -1)
    fast, portable = both_paths(_propagate, lambda: _propagate.histogram(h, edges, 2))
    np.testing.assert_array_equal(fast, portable)
    # np.histogram's definition on the values as doubles: edges[i] <= v < edges[i + 1]
    np.testing.assert_array_equal(fast, np.histogram(values.astype(np.float64), edges)[0])


def test_use_simd_reports_and_restores_the_setting():
    assert _fill.use_simd(False) is True
    assert _fill.use_simd(True) is False
    before = fastinit.lecun_normal((64, 64), rng=0)
    assert _fill.use_simd(True) is True
    np.testing.assert_array_equal(before, fastinit.lecun_normal((64, 64), rng=0))


def at_level(module, level, compute):
    previous = module.simd_level(level)
    try:
        return compute()
    finally:
        module.simd_level(previous)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("lo, hi, bins", [(-1.0, 1.0, 30), (-0.7, 1.3, 41), (0.0, 1.0, 128),
                                          (1000.0, 1000.5, 30), (-3e5, -2.9e5, 9),
                                          (1e6, 1e6 + 1e-3, 4)])
def test_every_histogram_path_counts_like_numpy_near_edges(dtype, lo, hi, bins):
    # AVX-512 guesses each bin from the scaled offset and checks only values within a margin
    # of an edge; AVX2 checks every value; the portable path is NumPy's rule. Values from 0 to
    # 200 units in the last place either side of every edge, where a margin too small for the
    # guess's rounding (or a wrong fallback) miscounts; ranges far from 0 (wide margins, and
    # one too wide for the guess); odd lengths, so that every vector tail runs.
    edges = np.histogram_bin_edges(np.empty(0), bins, range=(lo, hi))
    near = [edges.astype(dtype)]
    for steps in (1, 2, 5, 17, 64, 200):
        for direction in (-np.inf, np.inf):
            moved = edges.astype(dtype)
            for _ in range(steps):
                moved = np.nextafter(moved, np.array(direction, dtype))
            near.append(moved)
    span = hi - lo
    values = np.concatenate(near + [np.random.default_rng(bins).uniform(
        lo - span / 10, hi + span / 10, 20011).astype(dtype),
        np.array([np.nan, np.inf, -np.inf, lo, hi], dtype)])
    expected = np.histogram(values.astype(np.float64), edges)[0]
    for length in (len(values), len(values) - 7, 15):
        h = values[:length].reshape(1, -1)
        want = expected if length == len(values) else \
            np.histogram(values[:length].astype(np.float64), edges)[0]
        for level in (2, 1, 0):
            got = at_level(_propagate, level, lambda: _propagate.histogram(h, edges, 1))
            np.testing.assert_array_equal(got, want, err_msg=f"SIMD level {level}")

"""The hand-written AVX2 paths (ziggurat fast path, min/max, histogram binning) give the same
bits as the portable paths that run on other CPUs. Where the CPU lacks AVX2 both runs take the
portable path and the tests compare it with itself."""
import numpy as np
import pytest

import fastinit
from fastinit import _fill, _propagate, activations
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

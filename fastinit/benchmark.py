"""``fastinit bench``: the engine against the NumPy reference and a plain NumPy loop on the
classic workload, timed side by side in this process (best of ``repeats``)."""
import time
from functools import partial

import numpy as np


def _best(function, repeats):
    function()  # warm-up: first-call imports and page faults are not the steady state
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def plain_numpy(widths, batch, dtype, seed=0):
    """What users run today: legacy randn, X @ W, tanh, mean and std per layer."""
    np.random.seed(seed)
    H = np.random.randn(batch, widths[0]).astype(dtype, copy=False)
    means, stds = [], []
    for width in widths:
        W = (np.random.randn(H.shape[1], width) / np.sqrt(H.shape[1])).astype(dtype, copy=False)
        H = np.tanh(H @ W)
        means.append(float(H.mean()))
        stds.append(float(H.std()))
    return means, stds


def propagation_table(widths, depth=10, batch=1000, repeats=3):
    """One row per (dtype, width): times in ms and the engine's speed-ups."""
    import fastinit
    import fastinit.reference
    rows = []
    for dtype in ("float64", "float32"):
        for width in widths:
            layers = [width] * depth
            args = dict(batch=batch, dtype=dtype, rng=0, keep_activations=False)
            engine = _best(partial(fastinit.forward_prop, layers, "lecun_normal", **args),
                           repeats)
            reference = _best(partial(fastinit.reference.forward_prop, layers, "lecun_normal",
                                      **args), repeats)
            numpy = _best(partial(plain_numpy, layers, batch, dtype), repeats)
            rows.append({"dtype": dtype, "width": width, "engine_ms": engine * 1e3,
                         "numpy_ms": numpy * 1e3, "reference_ms": reference * 1e3,
                         "x_numpy": numpy / engine, "x_reference": reference / engine})
    return rows

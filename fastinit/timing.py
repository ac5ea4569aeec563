"""Timing, for ``fastinit bench`` and benchmarks/: the one plain-NumPy baseline network and the
one timer.

Contenders are timed in blocks (several calls of one, then several of the next, the rounds
repeated), not alternately: a library's BLAS/OpenMP threads keep spinning after its call and
would steal the next contender's cores. Medians are reported.
"""
import statistics
import time

import numpy as np


def plain_numpy_network(widths, batch, dtype, seed=0, keep_activations=False, full=False):
    """What users run without fastinit: legacy ``randn`` input and weights ``/ sqrt(fan_in)``,
    ``X @ W``, tanh, then mean and std per layer (``full``: also min, max and the saturated
    fraction, as a sweep records them). Returns (kept activations, per-layer statistics)."""
    np.random.seed(seed)
    dtype = np.dtype(dtype)
    H = np.random.randn(batch, widths[0]).astype(dtype, copy=False)
    acts, stats = {}, []
    for layer, width in enumerate(widths):
        W = (np.random.randn(H.shape[1], width) / np.sqrt(H.shape[1])).astype(dtype,
                                                                            copy=False)
        H = np.tanh(H @ W)
        row = [float(H.mean()), float(H.std())]
        if full:
            row += [float(H.min()), float(H.max()), float(np.mean(np.abs(H) > 0.99))]
        stats.append(row)
        if keep_activations:
            acts[layer] = H
    return acts, stats


def blocked_medians(contenders, rounds=3, block=5, warmup=True):
    """{label: median seconds per call} of zero-argument callables, timed in blocks of
    ``block`` calls per contender, ``rounds`` times over."""
    if warmup:  # first-call imports, page faults and thread pools are not the steady state
        for fn in contenders.values():
            fn()
    times = {label: [] for label in contenders}
    for _ in range(rounds):
        for label, fn in contenders.items():
            for _ in range(block):
                start = time.perf_counter()
                fn()
                times[label].append(time.perf_counter() - start)
    return {label: statistics.median(values) for label, values in times.items()}


def propagation_table(widths, depth=10, batch=1000, rounds=3):
    """``fastinit bench``: one row per (dtype, width), the engine against the NumPy reference
    and the plain NumPy network, medians of blocked calls in milliseconds."""
    from fastinit.propagation import forward_prop
    from fastinit.reference import forward_prop as reference_forward_prop
    rows = []
    for dtype in ("float64", "float32"):
        for width in widths:
            layers = [width] * depth
            args = dict(batch=batch, dtype=dtype, rng=0, keep_activations=False)
            medians = blocked_medians({
                "engine": lambda: forward_prop(layers, "lecun_normal", **args),
                "reference": lambda: reference_forward_prop(layers, "lecun_normal", **args),
                "numpy": lambda: plain_numpy_network(layers, batch, dtype),
            }, rounds=rounds, block=3)
            engine = medians["engine"]
            rows.append({"dtype": dtype, "width": width, "engine_ms": engine * 1e3,
                         "numpy_ms": medians["numpy"] * 1e3,
                         "reference_ms": medians["reference"] * 1e3,
                         "x_numpy": medians["numpy"] / engine,
                         "x_reference": medians["reference"] / engine})
    return rows

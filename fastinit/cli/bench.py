"""Timing, for ``fastinit bench`` and benchmarks/: the one plain-NumPy baseline network and the
one timer.

Contenders are timed in blocks (several calls of one, then several of the next, the rounds
repeated), not alternately: a library's BLAS/OpenMP threads keep spinning after its call and
would steal the next contender's cores. Medians are reported.
"""
import math
from typing import Any
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


BENCH_COLUMNS = {
    "dtype": "element type",
    "width": "units per layer",
    "fastinit_ms": "fastinit.forward_prop, median ms per network",
    "numpy_ms": "a plain NumPy loop (randn, X @ W, tanh, mean, std), median ms",
    "reference_ms": "fastinit.reference.forward_prop (the NumPy spec), one call; nan above "
                    "width 500, where one call takes seconds",
    "vs_numpy": "numpy_ms / fastinit_ms: how many times faster than the plain loop",
    "vs_reference": "reference_ms / fastinit_ms",
}


# The NumPy reference draws in NumPy (33 s a call at width 2048, float64): `fastinit bench`
# times it, once, up to this width and leaves it out (NaN) above it.
REFERENCE_MAX_WIDTH = 500


def estimate_seconds(widths, depth=10, batch=1000, rounds=3):
    """About how long propagation_table takes here: one engine call at the largest width (in
    float32, the cheaper half), scaled by the GEMM work (width**2) of every call it makes,
    NumPy's loop at about 2x the engine, float64 at 2x float32, and the reference at 30x
    where it runs."""
    from fastinit.propagation import forward_prop
    top = max(widths)
    forward_prop([top] * depth, "lecun_normal", batch=batch, dtype="float32", rng=0,
                 keep_activations=False)  # loads the kernels and their threads
    start = time.perf_counter()
    forward_prop([top] * depth, "lecun_normal", batch=batch, dtype="float32", rng=0,
                 keep_activations=False)
    per_width2 = (time.perf_counter() - start) / (top * top)
    calls = 1 + 3 * rounds  # a warm-up and the blocks
    total = 0.0
    for scale in (2.0, 1.0):  # float64, float32
        for width in widths:
            engine = scale * per_width2 * width * width
            total += calls * 3.0 * engine  # the engine and NumPy's loop
            if width <= REFERENCE_MAX_WIDTH:
                total += 30.0 * engine
    return total


def propagation_table(widths, depth=10, batch=1000, rounds=3, progress=None):
    """``fastinit bench``: one row per (dtype, width), the engine against the NumPy reference
    and the plain NumPy network (columns: BENCH_COLUMNS), medians of blocked calls.
    ``progress(done, total, what)`` is called before each row."""
    from fastinit.propagation import forward_prop
    from fastinit.reference import forward_prop as reference_forward_prop
    # the reference is timed by one call per row: its first call's imports (0.7 s, 100x a
    # width-32 network) go to an untimed call here, or the first row's ratio reports them
    for dtype in ("float64", "float32"):
        reference_forward_prop([2], "lecun_normal", batch=2, dtype=dtype, rng=0)
    rows = []
    cases = [(dtype, width) for dtype in ("float64", "float32") for width in widths]
    for done, (dtype, width) in enumerate(cases):
        if progress is not None:
            progress(done, len(cases), f"{dtype}, width {width}")
        layers = [width] * depth
        args: dict[str, Any] = dict(batch=batch, dtype=dtype, rng=0, keep_activations=False)
        medians = blocked_medians({
            "engine": lambda: forward_prop(layers, "lecun_normal", **args),
            "numpy": lambda: plain_numpy_network(layers, batch, dtype),
        }, rounds=rounds, block=3)
        reference = math.nan
        if width <= REFERENCE_MAX_WIDTH:  # the spec is slow by design: one call is enough
            reference = blocked_medians({"reference": lambda: reference_forward_prop(
                layers, "lecun_normal", **args)}, rounds=1, block=1, warmup=False)["reference"]
        engine = medians["engine"]
        rows.append({"dtype": dtype, "width": width,
                     "fastinit_ms": round(engine * 1e3, 2),
                     "numpy_ms": round(medians["numpy"] * 1e3, 2),
                     "reference_ms": round(reference * 1e3, 2),
                     "vs_numpy": round(medians["numpy"] / engine, 2),
                     "vs_reference": round(reference / engine, 2)})
    if progress is not None:
        progress(len(cases), len(cases), "done")
    return rows

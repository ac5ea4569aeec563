"""Fixtures and helpers shared by the test modules.

Tests that start processes, browsers or clusters, or run hypothesis searches, are marked
``slow`` here, by what their code calls (SLOW_CALLS), so that ``pytest -m "not slow" tests``
runs the rest in about a minute."""
import inspect
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import pytest
from scipy import stats

import fastinit
import fastinit.reference as reference


@pytest.fixture(params=[fastinit, reference], ids=["engine", "reference"])
def api(request):
    """The engine and the NumPy reference: the same API, tested alike."""
    return request.param


def same_records(a, b):
    """Equal record lists, in any order, NaN equal to NaN, every float bit for bit."""
    def key(r):
        return (r["init"], r["activation"], r["depth"], r["width"], r["batch"], r["dtype"],
                r["seed"], str(r["bias"]), -1 if r["layer"] is None else r["layer"])
    a, b = sorted(a, key=key), sorted(b, key=key)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.keys() == y.keys()
        for k in x:
            if isinstance(x[k], float) and math.isnan(x[k]):
                assert isinstance(y[k], float) and math.isnan(y[k]), k
            else:
                assert x[k] == y[k], (k, x[k], y[k])


# Both samples of a law comparison are fixed by their seeds: the p-value is a fixed number.
KS_P = 1e-3


def same_law(ours, theirs, p=KS_P):
    """Whether two samples (arrays or torch tensors) pass a two-sample KS test at ``p``; a
    constant (``theirs`` with at most two distinct values: ones, zeros, PReLU's 0.25) must be
    equal value for value instead."""
    def values(x):
        x = x.detach().double().numpy() if hasattr(x, "detach") else x
        return np.asarray(x, np.float64).ravel()
    ours, theirs = values(ours), values(theirs)
    if np.unique(theirs).size <= 2:
        return np.array_equal(np.sort(ours), np.sort(theirs))
    return stats.ks_2samp(ours, theirs).pvalue > p


def fastinit_cli(*args, cwd=None, check=True):
    """``python -m fastinit ARGS`` in a subprocess (from ``cwd``, default a temporary folder:
    from the checkout's root `python -m` would import the uncompiled source tree); with
    ``check`` the exit status must be 0."""
    result = subprocess.run([sys.executable, "-m", "fastinit", *map(str, args)],
                            capture_output=True, text=True, cwd=cwd or tempfile.gettempdir(),
                            timeout=300)
    if check:
        assert result.returncode == 0, result.stderr
    return result


# What makes a test slow: a subprocess (the CLI, a fresh interpreter), a browser, a process
# pool or a Dask cluster, a busy process beside it, a hypothesis search.
SLOW_CALLS = ("fastinit_cli(", "subprocess.", "open_in_browser(", "ProcessPoolExecutor",
              "LocalCluster", "busy_process", "@given(", "Popen(")


# Of those, the ones whose work runs in another process that imports fastinit afresh (a mutation
# run's mutant is invisible there) or that time a busy process: the mutation run leaves them out.
OTHER_PROCESS_CALLS = ("fastinit_cli(", "subprocess.", "open_in_browser(", "Popen(",
                       "LocalCluster", "busy_process")


def pytest_sessionstart(session):
    """In a mutation run's child (mutmut sets MUTANT_UNDER_TEST), empty fastinit's caches: the
    child is forked from a process that ran the tests already, so a cached answer (a law's
    kernel parameters, a parsed text spec) would hide a mutant of the code that computed it."""
    if "MUTANT_UNDER_TEST" in os.environ:
        for name, module in list(sys.modules.items()):
            if name.startswith("fastinit") or name.startswith("mutants"):
                for value in list(vars(module).values()):
                    if callable(getattr(value, "cache_clear", None)):
                        value.cache_clear()


def pytest_collection_modifyitems(config, items):
    marks = {}  # per test function, read once (parametrized tests share one)
    for item in items:
        function = getattr(item, "function", None)
        if function not in marks:
            # the test's own code and its fixtures' (a fixture may start the cluster)
            fixtures = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
            codes = [function] + [d.func for defs in fixtures.values() for d in defs]
            source = ""
            for code in codes:
                try:
                    source += inspect.getsource(code) if code is not None else ""
                except (OSError, TypeError):
                    pass
            marks[function] = [mark for mark, calls in ((pytest.mark.slow, SLOW_CALLS), (
                pytest.mark.other_process, OTHER_PROCESS_CALLS))
                if any(call in source for call in calls)]
        for mark in marks[function]:
            item.add_marker(mark)

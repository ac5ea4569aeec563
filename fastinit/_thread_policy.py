"""How fastinit's kernels share the cores: the one place that decides it.

Waiting. An OpenMP thread that finishes its share of a parallel region waits for the others,
and, between regions, for the next one. libgomp's default is to spin for a while first; on a
machine where other work runs (a laptop, CI, Dask workers on the same cores) a spinning thread
burns the core that the thread it waits for needs, and a two-thread call falls far below its
one-thread time (a 10**6-value fill took 5.8x its one-thread time beside one busy process with
a long spin). fastinit therefore asks libgomp to sleep at once (``OMP_WAIT_POLICY=PASSIVE``),
which costs a few microseconds of wake-up per region on an idle machine and nothing under load.

libgomp reads the policy once, when it is loaded: ``apply()`` sets it, unless the user chose a
policy (``OMP_WAIT_POLICY`` or ``GOMP_SPINCOUNT`` in the environment), before fastinit's
kernels load libgomp. When another library loaded libgomp first (PyTorch bundles one, with the
same name, so ``import torch`` before ``import fastinit`` loads it), that library's policy
stands: ``state()`` says which happened, and ``fastinit --version`` prints it.

Thread count. ``num_threads=`` per call wins; else ``OMP_NUM_THREADS``; else one per core.
BLAS stays on one thread inside the kernels (fastinit._blas_threads).
"""
import os

_STATE = {"wait_policy": None}


def _libgomp_loaded():
    try:
        with open("/proc/self/maps") as maps:
            return "libgomp" in maps.read()
    except OSError:  # not Linux: no way to tell; assume not
        return False


def apply():
    """Set the waiting policy for libgomp, before fastinit's kernels load it (idempotent)."""
    if _STATE["wait_policy"] is not None:
        return
    chosen = os.environ.get("OMP_WAIT_POLICY") or os.environ.get("GOMP_SPINCOUNT")
    if chosen:
        _STATE["wait_policy"] = "the environment's (OMP_WAIT_POLICY/GOMP_SPINCOUNT)"
    elif _libgomp_loaded():
        _STATE["wait_policy"] = ("the OpenMP runtime's default (it was loaded before fastinit, "
                                 "e.g. by torch; import fastinit first to make it sleep)")
    else:
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
        _STATE["wait_policy"] = "passive (waiting threads sleep)"


def state():
    """What the waiting policy is, in words."""
    return _STATE["wait_policy"] or "not set yet"

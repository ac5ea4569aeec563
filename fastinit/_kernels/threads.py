"""How fastinit's kernels share the cores: the one place that decides it.

Waiting. An OpenMP thread that finishes its share of a parallel region waits for the others,
and, between regions, for the next one. libgomp's default is to spin 300,000 times first
(about 10 ms on an AMD EPYC); on a machine where other work runs (a laptop, CI, Dask
workers on the same cores) a spinning thread burns the core that the thread it waits for
needs, and a two-thread call falls far below its one-thread time (a 10**6-value fill took 5.8x
its one-thread time beside one busy process). Sleeping at once (``OMP_WAIT_POLICY=PASSIVE``)
cures that but makes every region wake its threads through the kernel: the trainer's step,
two dozen short regions, took 1.35x its GEMMs that way against 1.24x with a brief spin, and
the classic float64 network 105 ms against 85 ms. fastinit therefore asks libgomp to spin
briefly, then sleep (``GOMP_SPINCOUNT=1000``: tens of microseconds), which keeps the wake-ups
of back-to-back regions cheap and costs a busy machine at most that long per wait.

libgomp reads the policy once, when it is loaded: ``apply()`` sets it, unless the user chose a
policy (``OMP_WAIT_POLICY`` or ``GOMP_SPINCOUNT`` in the environment), before fastinit's
kernels load libgomp. When another library loaded libgomp first (PyTorch bundles one, with the
same name, so ``import torch`` before ``import fastinit`` loads it), that library's policy
stands: ``state()`` says which happened, and ``fastinit --version`` prints it.

BLAS's idle threads. OpenBLAS (NumPy's and SciPy's) keeps its threads spinning for about
0.1 s after every threaded call (2**28 cycles, busy-waiting in user space): on 2 cores the
engine run right after NumPy work shares a core with that spinner and took 1.7-1.9x its time
alone, and no call can stop the spinning once it has begun. OpenBLAS reads
``OPENBLAS_THREAD_TIMEOUT`` (the spin as a power of two of cycles) when it loads: ``apply()``
sets 20 (about a third of a millisecond: back-to-back BLAS calls still find their threads
awake, and NumPy's own loops measured no slower), unless the user set it or an OpenBLAS was
loaded before fastinit (``import numpy`` before ``import fastinit``, the usual order: then
import fastinit first, or set the variable yourself).

Thread count. ``num_threads=`` per call wins; else ``OMP_NUM_THREADS``; else one per core
that other work leaves free (``share_of_cores``): a call that asks OpenMP for every core while
another process keeps one busy waits at each barrier for the thread the busy process displaced
(the classic workload beside one busy process on 2 cores: 141 ms on 2 threads, 81 ms on 1). The
running threads of other processes are counted at the call (/proc/stat's procs_running, this
process's own threads taken out); when they fill every core, all threads are used, as a fair
share of an oversubscribed machine is then one per thread.
BLAS stays on one thread inside the kernels (``blas_single_threaded`` below): they call it from
every OpenMP thread, one block of rows each, and BLAS's own threads would fight ours for the
cores.
"""
import math
import os
import threading
import time
from contextlib import contextmanager

_STATE = {"wait_policy": None, "blas_idle": None, "set": []}
BLAS_THREAD_TIMEOUT = "20"
SPIN_COUNT = "1000"


def _loaded(name):
    """Whether a shared library whose path contains ``name`` is loaded in this process."""
    try:
        with open("/proc/self/maps") as maps:
            return name in maps.read()
    except OSError:  # not Linux: no way to tell; assume not
        return False


def _libgomp_loaded():
    return _loaded("libgomp")


def apply():
    """Set the waiting policy for libgomp, before fastinit's kernels load it (idempotent)."""
    if _STATE["wait_policy"] is not None:
        return
    chosen = os.environ.get("OMP_WAIT_POLICY") or os.environ.get("GOMP_SPINCOUNT")
    if chosen:
        _STATE["wait_policy"] = "the environment's (OMP_WAIT_POLICY/GOMP_SPINCOUNT)"
    elif _libgomp_loaded():
        _STATE["wait_policy"] = ("the OpenMP runtime's default (it was loaded before fastinit, "
                                 "e.g. by torch; import fastinit first for a brief spin)")
    else:
        os.environ["GOMP_SPINCOUNT"] = SPIN_COUNT
        _STATE["set"].append("GOMP_SPINCOUNT")
        _STATE["wait_policy"] = (f"spin briefly, then sleep (GOMP_SPINCOUNT={SPIN_COUNT}: tens "
                                 "of microseconds)")
    if os.environ.get("OPENBLAS_THREAD_TIMEOUT"):
        _STATE["blas_idle"] = ("the environment's (OPENBLAS_THREAD_TIMEOUT="
                               f"{os.environ['OPENBLAS_THREAD_TIMEOUT']})")
    elif _loaded("openblas"):
        _STATE["blas_idle"] = ("OpenBLAS's default, a 0.1 s spin after each call (it was "
                               "loaded before fastinit; import fastinit first to shorten it)")
    else:
        os.environ["OPENBLAS_THREAD_TIMEOUT"] = BLAS_THREAD_TIMEOUT
        _STATE["set"].append("OPENBLAS_THREAD_TIMEOUT")
        _STATE["blas_idle"] = "sleep after 2**20 cycles (OPENBLAS_THREAD_TIMEOUT=20)"


def state():
    """What the waiting policy is, in words."""
    return _STATE["wait_policy"] or "not set yet"


def set_here():
    """The environment variables apply() set (child processes inherit them)."""
    return list(_STATE["set"])


def blas_idle_state():
    """What OpenBLAS's idle threads do, in words."""
    return _STATE["blas_idle"] or "not set yet"


# -- the share of the cores a call takes ---------------------------------------------------------

SAMPLE_SECONDS = 0.01  # the count of other work is re-read at most this often
_sample = {"time": -math.inf, "others": 0}


def _procs_running(path="/proc/stat"):
    """The machine's running threads (the kernel's procs_running, the caller included), or
    None where there is no such count (not Linux)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    start = data.find(b"procs_running ")
    if start < 0:
        return None
    return int(data[start + 14:data.index(b"\n", start)])


def _own_running():
    """This process's threads that are running now (the caller among them)."""
    running = 0
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return 1
    for task in tasks:
        try:
            with open(f"/proc/self/task/{task}/stat", "rb") as f:
                stat = f.read()
        except OSError:  # the thread ended
            continue
        if stat[stat.rindex(b")") + 2:][:1] == b"R":
            running += 1
    return max(running, 1)


def others_running():
    """Running threads of other processes, read at most every SAMPLE_SECONDS (0 where the
    system has no count). This process's own threads (NumPy's BLAS threads, a spinning
    OpenMP team of a runtime loaded before fastinit) are not other work."""
    now = time.monotonic()
    if now - _sample["time"] > SAMPLE_SECONDS:
        total = _procs_running()
        others = 0
        if total is not None and total > 1:
            others = max(0, total - _own_running())
        _sample["time"], _sample["others"] = now, others
    return _sample["others"]


def _cores():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def share_of_cores(threads):
    """The threads a call without ``num_threads=`` runs on, given OpenMP's default ``threads``:
    the cores other processes leave free, when some but not all are busy; ``threads`` as it is
    when the user chose it (``OMP_NUM_THREADS``, or a limit such as threadpoolctl's that differs
    from the core count), when nothing else runs, or when other work fills every core. Other
    processes' running threads are spread over all the machine's CPUs (a container sees the
    whole host's count): those on this process's cores are their share of them."""
    if threads <= 1 or os.environ.get("OMP_NUM_THREADS"):
        return threads
    cores = _cores()
    if threads != cores:
        return threads
    others = others_running()
    if others == 0:
        return threads
    busy = round(others * cores / max(os.cpu_count() or cores, cores))
    return cores - busy if 0 < busy < cores else threads


# BLAS on one thread inside the kernels. The limit is process-wide (BLAS has one thread count),
# so concurrent calls share it: the first caller in sets it, the last one out restores exactly
# what was there before, whatever order the calls end in. (threadpoolctl's limiter alone restores
# what it saw on entry: two overlapping calls that exit out of order would leave BLAS on one
# thread for good.)
_lock = threading.Lock()
_state = {"holders": 0, "saved": None, "controller": None}


def _blas_libraries():
    # found once: finding the BLAS libraries costs milliseconds, setting their thread count
    # (a ctypes call) microseconds
    if _state["controller"] is None:
        from threadpoolctl import ThreadpoolController
        _state["controller"] = ThreadpoolController()
    return [lib for lib in _state["controller"].lib_controllers if lib.user_api == "blas"]


def _set_blas_threads(lib, threads):
    """Set one BLAS library's thread count from whichever thread holds the block.
    threadpoolctl (3.6 and later) lets only one "controlling" thread set OpenBLAS's
    process-wide count and silently ignores the others: entered from a worker thread (a Dask
    task, a ThreadPoolExecutor) after the main thread had set the count, BLAS stayed threaded
    inside the kernels. The holders' count above already serialises fastinit's own settings:
    when a setting did not take, the control is released, the setting made again and the
    control released once more (about 8 us; only then, as a tiny network's call enters twice)."""
    lib.set_num_threads(threads)
    release = getattr(type(lib), "clear_controlling_thread", None)
    if release is not None and lib.get_num_threads() != threads:
        release(force=True)
        lib.set_num_threads(threads)
        release(force=True)


@contextmanager
def blas_single_threaded():
    """BLAS on one thread inside the block, for every thread of this process; restored when
    the last block still open exits."""
    with _lock:
        if _state["holders"] == 0:
            # a library already on one thread is left alone: nothing to set or restore
            _state["saved"] = [(lib, threads) for lib in _blas_libraries()
                               if (threads := lib.get_num_threads()) != 1]
            for lib, _ in _state["saved"]:
                _set_blas_threads(lib, 1)
        _state["holders"] += 1
    try:
        yield
    finally:
        with _lock:
            _state["holders"] -= 1
            if _state["holders"] == 0:
                for lib, threads in _state["saved"]:
                    _set_blas_threads(lib, threads)
                _state["saved"] = None

"""How fastinit's threads and BLAS's share the cores (fastinit._kernels.threads): libgomp's
waiting threads sleep, and OpenBLAS's idle threads stop spinning soon after a call, when
fastinit is imported before those libraries load; what the user set in the environment wins.
Each case runs in a fresh interpreter, since both libraries read the environment once."""
import json
import math
import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_info

import fastinit
import fastinit._kernels.openmp
from conftest import fastinit_cli

# The CPU ticks (1/100 s) that threads other than the main one use in the 0.3 s after five
# threaded NumPy matmuls: OpenBLAS's idle threads spin 2**28 cycles (~0.1 s) by default.
PROBE = """
import json, os, sys, time
for module in sys.argv[1].split(","):
    __import__(module)
import numpy as np
import fastinit
import fastinit._kernels.openmp
import fastinit._config
def ticks():
    total = 0
    for t in os.listdir("/proc/self/task"):
        if int(t) != os.getpid():
            fields = open(f"/proc/self/task/{t}/stat").read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total
a = np.random.default_rng(0).standard_normal((600, 600))
for _ in range(5):
    a @ a
fastinit.normal((10**6,), rng=0, num_threads=2)  # fastinit's OpenMP threads wait from here
before = ticks()
time.sleep(0.3)
print(json.dumps({"ticks": ticks() - before, "wait": os.environ.get("OMP_WAIT_POLICY"),
                  "spin": os.environ.get("GOMP_SPINCOUNT"),
                  "timeout": os.environ.get("OPENBLAS_THREAD_TIMEOUT"),
                  "config": fastinit._config.config()}))
"""


def probe(tmp_path, first, **env):
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OPENBLAS_THREAD_TIMEOUT",
                                "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    environment.update(env)
    out = subprocess.run([sys.executable, "-c", PROBE, first], cwd=tmp_path, env=environment,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


needs_linux_threads = pytest.mark.skipif(
    not sys.platform.startswith("linux") or (os.cpu_count() or 1) < 2,
    reason="reads /proc and needs NumPy's BLAS on two threads or more")


@needs_linux_threads
def test_imported_first_fastinit_makes_blas_idle_threads_sleep(tmp_path):
    seen = probe(tmp_path, "fastinit")
    assert seen["wait"] is None and seen["spin"] == "1000" and seen["timeout"] == "20"
    assert seen["config"]["waiting"].startswith("spin briefly, then sleep")
    assert "OPENBLAS_THREAD_TIMEOUT=20" in seen["config"]["blas idle"]
    # neither BLAS's threads (OpenBLAS's default: 0.1 s) nor OpenMP's go on spinning beside
    # the next call
    assert seen["ticks"] <= 2, seen


@needs_linux_threads
def test_after_numpy_the_default_spin_stays_and_is_reported(tmp_path):
    # the oracle of the test above: with NumPy's OpenBLAS loaded first, its threads spin
    seen = probe(tmp_path, "numpy")
    assert seen["timeout"] is None
    assert "loaded before fastinit" in seen["config"]["blas idle"]
    assert seen["ticks"] >= 3, seen


def test_the_users_settings_win(tmp_path):
    seen = probe(tmp_path, "fastinit", OPENBLAS_THREAD_TIMEOUT="24", OMP_WAIT_POLICY="ACTIVE")
    assert seen["wait"] == "ACTIVE" and seen["timeout"] == "24" and seen["spin"] is None
    assert "OPENBLAS_THREAD_TIMEOUT=24" in seen["config"]["blas idle"]
    assert "environment" in seen["config"]["waiting"]
    # the probe's oracle: an ACTIVE OpenMP thread spins through the whole 0.3 s
    if (os.cpu_count() or 1) >= 2:
        assert seen["ticks"] >= 10, seen


TOO_MANY_THREADS = [100000, 2**31 - 1, 2**40]


# The defects found by fuzzing and independent validation (issue 10), by section.

# -- num_threads ------------------------------------------------------------------------------

@pytest.mark.parametrize("threads", TOO_MANY_THREADS)
@pytest.mark.parametrize("call", [
    lambda f, n: f.normal((10,), rng=1, num_threads=n),
    lambda f, n: f.uniform((10,), low=0.0, high=1.0, rng=1, num_threads=n),
    lambda f, n: f.orthogonal((4, 4), rng=1, num_threads=n),
    lambda f, n: f.identity((4, 4), num_threads=n),
    lambda f, n: f.dirac((3, 3, 3), num_threads=n),
    lambda f, n: f.sparse((4, 4), sparsity=0.5, num_threads=n),
    lambda f, n: f.Stream(0).normal(np.empty(4), num_threads=n),
    lambda f, n: f.forward_prop([4, 4], "he_normal", batch=2, rng=0, num_threads=n),
    lambda f, n: f.forward_prop([4, 4], "he_normal", batch=2, rng=0, num_threads=n,
                                keep_activations=False),
])
def test_too_many_threads_is_a_value_error(api, call, threads):
    with pytest.raises(ValueError, match="num_threads"):
        call(api, threads)


def test_the_thread_cap_itself_runs():
    from fastinit._validation import MAX_THREADS
    a = fastinit.normal((10000,), rng=3, num_threads=MAX_THREADS)
    assert np.array_equal(a, fastinit.normal((10000,), rng=3, num_threads=1))


def test_cli_refuses_too_many_threads(tmp_path):
    result = fastinit_cli("sweep", "--init", "zeros", "--out", str(tmp_path / "x.csv"),
                          "--threads", "100000", check=False)
    assert result.returncode == 2 and "--threads" in result.stderr


# -- BLAS threads -----------------------------------------------------------------------------

def _blas_threads():
    return [(i["filepath"], i["num_threads"]) for i in threadpool_info()
            if i["user_api"] == "blas"]


def test_blas_limit_is_restored_when_blocks_exit_out_of_order():
    from fastinit._kernels.threads import blas_single_threaded
    before = _blas_threads()
    first, second = blas_single_threaded(), blas_single_threaded()
    first.__enter__()
    second.__enter__()
    assert all(n == 1 for _, n in _blas_threads())
    first.__exit__(None, None, None)  # the first one in leaves first
    assert all(n == 1 for _, n in _blas_threads())  # the second still runs kernels
    second.__exit__(None, None, None)
    assert _blas_threads() == before


def test_blas_is_single_threaded_in_a_block_entered_from_a_worker_thread():
    """threadpoolctl lets one "controlling" thread set OpenBLAS's count and ignores the rest:
    after the main thread has set it (as any threadpool_limits user's does), a kernel called
    from a worker thread (a Dask task, a thread pool) must still run BLAS on one thread."""
    from threadpoolctl import ThreadpoolController
    from fastinit._kernels.threads import blas_single_threaded
    libs = [lib for lib in ThreadpoolController().lib_controllers if lib.user_api == "blas"]
    before = [lib.get_num_threads() for lib in libs]
    for lib in libs:
        lib.set_num_threads(2)  # from the main thread: it now controls OpenBLAS
    if not any(lib.get_num_threads() == 2 for lib in libs):
        for lib, n in zip(libs, before):
            lib.set_num_threads(n)
        pytest.skip("no BLAS that runs on 2 threads here")
    seen = {}

    def worker():
        with blas_single_threaded():
            seen["inside"] = [lib.get_num_threads() for lib in libs]
        seen["after"] = [lib.get_num_threads() for lib in libs]

    try:
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        assert seen["inside"] == [1] * len(libs)
        assert seen["after"] == [2] * len(libs)
    finally:
        for lib, n in zip(libs, before):
            lib.set_num_threads(n)


def test_concurrent_forward_props_leave_blas_as_they_found_it():
    before = _blas_threads()
    errors = []

    def work(seed):
        try:
            for i in range(20):  # kernels long enough that the calls overlap
                fastinit.forward_prop([256, 256], "he_normal", batch=512, rng=seed * 100 + i,
                                      keep_activations=i % 2 == 0)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert _blas_threads() == before


# -- Ctrl-C -----------------------------------------------------------------------------------

CTRL_C = """
import os, signal, sys, threading, time
import numpy as np
import fastinit
import fastinit._kernels.openmp
from fastinit import sweep as sweeps
calls = {
    "fill": lambda: fastinit.truncated_normal((10**8,), a=6.0, b=7.0, rng=0),
    "network": lambda: fastinit.forward_prop([4000] * 8, "lecun_normal", rng=0,
                                             keep_activations=False, bins=0),
    "layers": lambda: fastinit.forward_prop([4000] * 8, "lecun_normal", rng=0),
    "orthogonal": lambda: fastinit.orthogonal((5000, 5000), rng=0),
    "sweep": lambda: sweeps.sweep(init="lecun_normal", depth=20, width=64, batch=256,
                                  seeds=50000, progress=False),
    # issue 25: a Generator's one long call, a tall QR's long LAPACK calls and copies, the
    # backward pass's pre-activations (gelu) and the perturbed second run
    "compat": lambda: fastinit.normal((2 * 10**8,), dtype="float32",
                                      rng=np.random.default_rng(0)),
    "orthogonal_tall": lambda: fastinit.orthogonal((8192, 4096), rng=0),
    "backward": lambda: fastinit.forward_prop([4000] * 4, "he_normal", activation="gelu",
                                              rng=0, backward=True),
    "perturbation": lambda: fastinit.forward_prop([4000] * 4, "he_normal", rng=0,
                                                  perturbation=0.1),
}
fastinit.normal((10,), rng=0)  # imports and thread pools ready
# a shell starts background jobs with SIGINT ignored, and Python keeps it so: Ctrl-C as usual
signal.signal(signal.SIGINT, signal.default_int_handler)
sent = []
def interrupt():
    sent.append(time.perf_counter())
    os.kill(os.getpid(), signal.SIGINT)
threading.Timer(float(sys.argv[2]), interrupt).start()
try:
    calls[sys.argv[1]]()
    print("finished")
except KeyboardInterrupt:
    time.sleep(0.05)
    print("interrupted", time.perf_counter() - sent[0], threading.active_count())
"""


@pytest.mark.parametrize("case, delay", [
    ("fill", 0.3), ("network", 0.3), ("layers", 0.3), ("orthogonal", 0.3), ("sweep", 0.3),
    ("compat", 1.5), ("orthogonal_tall", 2.0), ("backward", 2.0), ("perturbation", 1.5)])
def test_ctrl_c_is_answered_within_a_second(case, delay, tmp_path):
    # with a busy process beside it, as on a laptop or a CI machine running other work: a
    # kernel whose waiting threads spun would starve the thread that must answer (issue 26)
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        result = subprocess.run([sys.executable, "-c", CTRL_C, case, str(delay)],
                                capture_output=True, text=True, timeout=300, cwd=tmp_path)
    finally:
        busy.kill()
        busy.wait()
    words = result.stdout.split()
    assert words[0] == "interrupted", result.stdout + result.stderr
    latency, threads = float(words[1]), int(words[2])
    assert latency < 1.0
    assert threads == 1  # no helper thread left running


POOL_CTRL_C = """
import os, signal, sys, threading, time
from concurrent.futures import ProcessPoolExecutor
from fastinit import sweep as sweeps
signal.signal(signal.SIGINT, signal.default_int_handler)
sent = []
def interrupt():
    sent.append(time.perf_counter())
    os.kill(os.getpid(), signal.SIGINT)
start = time.perf_counter()
try:
    with ProcessPoolExecutor(2) as pool:
        threading.Timer(3.0, interrupt).start()
        sweeps.sweep(init="lecun_normal", depth=10, width=500, batch=1000, seeds=400,
                     executor=pool, progress=False)
    print("finished")
except KeyboardInterrupt:
    print("interrupted", time.perf_counter() - sent[0])
"""


def test_ctrl_c_cancels_a_process_pools_pending_chunks(tmp_path):
    # 400 networks of 10 x 500 take a minute on 2 cores; after Ctrl-C only the chunks already
    # running (about a second of work each) finish before the pool's `with` lets go
    result = subprocess.run([sys.executable, "-c", POOL_CTRL_C], capture_output=True,
                            text=True, timeout=600, cwd=tmp_path)
    words = result.stdout.split()
    assert words[0] == "interrupted", result.stdout + result.stderr
    assert float(words[1]) < 8.0


# -- the share of the cores a call takes -------------------------------------------------------

@pytest.fixture
def machine(monkeypatch):
    """A machine of ``cores`` (all this process's) and ``host`` CPUs where ``others`` threads
    of other processes run; no OMP_NUM_THREADS."""
    from fastinit._kernels import threads as policy
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)

    def set_machine(cores, others, host=None):
        monkeypatch.setattr(policy, "_cores", lambda: cores)
        monkeypatch.setattr(policy, "others_running", lambda: others)
        monkeypatch.setattr(policy.os, "cpu_count", lambda: host or cores)
        return policy.share_of_cores
    return set_machine


@pytest.mark.parametrize("cores, others, host, expected", [
    (2, 0, None, 2),   # a quiet machine: every core
    (2, 1, None, 1),   # one busy process on 2 cores: the free core only
    (2, 2, None, 2),   # every core busy: a fair share is one per thread, so all of them
    (2, 7, None, 2),
    (8, 3, None, 5),
    (2, 30, 64, 1),    # a 2-core container on a 64-CPU host running 30 threads: ~1 of ours
    (2, 10, 64, 2),    # ... running 10: about a third of one of our cores, none taken away
])
def test_a_call_takes_the_cores_other_processes_leave_free(machine, cores, others, host,
                                                            expected):
    assert machine(cores, others, host)(cores) == expected


def test_a_thread_count_the_user_chose_is_not_shared(machine, monkeypatch):
    share = machine(2, 1)
    assert share(1) == 1
    assert share(3) == 3  # not the core count: a limit someone set (threadpoolctl, omp_set_...)
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert share(2) == 2


def test_other_processes_are_the_running_threads_less_this_processs_own(monkeypatch, tmp_path):
    from fastinit._kernels import threads as policy
    stat = tmp_path / "stat"
    stat.write_bytes(b"cpu  1 2 3\nctxt 99\nprocs_running 5\nprocs_blocked 0\n")
    assert policy._procs_running(str(stat)) == 5
    stat.write_bytes(b"cpu  1 2 3\n")
    assert policy._procs_running(str(stat)) is None
    assert policy._procs_running(str(tmp_path / "none")) is None
    monkeypatch.setattr(policy, "_sample", {"time": -math.inf, "others": 0})
    monkeypatch.setattr(policy, "_procs_running", lambda: 5)
    monkeypatch.setattr(policy, "_own_running", lambda: 3)  # the caller and two of ours
    assert policy.others_running() == 2
    monkeypatch.setattr(policy, "_own_running", lambda: 9)
    assert policy.others_running() == 2  # read at most every SAMPLE_SECONDS
    policy._sample["time"] = -math.inf
    assert policy.others_running() == 0
    assert policy._own_running() >= 1  # the caller runs


@pytest.mark.skipif(not fastinit._kernels.openmp.openmp_enabled() or
                    len(os.sched_getaffinity(0)) < 2, reason="needs OpenMP and 2 cores")
def test_beside_a_busy_process_a_default_call_leaves_its_core_to_it(monkeypatch):
    import time
    from fastinit._kernels import openmp
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    cores = len(os.sched_getaffinity(0))
    if cores != os.cpu_count():
        pytest.skip("this process does not have every CPU")
    from fastinit._kernels import threads as policy
    if not any(policy._procs_running() == 1 for _ in range(50) if time.sleep(0.01) is None):
        pytest.skip("other work already runs here: the busy process would not be the only one")
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        seen = set()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and cores - 1 not in seen:
            time.sleep(0.02)  # past SAMPLE_SECONDS: a new count
            seen.add(openmp.effective_num_threads(None))
        assert cores - 1 in seen, seen
        assert openmp.effective_num_threads(2) == 2  # num_threads= wins
    finally:
        busy.kill()
        busy.wait()

"""How fastinit's threads and BLAS's share the cores (fastinit._thread_policy): libgomp's
waiting threads sleep, and OpenBLAS's idle threads stop spinning soon after a call, when
fastinit is imported before those libraries load; what the user set in the environment wins.
Each case runs in a fresh interpreter, since both libraries read the environment once."""
import json
import os
import subprocess
import sys

import pytest

# The CPU ticks (1/100 s) that threads other than the main one use in the 0.3 s after five
# threaded NumPy matmuls: OpenBLAS's idle threads spin 2**28 cycles (~0.1 s) by default.
PROBE = """
import json, os, sys, time
for module in sys.argv[1].split(","):
    __import__(module)
import numpy as np
import fastinit
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
before = ticks()
time.sleep(0.3)
print(json.dumps({"ticks": ticks() - before, "wait": os.environ.get("OMP_WAIT_POLICY"),
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
    assert seen["wait"] == "PASSIVE" and seen["timeout"] == "20"
    assert seen["config"]["waiting"].startswith("passive")
    assert "OPENBLAS_THREAD_TIMEOUT=20" in seen["config"]["blas idle"]
    assert seen["ticks"] <= 2, seen  # no 0.1 s spin beside the next call


@needs_linux_threads
def test_after_numpy_the_default_spin_stays_and_is_reported(tmp_path):
    # the oracle of the test above: with NumPy's OpenBLAS loaded first, its threads spin
    seen = probe(tmp_path, "numpy")
    assert seen["timeout"] is None
    assert "loaded before fastinit" in seen["config"]["blas idle"]
    assert seen["ticks"] >= 3, seen


def test_the_users_settings_win(tmp_path):
    seen = probe(tmp_path, "fastinit", OPENBLAS_THREAD_TIMEOUT="24", OMP_WAIT_POLICY="ACTIVE")
    assert seen["wait"] == "ACTIVE" and seen["timeout"] == "24"
    assert "OPENBLAS_THREAD_TIMEOUT=24" in seen["config"]["blas idle"]
    assert "environment" in seen["config"]["waiting"]

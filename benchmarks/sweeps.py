"""Sweep throughput, side by side in one process: configurations per second of fastinit.sweep
(1 and 2 threads, a 2-process pool, a 1- and 2-worker Dask LocalCluster) against a plain NumPy
loop over the same networks.

    python benchmarks/sweeps.py [--configs 1000] [--dask-configs 200]
"""
import argparse
import concurrent.futures
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

from cases import SMALL_SWEEP as SMALL  # noqa: E402
from cases import numpy_sweep_loop as numpy_loop  # noqa: E402

from fastinit import sweep as sweeps  # noqa: E402
from fastinit.cli.bench import blocked_medians  # noqa: E402
MEDIUM = dict(init="lecun_normal", activation="tanh", depth=10, width=500, batch=1000)


def rate(function, configs, repeats=2):
    """Configurations per second: the median of ``repeats`` blocked runs."""
    seconds = blocked_medians({"run": lambda: function(configs)}, rounds=repeats, block=1,
                              warmup=False)["run"]
    return len(configs) / seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", type=int, default=1000)
    parser.add_argument("--dask-configs", type=int, default=200)
    args = parser.parse_args(argv)

    small = sweeps.grid(**SMALL, seeds=args.configs)
    contenders = {
        "plain NumPy loop": numpy_loop,
        "fastinit.sweep, 1 thread": lambda c: sweeps.sweep(c, num_threads=1),
        "fastinit.sweep, 2 threads": lambda c: sweeps.sweep(c, num_threads=2),
    }
    with concurrent.futures.ProcessPoolExecutor(2) as pool:
        sweeps.sweep(small[:4], executor=pool)  # start the workers outside the timing
        contenders["fastinit.sweep, 2 processes"] = lambda c: sweeps.sweep(c, executor=pool)
        rates = {label: rate(fn, small) for label, fn in contenders.items()}
    base = rates["plain NumPy loop"]
    print(f"{len(small)} networks: width 64, depth 20, batch 256, tanh, float32")
    for label, value in rates.items():
        print(f"  {label:<32}{value:9.1f} nets/s {value / base:7.2f}x NumPy")
    print(f"  2 threads / 1 thread: {rates['fastinit.sweep, 2 threads'] / rates['fastinit.sweep, 1 thread']:.2f}x")

    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        print("dask absent: cluster rows skipped")
        return
    medium = sweeps.grid(**MEDIUM, seeds=args.dask_configs)
    dask_rates = {}
    for workers in (1, 2):
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            sweeps.sweep(medium[:workers * 2], executor=client)  # warm the workers
            dask_rates[workers] = rate(lambda c, client=client: sweeps.sweep(c, executor=client),
                                       medium, repeats=1)
    print(f"{len(medium)} networks: width 500, depth 10, batch 1000, tanh, float64, on Dask")
    for workers, value in dask_rates.items():
        print(f"  LocalCluster, {workers} worker(s)        {value:9.1f} nets/s")
    print(f"  2 workers / 1 worker: {dask_rates[2] / dask_rates[1]:.2f}x")


if __name__ == "__main__":
    main()

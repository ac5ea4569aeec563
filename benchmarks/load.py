"""fastinit on a machine where other work runs: each call under 0, 1 and 2 busy processes
(``python -c "while True: pass"``, started and stopped here), against its own one-thread time
under the same load and, for the classic workload, a plain NumPy loop.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/load.py

Contenders are timed in blocks (fastinit.cli.bench.blocked_medians), default arguments as users
call them. Targets (issue 26): under one busy process every call <= 1.3x its num_threads=1
time and the classic workload >= 1.5x the NumPy loop; under two, no call above 2.5x its quiet
time.
"""
import argparse
import subprocess
import sys
import time

import fastinit  # before NumPy, as fastinit asks: its waiting and BLAS idle policies apply

import numpy as np  # noqa: E402
from fastinit.cli.bench import blocked_medians, plain_numpy_network  # noqa: E402


def busy(n):
    """n busy processes, each spinning on one core."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def cases(with_models, big_layers=60):
    def fill(n, dtype, threads):
        out = np.empty((n // 1000, 1000), dtype)
        return lambda: fastinit.xavier_uniform(out=out, rng=0, num_threads=threads)

    def classic(dtype, threads):
        return lambda: fastinit.forward_prop([500] * 10, "lecun_normal", rng=0, batch=1000,
                                             dtype=dtype, num_threads=threads)
    table = {}
    for n in (10**6, 10**8):
        for dtype in ("float32", "float64"):
            table[f"xavier_uniform {n:.0e} {dtype}"] = {
                "fastinit": fill(n, dtype, None), "num_threads=1": fill(n, dtype, 1)}
    for dtype in ("float64", "float32"):
        table[f"classic 10 x tanh 500, batch 1000, {dtype}"] = {
            "fastinit": classic(dtype, None), "num_threads=1": classic(dtype, 1),
            "NumPy loop": lambda d=dtype: plain_numpy_network([500] * 10, 1000, d)}
    from fastinit import sweep as sweeps
    configs = sweeps.grid(init="lecun_normal", depth=20, width=64, batch=256,
                          dtype="float32", seeds=400)
    table["sweep of 400 networks 64 x 20"] = {
        "fastinit": lambda: sweeps.sweep(configs, progress=False),
        "num_threads=1": lambda: sweeps.sweep(configs, progress=False, num_threads=1)}
    if with_models:
        import fastinit.torch as ft
        import torch
        with torch.device("meta"):
            transformer = torch.nn.Transformer(d_model=256, nhead=4, num_encoder_layers=2,
                                               num_decoder_layers=2)
        transformer = transformer.to_empty(device="cpu")
        with torch.device("meta"):
            linears = torch.nn.Sequential(*[torch.nn.Linear(4096, 4096)
                                            for _ in range(big_layers)])
        linears = linears.to_empty(device="cpu")  # 60 layers: 1.01e9 float32 parameters
        table[f"init_module {big_layers} x Linear(4096)"] = {
            "fastinit": lambda: ft.init_module(linears, rng=0),
            "num_threads=1": lambda: ft.init_module(linears, rng=0, num_threads=1)}
        table["init_module Transformer(256, 4, 2+2)"] = {
            "fastinit": lambda: ft.init_module(transformer, rng=0),
            "num_threads=1": lambda: ft.init_module(transformer, rng=0, num_threads=1),
            "torch reset_parameters": lambda: [m.reset_parameters() for m in
                                               transformer.modules()
                                               if hasattr(m, "reset_parameters")]}
    return table


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-models", action="store_true", help="skip the torch cases")
    parser.add_argument("--linear-layers", type=int, default=60,
                        help="Linear(4096) layers of the big init_module case (60: 4 GB)")
    args = parser.parse_args(argv)
    fastinit.show_config()
    try:
        import torch  # noqa: F401
        models = not args.no_models
    except ImportError:
        models = False
    table = cases(models, args.linear_layers)
    quiet = {}
    for load in (0, 1, 2):
        workers = busy(load)
        time.sleep(0.5)
        try:
            print(f"\n== {load} busy process(es) ==")
            print(f"{'case':<44}{'contender':<26}{'ms':>9}{'vs ours':>9}{'vs quiet':>9}")
            for name, contenders in table.items():
                best = blocked_medians(contenders, rounds=args.rounds)
                ours = best["fastinit"]
                for label, seconds in best.items():
                    key = (name, label)
                    if load == 0:
                        quiet[key] = seconds
                    ratio = "" if label == "fastinit" else f"{seconds / ours:8.2f}x"
                    print(f"{name:<44}{label:<26}{seconds * 1e3:9.2f}{ratio:>9}"
                          f"{seconds / quiet[key]:8.2f}x")
        finally:
            for worker in workers:
                worker.kill()
                worker.wait()


if __name__ == "__main__":
    main()

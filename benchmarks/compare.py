"""Print fastinit's speed against its baselines, measured side by side in one process.

    python benchmarks/compare.py [--repeats 7]

Each contender is timed in blocks of calls (fastinit.cli.bench.blocked_medians: several calls of
one, then of the next, ``--rounds`` times over) and its median kept. Ratios read "baseline time
/ fastinit time": above 1 means fastinit is faster. Run it as users run fastinit, with no tuning
variable set, but unset OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE where a machine sets them for old
OpenBLAS builds (they halve GEMM speed):

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/compare.py
"""
import argparse
import json
import os
import subprocess
import sys

# fastinit before NumPy, as fastinit._kernels.threads asks (then OpenBLAS's idle threads sleep
# soon after each call instead of spinning for 0.1 s beside the next contender)
import fastinit  # noqa: E402
from fastinit._kernels import threads as _thread_policy  # noqa: E402
from fastinit.cli.bench import blocked_medians  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))

from cases import (  # noqa: E402
    fill_cases, model_cases, propagation_cases, sweep_cases, torch,
)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--widths", default="128,500,2048,4096",
                        help="widths of the propagation cases (comma-separated)")
    parser.add_argument("--only", choices=("fills", "propagation", "sweeps", "models"),
                        default=None)
    parser.add_argument("--model-params", type=float, default=1e9,
                        help="float32 parameters of the init_module case (default 1e9: 4 GB)")
    args = parser.parse_args(argv)
    fastinit.show_config()
    print(f"  torch    {torch.__version__ if torch else 'absent (torch rows skipped)'}\n")
    print(f"{'case':<46}{'contender':<36}{'ms':>9}{'ratio':>9}")
    cases = fill_cases() if args.only in (None, "fills") else []
    widths = tuple(int(w) for w in args.widths.split(","))
    cases += propagation_cases(widths) if args.only in (None, "propagation") else []
    cases += sweep_cases() if args.only in (None, "sweeps") else []
    cases += model_cases(int(args.model_params)) if args.only in (None, "models") else []
    for name, contenders in cases:
        best = blocked_medians(contenders, rounds=args.rounds)
        ours = best["fastinit"]
        for label, seconds in best.items():
            ratio = "" if label == "fastinit" else f"{seconds / ours:8.2f}x"
            print(f"{name:<46}{label:<36}{seconds * 1e3:9.1f}{ratio:>9}")
        print()
    if args.only in (None, "propagation"):
        # each in a fresh interpreter: NumPy imported first (its OpenBLAS threads then spin
        # 0.1 s after each call, beside the engine), or fastinit first, as it asks
        for dtype in ("float64", "float32"):
            for first in ("numpy", "fastinit"):
                alone, after = after_numpy_in_fresh_process(dtype, first)
                print(f"{'engine right after NumPy, ' + dtype + ' 500':<46}"
                      f"{'alone / after, ' + first + ' imported first':<36}"
                      f"{alone * 1e3:9.1f}{after * 1e3:9.1f}  {after / alone:.2f}x")


def after_numpy_in_fresh_process(dtype, first):
    """cases.after_numpy in a new interpreter that imports ``first`` before the rest."""
    code = (f"import {first}, sys, json; sys.path.insert(0, sys.argv[1]); "
            "from cases import after_numpy; print(json.dumps(after_numpy(dtype=sys.argv[2])))")
    # as a user's fresh interpreter: without the variables fastinit set in this one
    env = {k: v for k, v in os.environ.items() if k not in _thread_policy.set_here()}
    out = subprocess.run([sys.executable, "-c", code, os.path.dirname(os.path.abspath(__file__)),
                          dtype], capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout)


if __name__ == "__main__":
    main()

"""Print fastinit's speed against its baselines, measured side by side in one process.

    python benchmarks/compare.py [--repeats 7]

Each call is timed ``repeats`` times, rounds interleaved across the contenders so that machine
noise hits all of them alike; the best time of each is kept. Ratios read "baseline time /
fastinit time": above 1 means fastinit is faster.
"""
import argparse
import os
import sys
import time

# Idle OpenMP threads sleep instead of spinning, so that one library's pool, still spinning
# after its call, does not steal the cores from the next contender (both libgomp pools obey).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, os.path.dirname(__file__))

from cases import fill_cases, propagation_cases, sweep_cases, torch  # noqa: E402

import fastinit  # noqa: E402


def best_times(contenders, repeats):
    best = {label: float("inf") for label in contenders}
    for fn in contenders.values():  # warm-up: first touch of pages, thread pools
        fn()
    for _ in range(repeats):
        for label, fn in contenders.items():
            start = time.perf_counter()
            fn()
            best[label] = min(best[label], time.perf_counter() - start)
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--only", choices=("fills", "propagation", "sweeps"), default=None)
    args = parser.parse_args(argv)
    fastinit.show_config()
    print(f"  torch    {torch.__version__ if torch else 'absent (torch rows skipped)'}\n")
    print(f"{'case':<32}{'contender':<32}{'ms':>9}{'ratio':>9}")
    cases = fill_cases() if args.only in (None, "fills") else []
    cases += propagation_cases() if args.only in (None, "propagation") else []
    cases += sweep_cases() if args.only in (None, "sweeps") else []
    for name, contenders in cases:
        best = best_times(contenders, args.repeats)
        ours = best["fastinit"]
        for label, seconds in best.items():
            ratio = "" if label == "fastinit" else f"{seconds / ours:8.2f}x"
            print(f"{name:<32}{label:<32}{seconds * 1e3:9.1f}{ratio:>9}")
        print()


if __name__ == "__main__":
    main()

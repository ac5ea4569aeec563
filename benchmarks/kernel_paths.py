"""What each kernel path reaches: one thread, values in cache (compute only), ns per value.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/kernel_paths.py

Every fill is 2**16 values (256 KB of float32: in L2), one thread, called 100 times at
successive stream offsets; each path is timed in a block of such calls, --rounds times over,
and its median kept. The paths give the same bits (tests/test_simd.py); this is their speed.
"""
import argparse
import time

import numpy as np

from fastinit._kernels import fill as _fill
from fastinit.laws import Normal, Uniform

PATHS = {2: "AVX-512", 1: "AVX2", 0: "portable C"}
N = 2**16
CALLS = 100


def per_value(fill, rounds):
    """Median over ``rounds`` blocks of the ns per value of ``fill(offset)``."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for call in range(CALLS):
            fill(call * N)
        times.append((time.perf_counter() - start) / (CALLS * N) * 1e9)
    return float(np.median(times))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    key = np.array([0x12345678, 0x9ABCDEF0], np.uint32)
    words = np.empty(N, np.uint32)
    columns = {"Philox words": lambda offset: _fill.raw_words(words, key, offset)}
    for law, name in ((Uniform(-0.3, 0.7), "uniform"), (Normal(0.0, 0.5), "normal")):
        for dtype in (np.float32, np.float64):
            out = np.empty(N, dtype)
            params = np.array(law.params(dtype), np.float64)
            kind = _fill.KINDS[law.kind]
            columns[f"{name} {np.dtype(dtype).name}"] = (
                lambda offset, out=out, params=params, kind=kind:
                _fill.fill(out, key, offset, kind, params, 1))
    print("| path | " + " | ".join(columns) + " |")
    print("| --- |" + " --- |" * len(columns))
    for level, path in PATHS.items():
        previous = _fill.simd_level(level)
        try:
            cells = [f"{per_value(fill, args.rounds):.2f}" for fill in columns.values()]
        finally:
            _fill.simd_level(previous)
        print(f"| {path} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

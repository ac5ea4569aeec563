"""A big sweep end to end through the CLI: 10^5 small networks (5 inits x 4 activations x
5 depths x 5 widths x 200 seeds) to a Parquet folder, timed as a user runs it.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/big_sweep.py [--seeds 200]

Prints the wall time, networks per second, the result's size on disk and its row count (read
back with pandas). The folder is written to a temporary directory and removed afterwards.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

INITS = "lecun_normal,xavier_uniform,he_normal,orthogonal,normal:std=0.05"
ACTIVATIONS = "tanh,sigmoid,relu,selu"
DEPTHS = "2,4,8,12,16"
WIDTHS = "16,32,48,64,96"
BATCH = 64


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--threads", default=None, help="--threads of the sweep (default: all)")
    args = parser.parse_args(argv)
    networks = 5 * 4 * 5 * 5 * args.seeds
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "big.parquet")
        command = [sys.executable, "-m", "fastinit", "sweep", "--init", INITS, "--activation",
                   ACTIVATIONS, "--depth", DEPTHS, "--width", WIDTHS, "--batch", str(BATCH),
                   "--dtype", "float32", "--seeds", str(args.seeds), "--out", out, "--quiet"]
        if args.threads:
            command += ["--threads", args.threads]
        start = time.perf_counter()
        subprocess.run(command, check=True)
        seconds = time.perf_counter() - start
        parts = os.listdir(out)
        size = sum(os.path.getsize(os.path.join(out, name)) for name in parts)
        import pandas as pd
        rows = len(pd.read_parquet(out))
    print(f"{networks} networks (widths {WIDTHS}, depths {DEPTHS}, batch {BATCH}, float32; "
          f"{INITS}; {ACTIVATIONS})")
    print(f"  {seconds:.1f} s end to end: {networks / seconds:.0f} networks/s")
    print(f"  {rows} rows, {size / 2**20:.1f} MiB in {len(parts)} Parquet parts")


if __name__ == "__main__":
    main()

"""Trainability against depth (Schoenholz, Gilmer, Ganguli & Sohl-Dickstein, ICLR 2017, Fig. 5):
tanh networks over a grid of (sigma_w^2, depth), each trained for the same number of SGD steps
on the digits (fastinit.train), beside the mean-field depth scale xi_c: a network trains only
when its depth is below about 6 xi_c.

Cells run on every core (one network per thread: the kernels release the GIL), or on an
executor (a process pool, a Dask client), the longest first; each finished cell is one flushed
line of a CSV file, so an interrupted run resumes where it stopped (``resume=True``). A cell
is the same bits wherever it runs."""
from __future__ import annotations

import concurrent.futures
import csv
import math
import os
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from fastinit import theory
from fastinit._kernels import openmp as _openmp
from fastinit._kernels.threads import blas_single_threaded
from fastinit._validation import integer, real
from fastinit.initializers import get_initializer
from fastinit.learning import TRAINED
from fastinit.sweep.runner import futures_executor

COLUMNS = ("sigma_w2", "sigma_b2", "depth", "width", "steps", "lr", "batch_size", "seed",
           "accuracy", "loss", "xi_c")
SETTINGS = ("sigma_b2", "width", "steps", "lr", "batch_size", "seed")
DEPTHS = (4, 8, 12, 16, 24, 32, 48, 64, 80, 100)


@dataclass
class Trainability:
    """The grid's results: one row per (sigma_w2, depth) with its held-out accuracy after the
    steps, its last training loss and xi_c."""
    rows: list

    @property
    def sigma_w2(self) -> list:
        return sorted({r["sigma_w2"] for r in self.rows})

    @property
    def depths(self) -> list:
        return sorted({r["depth"] for r in self.rows})

    def accuracy(self) -> np.ndarray:
        """Held-out accuracy, (depths, sigma_w2) (NaN where a cell is missing)."""
        grid = np.full((len(self.depths), len(self.sigma_w2)), np.nan)
        for r in self.rows:
            grid[self.depths.index(r["depth"]), self.sigma_w2.index(r["sigma_w2"])] = \
                r["accuracy"]
        return grid

    def fractions(self, threshold: float = TRAINED) -> dict:
        """How many cells below the 6 xi_c curve (depth < 6 xi_c) and above it trained
        (held-out accuracy at least ``threshold``)."""
        below = [r["accuracy"] >= threshold for r in self.rows if r["depth"] < 6 * r["xi_c"]]
        above = [r["accuracy"] >= threshold for r in self.rows if r["depth"] >= 6 * r["xi_c"]]
        return {"below": (sum(below), len(below)), "above": (sum(above), len(above))}

    def plot(self, path: Any = None) -> Any:
        from fastinit.plot import trainability_figure
        return trainability_figure(self, path)


def sigma_w2_grid(lo: float = 1.0, hi: float = 4.0, count: int = 20) -> list:
    return [float(v) for v in np.linspace(lo, hi, count)]


def _read(path):
    if not path or not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        rows = []
        for row in csv.DictReader(f):
            try:
                rows.append({k: (int(row[k]) if k in ("depth", "width", "steps", "batch_size",
                                                      "seed") else float(row[k]))
                             for k in COLUMNS})
            except (KeyError, TypeError, ValueError):  # a torn last line: run it again
                continue
        return rows


def trainability(sigma_w2: Sequence[float] | None = None,
                 depths: Sequence[int] = DEPTHS, *,
                 width: int = 100, sigma_b2: float = 0.05, steps: int = 400, lr: float = 0.005,
                 batch_size: int = 128, seed: int = 0, out: str | None = None,
                 resume: bool = False, num_threads: int | None = None,
                 executor: Any = None,
                 progress: Callable[[int, int], None] | None = None) -> Trainability:
    """Train a tanh network of ``width`` units for every (sigma_w2, depth) of the grid:
    weights N(0, sigma_w2 / fan_in), biases N(0, sigma_b2), ``steps`` SGD steps (momentum
    0.9) on the digits, float32, the same seed everywhere; record the held-out accuracy beside
    xi_c (fastinit.theory.depth_scale_correlation). ``out``: a CSV file written a cell at a
    time; ``resume``: keep its cells (run with the same settings) and run the rest.
    ``executor``: a concurrent.futures.Executor or a dask.distributed Client to run the cells
    on (default: ``num_threads`` threads here)."""
    sigma_w2 = sigma_w2_grid() if sigma_w2 is None else [real(v, "sigma_w2") for v in sigma_w2]
    depths = [integer(d, "depths") for d in depths]
    if not sigma_w2 or not depths or min(sigma_w2) <= 0 or min(depths) < 1:
        raise ValueError("sigma_w2 must be positive numbers and depths positive integers")
    settings = {"sigma_b2": real(sigma_b2, "sigma_b2"), "width": integer(width, "width"),
                "steps": integer(steps, "steps"), "lr": real(lr, "lr"),
                "batch_size": integer(batch_size, "batch_size"), "seed": integer(seed, "seed")}
    if settings["sigma_b2"] < 0 or settings["width"] < 1 or settings["steps"] < 1:
        raise ValueError("sigma_b2 must be >= 0, width and steps >= 1")
    pool = None if executor is None else futures_executor(executor)
    kept = _read(out) if resume else []
    for row in kept:
        if any(row[k] != settings[k] for k in SETTINGS):
            raise ValueError(f"{out} was written with other settings ("
                             + ", ".join(f"{k}={row[k]}" for k in SETTINGS)
                             + "): resume needs the same ones")
    if out and not resume and os.path.exists(out):
        os.remove(out)
    done = {(r["sigma_w2"], r["depth"]) for r in kept}
    xi = {w2: float(theory.depth_scale_correlation(w2, settings["sigma_b2"], "tanh"))
          for w2 in sigma_w2}
    todo = sorted(((w2, d) for w2 in sigma_w2 for d in depths if (w2, d) not in done),
                  key=lambda cell: -cell[1])  # the deepest first: the pool ends together
    rows = [r for r in kept if r["sigma_w2"] in xi and r["depth"] in depths]
    threads = _openmp.effective_num_threads(num_threads)
    handle = open(out, "a", newline="") if out else None
    try:
        writer = csv.DictWriter(handle, COLUMNS) if handle else None
        if writer is not None and handle is not None and handle.tell() == 0:
            writer.writeheader()
        total = len(todo)
        if pool is None:
            # BLAS on one thread, set here in the calling thread for the pool's threads
            with blas_single_threaded(), \
                    concurrent.futures.ThreadPoolExecutor(threads) as local:
                _collect(local, todo, xi, settings, rows, writer, handle, progress, total)
        else:
            _collect(pool, todo, xi, settings, rows, writer, handle, progress, total)
    finally:
        if handle is not None:
            handle.close()
    return Trainability(sorted(rows, key=lambda r: (r["sigma_w2"], r["depth"])))


def _collect(pool, todo, xi, settings, rows, writer, handle, progress, total):
    """Run the cells on ``pool``, writing each row as it arrives."""
    futures = [pool.submit(_cell, w2, d, xi[w2], settings) for w2, d in todo]
    try:
        for count, future in enumerate(concurrent.futures.as_completed(futures), 1):
            row = future.result()
            rows.append(row)
            if writer is not None and handle is not None:
                writer.writerow(row)
                handle.flush()
            if progress is not None:
                progress(count, total)
    except BaseException:  # Ctrl-C, or a cell's error: the cells not started never start
        for future in futures:
            future.cancel()
        raise


def _cell(w2, depth, xi_c, settings):
    from fastinit.training import train
    init = get_initializer("variance_scaling", scale=w2, distribution="untruncated_normal")
    bias = get_initializer("normal", std=math.sqrt(settings["sigma_b2"])) \
        if settings["sigma_b2"] > 0 else 0.0
    run = train([settings["width"]] * depth, init, bias=bias, steps=settings["steps"],
                lr=settings["lr"], batch_size=settings["batch_size"], rng=settings["seed"],
                dtype="float32", eval_every=settings["steps"], num_threads=1)
    loss = float(np.mean(run.loss[-20:]))
    return {"sigma_w2": w2, **settings, "depth": depth, "accuracy": run.final_test_accuracy,
            "loss": loss if math.isfinite(loss) else math.inf, "xi_c": xi_c}

"""Sweeps: many networks over a grid of configurations, one record per (configuration, layer).

A configuration is a ``Config`` (fastinit.sweep.grid): initializer spec, activation, depth, width,
batch, dtype, bias and seed. Its records depend on nothing else (the seed fixes every draw, the
kernels give the same numbers on any thread count), so a sweep gives the same records run in
this process, on a process pool or on a Dask cluster, in any order.

Results can stream to a CSV or JSON-lines file as each configuration finishes
(fastinit.sweep.result_files); ``resume=True`` reads the file back and runs only what is missing.
"""
from __future__ import annotations

import collections
import concurrent.futures
import math
import os
import sys
import time
from dataclasses import asdict, replace
from typing import Any, Sequence

from fastinit import text_specs as specs
from fastinit._docs import documented
from fastinit._kernels import openmp as _openmp
from fastinit.results import html_table
from fastinit.sources import STREAM_VERSION
from fastinit.sweep.grid import PARAMETER_DOCS as GRID_DOCS, SEEDS, Config, grid
from fastinit.sweep.result_files import (
    STAT_COLUMNS, check_out_path, open_result, write_records,
)

# configurations this small run one per thread (engine on one thread each); larger ones run one
# at a time on all threads. The cut: a layer's GEMM under ~0.5 GFLOP
SMALL_LAYER_FLOPS = 5e8
HTML_ROWS = 50  # rows a notebook's table of a SweepResult shows


def _arguments(config, num_threads, histograms, bins, backward) -> dict[str, Any]:
    """forward_prop's arguments for ``config``."""
    bias = config.bias if isinstance(config.bias, float) else specs.initializer(config.bias)
    return dict(hidden_layer_sizes=[config.width] * config.depth,
                weight_init=specs.initializer(config.init), activation=config.activation,
                batch=config.batch, dtype=config.dtype, bias=bias, rng=config.seed,
                keep_activations=False, bins=bins if histograms else 0,
                num_threads=num_threads, backward=backward)


_FAILURES = (ValueError, TypeError, MemoryError, ArithmeticError)


def _failure(config, error):
    return [{**asdict(config), "layer": None, **dict.fromkeys(STAT_COLUMNS, math.nan),
             "error": f"{type(error).__name__}: {error}", "stream": STREAM_VERSION}]


SWEEP_PARAMETER_DOCS = {
    **GRID_DOCS,
    "configs": """list of Config, optional
        The configurations to run, instead of the grid of ``init``, ``activation``, ...""",
    "executor": """concurrent.futures.Executor or dask.distributed.Client, optional
        Where configurations go, in chunks of ``chunk_size``, each running its engine on one
        thread (``num_threads`` to change it). Without one, small networks run one per thread
        here and large ones one at a time on all threads.""",
    "num_threads": """int, optional
        Threads (default: OpenMP's, i.e. OMP_NUM_THREADS or all cores; one per task on an
        executor).""",
    "out": """str or path, optional
        A .csv or .jsonl file written as each configuration finishes, or a .parquet folder of
        parts for big sweeps (needs pyarrow).""",
    "resume": """bool, default False
        Keep ``out``'s complete configurations and run only the rest (failed ones again);
        without it the file is overwritten.""",
    "chunk_size": "int, optional\n        Configurations per task on an executor (default: about a second of work).",
    "histograms": "bool, default False\n        Add per-layer ``hist`` and ``bin_edges`` to the records.",
    "bins": "int, default 30\n        Histogram bins.",
    "backward": "bool, default False\n        Also run the backward pass (``grad_std`` and more per layer).",
    "progress": """bool or "lines", optional
        A progress bar on stderr (default: when stderr is a terminal); "lines": a line every
        PROGRESS_SECONDS instead, for logs and pipes.""",
    "config": "Config\n        One network's settings.",
}


@documented(SWEEP_PARAMETER_DOCS, """Returns
-------
list of dict
    One record per layer; a failure (bad parameters, out of memory) is one record with
    ``error`` set and the statistics NaN.""")
def run_config(config: Config, *, num_threads: int | None = 1, histograms: bool = False,
               bins: int = 30, backward: bool = False) -> list[dict[str, Any]]:
    """The records of one configuration."""
    from fastinit.propagation import forward_prop
    try:
        result = forward_prop(**_arguments(config, num_threads, histograms, bins, backward))
    except _FAILURES as error:
        return _failure(config, error)
    return config_records(config, result.layers, histograms)


def config_records(config, layers, histograms):
    base = asdict(config)
    records = []
    for layer in layers:
        record = layer.record()
        hist, edges = record.pop("hist"), record.pop("bin_edges")
        row = {**base, "layer": layer.layer, **{k: record[k] for k in STAT_COLUMNS},
               "error": None, "stream": STREAM_VERSION}
        if histograms:
            row["hist"], row["bin_edges"] = hist, edges
        records.append(row)
    return records


def run_chunk(configs, options):
    """Run a list of configurations (one task on a worker): [(config, records), ...], each
    configuration's records those of run_config. Configurations that differ only in their
    seed and run in one fused call (law-based weights, constant bias, histogram ranges known
    up front) run together: every network of the group in one nogil call
    (_propagate.forward_networks), one per thread."""
    return chunk_records(configs, chunk_kernels(configs, options), options)


def chunk_kernels(configs, options):
    """run_chunk's compiled half: each group's kernel totals and histograms, [(members,
    network, totals, hists)] (network None: the members' records are done, in totals)."""
    groups = {}
    for config in configs:
        groups.setdefault(replace(config, seed=0), []).append(config)
    computed = []
    for members in groups.values():
        network = _seed_group_network(members[0], options) if len(members) > 1 else None
        if network is None:
            computed.append((members, None, [run_config(c, **options) for c in members], None))
            continue
        try:
            totals, hists = network.run_seeds_totals([c.seed for c in members],
                                                     options.get("num_threads", 1))
        except _FAILURES as error:
            computed.append((members, None, [_failure(c, error) for c in members], None))
            continue
        computed.append((members, network, totals, hists))
    return computed


def chunk_records(configs, computed, options):
    """run_chunk's Python half: the records of chunk_kernels' results, in the order of
    ``configs``."""
    histograms = options.get("histograms", False)
    done = {}
    for members, network, totals, hists in computed:
        if network is None:
            done.update(zip(members, totals))
        else:
            done.update(zip(members, network.seed_records(
                members, totals, hists, lambda c, layers: config_records(c, layers,
                                                                         histograms))))
    return [(config, done[config]) for config in configs]


def _weights_from_python(config):
    """Whether ``config``'s weights or bias are drawn in Python rather than by the kernels."""
    if not isinstance(config.bias, float):
        return True
    try:
        return specs.initializer(config.init).law((config.width, config.width)) is None
    except _FAILURES:  # it fails when it runs, and says why there
        return False


def _fusable_seed(seed):
    """Whether the one-call path takes this seed (an int below 2**64)."""
    return type(seed) is int and 0 <= seed < 2**64


def _seed_group_network(config, options):
    """The laid-out network (propagation._FusedNetwork) that runs ``config`` for any seed in one
    fused call, or None when it does not (then each network runs on its own)."""
    from fastinit.propagation import fused_network
    if options.get("backward") or not _fusable_seed(config.seed):
        return None
    try:
        arguments = _arguments(config, options.get("num_threads", 1),
                               options.get("histograms", False), options.get("bins", 30), False)
    except _FAILURES:
        return None
    return fused_network(**arguments)


class SweepResult:
    """The records of a sweep (one dict per (configuration, layer); failures one record each
    with ``error`` set), and where they were written."""

    def __init__(self, records, path=None, resumed=0):
        self.records = records
        self.path = path
        self.resumed = resumed  # configurations read back from the file rather than run

    def __len__(self):
        return len(self.records)

    @property
    def failed(self):
        """The failed configurations' records."""
        return [r for r in self.records if r.get("error")]

    @property
    def configs(self):
        """The configurations, in record order, each once."""
        return list(dict.fromkeys(Config.from_record(r) for r in self.records))

    def summary(self):
        configs, failed = len(self.configs), len(self.failed)
        text = f"{configs} configurations, {len(self.records) - failed} layer records"
        text += f", {failed} failed" if failed else ", none failed"
        if self.resumed:
            text += f" ({self.resumed} read back from {self.path})"
        return text

    def _repr_html_(self):
        """A notebook shows the summary and the last layer of each configuration as a table
        (at most ``HTML_ROWS`` rows; ``to_pandas()`` has them all)."""
        from html import escape
        last = [r for r in self.records if r.get("error") or r.get("layer") == r.get("depth")]
        columns = [c for c in ("init", "activation", "depth", "width", "batch", "dtype", "bias",
                               "seed", "layer", "mean", "std", "predicted_std", "error")
                   if any(c in r for r in last)]
        more = f" (first {HTML_ROWS} of {len(last)})" if len(last) > HTML_ROWS else ""
        return (f"<p>SweepResult: {escape(self.summary())}</p>"
                + html_table(last[:HTML_ROWS], columns,
                             caption=f"each configuration's last layer{more}"))

    def plot(self, stat="std", path=None):
        """The per-layer figure of the sweep (fastinit.plot.sweep_overlay): small multiples per
        initialization and activation, seeds as a band. Returns the matplotlib Figure."""
        from fastinit.plot import sweep_overlay
        return sweep_overlay(self.records, path, stat=stat)

    def to_pandas(self):
        try:
            import pandas
        except ImportError:
            raise ImportError("to_pandas needs pandas: pip install pandas") from None
        return pandas.DataFrame.from_records(self.records)

    def to_csv(self, path):
        """Every record to a CSV file (the sweep's own format)."""
        write_records(path, self.records, ".csv")

    def to_jsonl(self, path):
        """Every record to a JSON-lines file."""
        write_records(path, self.records, ".jsonl")


PROGRESS_SECONDS = 10.0  # progress="lines": a line at most this often


class _ProgressLines:
    """Progress for a log or a pipe (no terminal to redraw a bar on): a line on stderr every
    PROGRESS_SECONDS, "sweep: 120/400 networks, 31 s, about 72 s left"; nothing for a sweep
    shorter than that."""

    def __init__(self, total):
        self.total, self.done = total, 0
        self.start = self.last = time.monotonic()

    def update(self, count):
        if not count:
            return
        self.done += count
        now = time.monotonic()
        if now - self.last >= PROGRESS_SECONDS and self.done < self.total:
            self.last = now
            spent = now - self.start
            left = spent / self.done * (self.total - self.done) if self.done else math.nan
            about = f", about {left:.0f} s left" if math.isfinite(left) else ""
            print(f"sweep: {self.done}/{self.total} networks, {spent:.0f} s{about}",
                  file=sys.stderr, flush=True)

    def close(self):
        pass


def _progress_bar(total, progress):
    if progress is None:
        progress = sys.stderr.isatty()
    if progress == "lines":
        return _ProgressLines(total)
    if not progress:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="net", desc="sweep", file=sys.stderr)


def _chunks(configs, size):
    return [configs[i:i + size] for i in range(0, len(configs), size)]


def guided_chunks(configs, size, workers):
    """Chunks of at most ``size`` that shrink as the work runs out (each at most a
    2 * workers-th of what is left), down to single networks: the last chunks end together,
    so no worker idles through a whole chunk of another's at the end (with even chunks of a
    second each, 2 Dask workers scaled 1.65-1.80x on 2 cores instead of ~1.9x)."""
    chunks, start = [], 0
    while start < len(configs):
        step = min(size, max(1, math.ceil((len(configs) - start) / (2 * workers))))
        chunks.append(configs[start:start + step])
        start += step
    return chunks


def _executor_workers(executor):
    if hasattr(executor, "scheduler_info"):  # a dask Client
        return max(1, len(executor.scheduler_info().get("workers", {})))
    return getattr(executor, "_max_workers", None) or os.cpu_count() or 1


@documented(SWEEP_PARAMETER_DOCS, """Returns
-------
SweepResult
    One record per (configuration, layer), in grid order; ``.to_pandas()``, ``.to_csv()``,
    ``.plot()``.""")
def sweep(configs: Sequence[Config] | None = None, *, init: Any = None,
          activation: Any = Config.activation, depth: Any = Config.depth,
          width: Any = Config.width, batch: Any = Config.batch, dtype: Any = Config.dtype,
          bias: Any = Config.bias, seeds: Any = SEEDS, executor: Any = None,
          num_threads: int | None = None, out: str | os.PathLike[str] | None = None,
          resume: bool = False, chunk_size: int | None = None, histograms: bool = False,
          bins: int = 30, backward: bool = False,
          progress: bool | str | None = None) -> SweepResult:
    """Run every configuration of a grid (see ``grid``; or give ``configs``), each network's
    records the same bits wherever it runs: here, on a process pool or on a Dask cluster."""
    configs = _configs(configs, dict(init=init, activation=activation, depth=depth,
                                     width=width, batch=batch, dtype=dtype, bias=bias,
                                     seeds=seeds))
    if resume and out is None:
        raise ValueError("resume needs out, the file to resume")
    if chunk_size is not None:
        chunk_size = specs.count(chunk_size, "chunk_size")
    if executor is not None:
        futures_executor(executor)  # a TypeError before any work
    threads = _openmp.effective_num_threads(num_threads)
    options = {"histograms": bool(histograms), "bins": specs.count(bins, "bins", minimum=0),
               "backward": bool(backward)}

    if out is not None:
        check_out_path(out)
    sink = open_result(out, resume, bool(histograms), configs, options) if out is not None \
        else None
    done = dict(sink.done) if sink else {}
    todo = [c for c in configs if c not in done]
    results = {}
    bar = _progress_bar(len(configs), progress)
    if bar is not None:
        bar.update(len(configs) - len(todo))

    def finished(pairs):
        for config, records in pairs:
            results[config] = records
            if sink is not None:
                sink.write(records)
            if bar is not None:
                bar.update(1)

    try:
        if executor is not None:
            options["num_threads"] = 1 if num_threads is None else threads
            _run_on_executor(executor, todo, options, chunk_size, finished)
        else:
            _run_locally(todo, options, threads, finished)
    finally:
        if sink is not None:
            sink.close()
        if bar is not None:
            bar.close()
    records = []
    for config in configs:
        records.extend(done[config] if config in done else results[config])
    return SweepResult(records, path=out, resumed=sum(c in done for c in configs))


def _configs(configs, grid_values):
    """The configurations to run, each once: ``configs`` checked, or the grid of the values."""
    if configs is None:
        if grid_values["init"] is None:
            raise ValueError("give configs, or init (and the other grid values)")
        configs = grid(**grid_values)
    configs = list(configs)
    for config in configs:
        if not isinstance(config, Config):
            raise TypeError(f"configs must hold Config objects, got {type(config).__name__}")
    return list(dict.fromkeys(configs))


# A worker's chunk of networks should take about this long, so that progress moves every second
# or so whatever the network size; a network is estimated at CHUNK_FLOPS_PER_SECOND.
CHUNK_SECONDS = 1.0
# one core's GEMMs, cautiously (forward pass: 2 flops per MAC): about half what one core of
# the 2-core test machines does in float64 (38 GFLOP/s with AVX-512); at 4e9, chunks of the
# 10 x 500 networks held one network, 0.13 s of work, and two Dask workers on 2 cores lost an
# eighth of their time to the scheduler's per-task work (1.75x one worker; 1.82x at 2e10)
CHUNK_FLOPS_PER_SECOND = 2e10


def chunk_size_for(todo, workers, limit=64):
    """Networks per chunk: about CHUNK_SECONDS of work each, at least four chunks per worker,
    at most ``limit`` networks."""
    seconds = sum(c.layer_flops * c.depth for c in todo) / max(len(todo), 1) \
        / CHUNK_FLOPS_PER_SECOND
    by_time = math.floor(CHUNK_SECONDS / seconds) if seconds > 0 else limit
    return max(1, min(limit, by_time, math.ceil(len(todo) / (4 * workers))))


def futures_executor(executor):
    """The concurrent.futures.Executor that runs tasks on ``executor``: itself, or a dask
    Client's; anything else is a TypeError."""
    get_executor = getattr(executor, "get_executor", None)  # a dask Client
    if get_executor is not None:
        return get_executor()
    if isinstance(executor, concurrent.futures.Executor):
        return executor
    raise TypeError("executor must be a concurrent.futures.Executor or a dask Client, got "
                    f"{type(executor).__name__}")


def _run_on_executor(executor, todo, options, chunk_size, finished):
    workers = _executor_workers(executor)  # the Client's workers, before its executor
    executor = futures_executor(executor)
    chunks = _chunks(todo, chunk_size) if chunk_size else \
        guided_chunks(todo, chunk_size_for(todo, workers), workers)
    futures = {executor.submit(run_chunk, chunk, options) for chunk in chunks}
    try:
        for future in concurrent.futures.as_completed(futures):
            futures.discard(future)  # its result leaves the worker's memory once taken
            finished(future.result())
    except BaseException:  # Ctrl-C, or a chunk's error: the chunks not started never start
        for future in futures:
            future.cancel()
        raise


def _pipelined(chunks, options, finished):
    """Each chunk's kernels here, and its records and ``finished`` on a helper thread while
    the next chunk's kernels run (they release the GIL): Python's share of a chunk (about a
    tenth of it for small networks) no longer waits between the kernels. The kernels stay in
    this thread, whose team answers Ctrl-C; the helper finishes at most one chunk's records."""
    with concurrent.futures.ThreadPoolExecutor(1, "fastinit-records") as helper:
        pending = None
        try:
            for chunk in chunks:
                computed = chunk_kernels(chunk, options)
                if pending is not None:
                    pending.result()
                pending = helper.submit(
                    lambda c=chunk, k=computed: finished(chunk_records(c, k, options)))
            if pending is not None:
                pending.result()
        finally:  # Ctrl-C or an error: the records being built are let finish, not waited on
            if pending is not None:
                pending.cancel()


def _run_locally(todo, options, threads, finished):
    from fastinit._kernels.threads import blas_single_threaded
    small = [c for c in todo if c.layer_flops <= SMALL_LAYER_FLOPS]
    large = [c for c in todo if c.layer_flops > SMALL_LAYER_FLOPS]
    # small networks that differ only by seed: whole chunks in one call, one network per thread
    # (a group of one runs on its own: no layout to build for it, which at depth 10**6 costs
    # as much as the run; the layout is built with the threads it runs on, so it is reused)
    sizes = collections.Counter(replace(c, seed=0) for c in small)
    fusable = {}  # per group (a configuration with seed 0): whether it runs in one call
    for config in small:
        key = replace(config, seed=0)
        if key not in fusable:
            fusable[key] = sizes[key] > 1 and _seed_group_network(
                config, {**options, "num_threads": threads}) is not None
    grouped = [c for c in small if fusable[replace(c, seed=0)] and _fusable_seed(c.seed)]
    small = [c for c in small if not (fusable[replace(c, seed=0)] and _fusable_seed(c.seed))]
    size = max(threads, chunk_size_for(grouped, 1, limit=4096) * threads) if grouped else 1
    with blas_single_threaded():  # once for all threads: BLAS runs inside our own threads
        _pipelined(_chunks(grouped, size), {**options, "num_threads": threads}, finished)
        # the rest one network per thread, except those whose weights come from Python (QR
        # for orthogonal, a bias initializer): their time is mostly Python's, which threads
        # only fight over (the GIL), so they run one after another, each on one thread
        in_python = [c for c in small if _weights_from_python(c)]
        small = [c for c in small if not _weights_from_python(c)]
        for config in in_python:
            finished(run_chunk([config], {**options, "num_threads": 1}))
        if threads > 1 and len(small) > 1:
            with concurrent.futures.ThreadPoolExecutor(threads) as pool:
                futures = [pool.submit(run_chunk, [c], {**options, "num_threads": 1})
                           for c in small]
                for future in concurrent.futures.as_completed(futures):
                    finished(future.result())
        else:
            large = small + large
        for config in large:
            finished(run_chunk([config], {**options, "num_threads": threads}))

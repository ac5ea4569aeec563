"""Sweeps: many networks over a grid of configurations, one record per (configuration, layer).

A configuration is a ``Config``: initializer spec, activation, depth, width, batch, dtype, bias
and seed. Its records depend on nothing else (the seed fixes every draw, the kernels give the
same numbers on any thread count), so a sweep gives the same records run in this process, on a
process pool or on a Dask cluster, in any order.

Results can stream to a CSV or JSON-lines file as each configuration finishes: its rows go out in
one flushed write. ``resume=True`` reads the file back, drops a torn last line and every
configuration whose rows are incomplete or failed, and runs only what is missing.
"""
import concurrent.futures
import csv
import io
import itertools
import json
import math
import os
import sys
from dataclasses import asdict, dataclass, fields

from fastinit import _openmp, specs

# the file's columns: the configuration, the layer, then its statistics
CONFIG_COLUMNS = ("init", "activation", "depth", "width", "batch", "dtype", "seed", "bias")
STAT_COLUMNS = ("mean", "std", "min", "max", "saturated", "dead", "preact_std",
                "predicted_mean", "predicted_std", "grad_std", "weight_grad_norm",
                "weight_grad_std", "predicted_grad_std")
COLUMNS = (*CONFIG_COLUMNS[:-1], "layer", *STAT_COLUMNS[:6], "bias", *STAT_COLUMNS[6:], "error")
# configurations this small run one per thread (engine on one thread each); larger ones run one
# at a time on all threads. The cut: a layer's GEMM under ~0.5 GFLOP
SMALL_LAYER_FLOPS = 5e8
# a test hook: a worker whose environment names this file creates it and dies, once per file
FAULT_ENV = "FASTINIT_SWEEP_KILL_ONCE"


@dataclass(frozen=True)
class Config:
    """One network of a sweep. ``init`` and ``bias`` are specs ("normal:std=0.01"; see
    fastinit.specs); ``bias`` may also be a constant."""
    init: str
    activation: str = "tanh"
    depth: int = 10
    width: int = 500
    batch: int = 1000
    dtype: str = "float64"
    seed: int = 0
    bias: object = 0.0

    @classmethod
    def from_record(cls, record):
        """The Config of a record read back from a file (CSV gives strings)."""
        values = {f.name: record[f.name] for f in fields(cls)}
        for name in ("depth", "width", "batch", "seed"):
            values[name] = int(values[name])
        values["bias"] = _bias_value(values["bias"])
        return cls(**values)

    @property
    def layer_flops(self):
        return 2.0 * self.batch * self.width * self.width


def _bias_value(bias):
    try:
        return float(bias)
    except (TypeError, ValueError):
        return str(bias)


def _as_list(value, name):
    if isinstance(value, (str, bytes, int, float)) or value is None:
        return [value]
    values = list(value)
    if not values:
        raise ValueError(f"{name} is empty: give at least one value")
    return values


def grid(init, *, activation="tanh", depth=10, width=500, batch=1000, dtype="float64",
         bias=0.0, seeds=1):
    """Every combination of the given values, as a list of Config in a fixed order (init
    slowest, seed fastest). Each argument is one value or a list; ``init`` and ``bias`` entries
    are specs, which may list alternatives ("normal:std=0.01|0.1|1" is three); ``seeds`` is a
    count N (seeds 0..N-1) or a list of seeds."""
    inits = [one for spec in _as_list(init, "init") for one in specs.expand(spec, "init")]
    biases = []
    for value in _as_list(bias, "bias"):
        if isinstance(value, str) and isinstance(_bias_value(value), str):
            biases.extend(specs.expand(value, "bias"))
        else:
            biases.append(specs.number(value, "bias"))
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ValueError(f"seeds must be a positive count or a list of seeds, got {seeds}")
        seeds = range(seeds)
    seeds = [specs.count(s, "seeds", minimum=0) for s in _as_list(seeds, "seeds")]
    activations = [specs.activation(a) for a in _as_list(activation, "activation")]
    depths = [specs.count(d, "depth") for d in _as_list(depth, "depth")]
    widths = [specs.count(w, "width") for w in _as_list(width, "width")]
    batches = [specs.count(b, "batch") for b in _as_list(batch, "batch")]
    dtypes = [specs.dtype_name(d) for d in _as_list(dtype, "dtype")]
    return [Config(i, a, d, w, b, t, s, bi) for i, a, d, w, b, t, bi, s in itertools.product(
        inits, activations, depths, widths, batches, dtypes, biases, seeds)]


def run_config(config, *, num_threads=1, histograms=False, bins=30, backward=False):
    """The records of one configuration: one dict per layer. A failure (bad parameters, out of
    memory) is one record with ``error`` set and the statistics NaN."""
    import fastinit
    base = asdict(config)
    try:
        bias = config.bias if isinstance(config.bias, float) else specs.initializer(config.bias)
        result = fastinit.forward_prop(
            [config.width] * config.depth, specs.initializer(config.init),
            activation=config.activation, batch=config.batch, dtype=config.dtype, bias=bias,
            rng=config.seed, keep_activations=False, bins=bins if histograms else 0,
            num_threads=num_threads, backward=backward)
    except (ValueError, TypeError, MemoryError, ArithmeticError) as error:
        return [{**base, "layer": None, **dict.fromkeys(STAT_COLUMNS, math.nan),
                 "error": f"{type(error).__name__}: {error}"}]
    records = []
    for layer in result.layers:
        record = layer.record()
        hist, edges = record.pop("hist"), record.pop("bin_edges")
        row = {**base, "layer": layer.layer, **{k: record[k] for k in STAT_COLUMNS},
               "error": None}
        if histograms:
            row["hist"], row["bin_edges"] = hist, edges
        records.append(row)
    return records


def run_chunk(configs, options):
    """Run a list of configurations (one task on a worker): [(config, records), ...]."""
    _maybe_die()
    return [(config, run_config(config, **options)) for config in configs]


def _maybe_die():
    path = os.environ.get(FAULT_ENV)
    if not path:
        return
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return
    os._exit(17)


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

    def to_pandas(self):
        try:
            import pandas
        except ImportError:
            raise ImportError("to_pandas needs pandas: pip install pandas") from None
        return pandas.DataFrame.from_records(self.records)

    def to_csv(self, path):
        with open(path, "w", newline="") as f:
            f.write(_csv_header(self._histograms()))
            f.write(_format(self.records, ".csv", self._histograms()))

    def to_jsonl(self, path):
        with open(path, "w") as f:
            f.write(_format(self.records, ".jsonl", self._histograms()))

    def _histograms(self):
        return any("hist" in r for r in self.records)


def _columns(histograms):
    return (*COLUMNS, "hist", "bin_edges") if histograms else COLUMNS


def _csv_header(histograms):
    return ",".join(_columns(histograms)) + "\n"


def _format(records, suffix, histograms):
    """Records as file lines: CSV (floats as repr, so they read back bit-identical; NaN as
    "nan"; lists as JSON) or JSON lines (NaN as null)."""
    if suffix == ".jsonl":
        return "".join(json.dumps({k: _json_value(r.get(k)) for k in _columns(histograms)}) +
                       "\n" for r in records)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for r in records:
        writer.writerow([_csv_value(r.get(k)) for k in _columns(histograms)])
    return buffer.getvalue()


def _json_value(value):
    return None if isinstance(value, float) and math.isnan(value) else value


def _csv_value(value):
    if value is None:
        return ""
    if isinstance(value, list):
        return json.dumps(value)
    return repr(value) if isinstance(value, float) else value


def _parse_csv_row(row):
    record = {}
    for key, text in row.items():
        if key in ("init", "activation", "dtype"):
            record[key] = text
        elif key == "bias":
            record[key] = _bias_value(text)
        elif key in ("depth", "width", "batch", "seed"):
            record[key] = int(text)
        elif key == "layer":
            record[key] = int(text) if text else None
        elif key == "error":
            record[key] = text or None
        elif key in ("hist", "bin_edges"):
            record[key] = json.loads(text)
        else:
            record[key] = float(text)
    return record


def _parse_jsonl(record):
    for key in STAT_COLUMNS:
        if record.get(key) is None:
            record[key] = math.nan
    record["bias"] = _bias_value(record["bias"])
    return record


def read_records(path):
    """The records of a sweep file; a torn last line (no newline, or not parseable) and any
    malformed row are left out."""
    suffix = _suffix(path)
    try:
        with open(path, newline="", encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError:
        raise ValueError(f"{os.fspath(path)} is not a fastinit sweep file (not text)") from None
    lines = text.split("\n")
    lines.pop()  # the text after the last newline: empty, or a torn line
    records = []
    if suffix == ".jsonl":
        for line in lines:
            try:
                records.append(_parse_jsonl(json.loads(line)))
            except (ValueError, KeyError, TypeError, AttributeError):
                continue
        if lines and not records:
            raise ValueError(f"{os.fspath(path)} is not a fastinit sweep file (no line is a "
                             "result record)")
        return records
    if not lines:
        return records
    header = lines[0].split(",")
    if tuple(header) not in (COLUMNS, _columns(True)):
        raise ValueError(f"{os.fspath(path)} is not a fastinit sweep file (unexpected header)")
    for row in csv.reader(lines[1:]):
        if len(row) != len(header):
            continue
        try:
            records.append(_parse_csv_row(dict(zip(header, row))))
        except (ValueError, TypeError):
            continue
    return records


def complete_configs(records):
    """{Config: its records} for the configurations whose every layer is there exactly once and
    none failed."""
    grouped = {}
    for record in records:
        try:
            config = Config.from_record(record)
        except (KeyError, ValueError, TypeError):
            continue
        grouped.setdefault(config, []).append(record)
    complete = {}
    for config, rows in grouped.items():
        layers = sorted(r["layer"] for r in rows if r.get("layer") is not None)
        if not any(r.get("error") for r in rows) and layers == list(range(config.depth)):
            complete[config] = sorted(rows, key=lambda r: r["layer"])
    return complete


def _suffix(path):
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in (".csv", ".jsonl"):
        raise ValueError(f"out must end in .csv or .jsonl, got {os.fspath(path)!r}")
    return suffix


def check_out_path(path):
    """A result file path this run can write: .csv or .jsonl, in a folder that exists, not a
    folder itself."""
    _suffix(path)
    folder = os.path.dirname(os.path.abspath(os.fspath(path)))
    if not os.path.isdir(folder):
        raise ValueError(f"out {os.fspath(path)!r}: the folder {folder!r} does not exist")
    if os.path.isdir(path):
        raise ValueError(f"out {os.fspath(path)!r} is a folder, not a file")
    return path


def check_resumable(path, records, configs, options):
    """Refuse to resume ``path`` when what it holds was made with other settings than this
    run's: a file cannot mix rows with and without histograms, of other bin counts, with and
    without gradients, or hold configurations this grid does not have. A ValueError says
    which setting differs."""
    name = os.fspath(path)
    advice = "resume with the settings that wrote it, or write to a new file"
    rows = [r for r in records if r.get("layer") is not None and not r.get("error")]
    if not rows:
        return
    had_histograms = any("hist" in r for r in rows)
    if had_histograms != options["histograms"]:
        written = "with" if had_histograms else "without"
        raise ValueError(f"{name} was written {written} histograms and this run asks for "
                         f"{'them' if options['histograms'] else 'none'}: {advice}")
    if had_histograms:
        file_bins = {len(r["hist"]) for r in rows if r.get("hist")}
        if file_bins and file_bins != {options["bins"]}:
            raise ValueError(f"{name} has histograms of {sorted(file_bins)} bins and this run "
                             f"asks for {options['bins']}: {advice}")
    had_gradients = any(not math.isnan(r["grad_std"]) for r in rows)
    if had_gradients != options["backward"]:
        written = "with" if had_gradients else "without"
        raise ValueError(f"{name} was written {written} backward gradients and this run "
                         f"asks for {'them' if options['backward'] else 'none'}: {advice}")
    wanted = set(configs)
    foreign = {c for c in complete_configs(records) if c not in wanted}
    if foreign:
        example = next(iter(sorted(foreign, key=repr)))
        raise ValueError(f"{name} holds {len(foreign)} configurations that this grid does not "
                         f"have (e.g. {example}): {advice}")


class _Sink:
    """The result file: each finished configuration's rows in one flushed write."""

    def __init__(self, path, resume, histograms, configs=(), options=None):
        self.path, self.suffix, self.histograms = path, _suffix(path), histograms
        self.done = {}
        if resume and os.path.exists(path):
            records = read_records(path)
            check_resumable(path, records, configs, options)
            self.done = complete_configs(records)
        # rewrite what is kept (atomically), so that nothing torn or partial stays behind
        tmp = f"{path}.tmp"
        try:
            with open(tmp, "w", newline="") as f:
                if self.suffix == ".csv":
                    f.write(_csv_header(histograms))
                for rows in self.done.values():
                    f.write(_format(rows, self.suffix, histograms))
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):  # a full disk, an interrupt: leave no temporary behind
                os.remove(tmp)
            raise
        self.file = open(path, "a", newline="")

    def write(self, records):
        self.file.write(_format(records, self.suffix, self.histograms))
        self.file.flush()

    def close(self):
        self.file.close()


def _progress_bar(total, progress):
    if progress is None:
        progress = sys.stderr.isatty()
    if not progress:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="net", desc="sweep", file=sys.stderr)


def _chunks(configs, size):
    return [configs[i:i + size] for i in range(0, len(configs), size)]


def _executor_workers(executor):
    if hasattr(executor, "scheduler_info"):  # a dask Client
        return max(1, len(executor.scheduler_info().get("workers", {})))
    return getattr(executor, "_max_workers", None) or os.cpu_count() or 1


def sweep(configs=None, *, init=None, activation="tanh", depth=10, width=500, batch=1000,
          dtype="float64", bias=0.0, seeds=1, executor=None, num_threads=None, out=None,
          resume=False, chunk_size=None, histograms=False, bins=30, backward=False,
          progress=None):
    """Run every configuration of a grid (see ``grid``; or give ``configs``, a list of Config)
    and return a SweepResult with one record per (configuration, layer).

    Where: with ``executor`` (any concurrent.futures.Executor, e.g. a ProcessPoolExecutor or
    ``dask.distributed.Client(...).get_executor()``, or a dask Client itself), configurations go
    out in chunks of ``chunk_size`` and each runs its engine on one thread (``num_threads`` to
    change it). Without one, small networks run one per thread on ``num_threads`` threads
    (default: OpenMP's, i.e. OMP_NUM_THREADS or all cores) and large ones one at a time on all
    of them. The records are the same either way, bit for bit.

    out: a .csv or .jsonl file, written as each configuration finishes. resume: keep the
    file's complete configurations and run only the rest (failed ones run again); without
    resume the file is overwritten. histograms: add per-layer ``hist`` and ``bin_edges``.
    progress: a progress bar on stderr (default: when stderr is a terminal).
    """
    if configs is None:
        if init is None:
            raise ValueError("give configs, or init (and the other grid values)")
        configs = grid(init, activation=activation, depth=depth, width=width, batch=batch,
                       dtype=dtype, bias=bias, seeds=seeds)
    else:
        configs = list(configs)
        for config in configs:
            if not isinstance(config, Config):
                raise TypeError(f"configs must hold Config objects, got {type(config).__name__}")
    configs = list(dict.fromkeys(configs))  # each once
    if resume and out is None:
        raise ValueError("resume needs out, the file to resume")
    if chunk_size is not None:
        chunk_size = specs.count(chunk_size, "chunk_size")
    if executor is not None and not (isinstance(executor, concurrent.futures.Executor) or
                                     hasattr(executor, "get_executor")):
        raise TypeError("executor must be a concurrent.futures.Executor or a dask Client, got "
                        f"{type(executor).__name__}")
    threads = _openmp.effective_num_threads(num_threads)
    options = {"histograms": bool(histograms), "bins": specs.count(bins, "bins", minimum=0),
               "backward": bool(backward)}

    if out is not None:
        check_out_path(out)
    sink = _Sink(out, resume, bool(histograms), configs, options) if out is not None else None
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


def _run_on_executor(executor, todo, options, chunk_size, finished):
    if hasattr(executor, "get_executor"):  # a dask Client
        executor = executor.get_executor()
    workers = _executor_workers(executor)
    size = chunk_size or max(1, min(64, math.ceil(len(todo) / (4 * workers))))
    futures = [executor.submit(run_chunk, chunk, options) for chunk in _chunks(todo, size)]
    for future in concurrent.futures.as_completed(futures):
        finished(future.result())


def _run_locally(todo, options, threads, finished):
    from fastinit._blas_threads import blas_single_threaded
    small = [c for c in todo if c.layer_flops <= SMALL_LAYER_FLOPS]
    large = [c for c in todo if c.layer_flops > SMALL_LAYER_FLOPS]
    with blas_single_threaded():  # once for all threads: BLAS runs inside our own threads
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

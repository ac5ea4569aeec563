"""Sweep result files: CSV and JSON lines, written as each configuration finishes, or a
Parquet folder for big sweeps; read back and resumed. One row per (configuration, layer);
floats as repr in CSV (they read back bit-identical), NaN as "nan" (CSV) or null (JSON).

``read_records`` drops a torn last line and malformed rows; ``ResultFile`` rewrites what a
resumed file keeps (atomically) and appends each finished configuration's rows in one flushed
write; ``check_resumable`` refuses a file written with other settings.

Parquet (``out="results.parquet"``, needs pyarrow): a folder of ``part-NNNNNN.parquet`` files,
each holding whole configurations and written atomically (a temporary, then a rename), so a
killed run leaves only complete parts; pandas (``pd.read_parquet(folder)``) and DuckDB
(``read_parquet('folder/*.parquet')``) read the folder as one table. ``ParquetFolder``
gathers finished configurations and writes a part every ``PART_ROWS`` rows or
``PART_SECONDS`` seconds, and at the end.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import time
from typing import Any

from fastinit import text_specs as specs
from fastinit.sweep.grid import Config
from fastinit.results import BACKWARD, MEASURED, PREDICTED, nan_to_none
from fastinit.sources import STREAM_VERSION

# the file's columns: the configuration, the layer, then its statistics
CONFIG_COLUMNS = ("init", "activation", "depth", "width", "batch", "dtype", "seed", "bias")
STAT_COLUMNS = (*MEASURED, *PREDICTED, *BACKWARD)
# the stream version that drew the row's weights (fastinit.STREAM_VERSION): resume refuses to
# mix two streams in one file. Files written before it was recorded lack the column.
LEGACY_COLUMNS = (*CONFIG_COLUMNS[:-1], "layer", *STAT_COLUMNS[:6], "bias", *STAT_COLUMNS[6:],
                  "error")
COLUMNS = (*LEGACY_COLUMNS, "stream")
# A Parquet part stores the bias as two typed columns, so that pandas and DuckDB read numbers:
# ``bias`` (float64: the constant, NaN where an initializer drew the bias) and ``bias_init``
# (the initializer's spec, null for a constant). Parts written before (one text ``bias``
# column, as in CSV) still read.
BIAS_INIT = "bias_init"


def write_records(path, records, suffix=None):
    """All ``records`` to a file, CSV or JSON lines by ``suffix`` (default: the path's), or
    a Parquet folder of one part."""
    suffix = suffix or _suffix(path)
    histograms = any("hist" in r for r in records)
    if suffix == ".parquet":
        folder = ParquetFolder(path, False, histograms)
        folder.write(records)
        folder.close()
        return
    with open(path, "w", newline="") as f:
        if suffix == ".csv":
            f.write(_csv_header(histograms))
        f.write(_format(records, suffix, histograms))


def _columns(histograms, columns=COLUMNS):
    return (*columns, "hist", "bin_edges") if histograms else columns


# every header a fastinit sweep file may have: today's, and those before the stream column
_HEADERS = tuple(_columns(h, c) for c in (COLUMNS, LEGACY_COLUMNS) for h in (False, True))


# a Parquet part's columns: the file columns and bias_init; or, before the split, a file's
_PARQUET_HEADERS = (*_HEADERS, *((*h, BIAS_INIT) for h in _HEADERS[:2]))


def _csv_header(histograms):
    return ",".join(_columns(histograms)) + "\n"


def _format(records, suffix, histograms):
    """Records as file lines: CSV (floats as repr, so they read back bit-identical; NaN as
    "nan"; lists as JSON) or JSON lines (NaN as null)."""
    if suffix == ".jsonl":
        return "".join(json.dumps({k: nan_to_none(r.get(k)) for k in _columns(histograms)}) +
                       "\n" for r in records)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for r in records:
        writer.writerow([_csv_value(r.get(k)) for k in _columns(histograms)])
    return buffer.getvalue()


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
            record[key] = specs.bias(text)
        elif key in ("depth", "width", "batch", "seed"):
            record[key] = int(text)
        elif key == "stream":
            record[key] = int(text) if text else None
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
    record.setdefault("stream", None)
    for key in STAT_COLUMNS:
        if record.get(key) is None:
            record[key] = math.nan
    record["bias"] = specs.bias(record["bias"])
    return record


def read_records(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The records of a sweep file; a torn last line (no newline, or not parseable) and any
    malformed row are left out. A Parquet folder: every part's rows, in part order.

    Parameters
    ----------
    path : str or path
        A .csv or .jsonl file, or a .parquet folder, written by ``sweep``.

    Returns
    -------
    list of dict
        The records, with the types they were written with (CSV's strings read back).
    """
    suffix = _suffix(path)
    if suffix == ".parquet":
        return _read_parquet(path)
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
    if tuple(header) not in _HEADERS:
        raise ValueError(f"{os.fspath(path)} is not a fastinit sweep file (unexpected header)")
    for row in csv.reader(lines[1:]):
        if len(row) != len(header):
            continue
        try:
            records.append({"stream": None, **_parse_csv_row(dict(zip(header, row)))})
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
        if not any(r.get("error") for r in rows) and layers == list(range(1, config.depth + 1)):
            complete[config] = sorted(rows, key=lambda r: r["layer"])
    return complete


def _suffix(path):
    suffix = os.path.splitext(os.fspath(path).rstrip("/" + os.sep))[1].lower()
    if suffix not in (".csv", ".jsonl", ".parquet"):
        raise ValueError(f"out must end in .csv, .jsonl or .parquet, got {os.fspath(path)!r}")
    return suffix


def check_out_path(path):
    """A result path this run can write: a .csv or .jsonl file (not a folder), or a .parquet
    folder (not a file), in a folder that exists."""
    suffix = _suffix(path)
    folder = os.path.dirname(os.path.abspath(os.fspath(path).rstrip("/" + os.sep)))
    if not os.path.isdir(folder):
        raise ValueError(f"out {os.fspath(path)!r}: the folder {folder!r} does not exist")
    if suffix == ".parquet":
        _pyarrow()
        if os.path.exists(path) and not os.path.isdir(path):
            raise ValueError(f"out {os.fspath(path)!r} is a file; a .parquet result is a "
                             "folder of parts")
    elif os.path.isdir(path):
        raise ValueError(f"out {os.fspath(path)!r} is a folder, not a file")
    return path


def check_resumable(path, records, configs, options):
    """Refuse to resume ``path`` when what it holds was made with other settings than this
    run's: a file cannot mix rows with and without histograms, of other bin counts, with and
    without gradients, or hold configurations this grid does not have. A ValueError says
    which setting differs."""
    name = os.fspath(path)
    advice = "resume with the settings that wrote it, or write to a new file"
    rows = [r for r in records if r.get("layer") is not None]  # a failure has no layer
    if not rows:
        return
    streams = {r.get("stream") for r in rows}
    if streams != {STREAM_VERSION}:
        other = sorted(streams - {STREAM_VERSION}, key=repr)[0]
        written = ("before fastinit recorded stream versions" if other is None else
                   f"with stream version {other}")
        raise ValueError(f"{name} was written {written}, and this fastinit draws stream "
                         f"version {STREAM_VERSION}: its rows and this run's would come from "
                         "different random streams; write to a new file")
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


def open_result(path, resume, histograms, configs=(), options=None):
    """The sink of a sweep's results at ``path``: a ResultFile (.csv, .jsonl) or a
    ParquetFolder (.parquet)."""
    kind = ParquetFolder if _suffix(path) == ".parquet" else ResultFile
    return kind(path, resume, histograms, configs, options)


class ResultFile:
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


# -- Parquet folders --------------------------------------------------------------------------

PART_ROWS = 65536  # a part is written once this many rows wait ...
PART_SECONDS = 10.0  # ... or this long after the last part: a kill loses at most that much
_PART = re.compile(r"part-(\d{6,})\.parquet$")
_INT_COLUMNS = ("depth", "width", "batch", "layer", "stream")
# seeds are any non-negative int; a Parquet folder stores them as uint64, so one of 2**64 or
# more is refused before a sweep starts (CSV and JSON lines hold any int)
PARQUET_MAX_SEED = 2**64 - 1
_TEXT_COLUMNS = ("init", "activation", "dtype", "error", "bias_init")


def _pyarrow():
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise ValueError("a .parquet result needs pyarrow: pip install '.[parquet]' in the "
                         "fastinit checkout") \
            from None
    return pyarrow


def _parts(folder):
    """The part files of a Parquet folder, in the order they were written."""
    names = [n for n in os.listdir(folder) if _PART.match(n)]
    return sorted(names, key=lambda n: int(_PART.match(n).group(1)))  # type: ignore[union-attr]


def _parquet_columns(histograms):
    return (*_columns(histograms), BIAS_INIT)


def _schema(histograms):
    pa = _pyarrow()
    types = {name: pa.int64() for name in _INT_COLUMNS}
    types["seed"] = pa.uint64()
    types.update({name: pa.string() for name in _TEXT_COLUMNS})
    types.update(hist=pa.list_(pa.int64()), bin_edges=pa.list_(pa.float64()))
    return pa.schema([(name, types.get(name, pa.float64()))
                      for name in _parquet_columns(histograms)])


def _parquet_table(records, histograms):
    """Records as an Arrow table: the bias as a number (NaN where an initializer drew it) and
    the initializer's spec in ``bias_init``; NaN kept as NaN."""
    columns = {name: [r.get(name) for r in records] for name in _columns(histograms)}
    biases = columns["bias"]
    columns["bias"] = [float(b) if isinstance(b, (int, float)) else math.nan for b in biases]
    columns[BIAS_INIT] = [None if isinstance(b, (int, float)) else str(b) for b in biases]
    return _pyarrow().Table.from_pydict(columns, schema=_schema(histograms))


def _parquet_bias(record):
    """A record's bias from a part: the constant, or the initializer spec (``bias_init``); a
    part written before the split holds the text CSV writes."""
    spec = record.pop(BIAS_INIT, None)
    if spec is not None:
        return specs.bias(spec)
    bias = record["bias"]
    return bias if isinstance(bias, float) else specs.bias(bias)


def _read_parquet(path, names=None):
    """The records of a Parquet folder's parts (``names``, default all) in order."""
    pa = _pyarrow()
    if not os.path.isdir(path):
        raise ValueError(f"{os.fspath(path)} is not a fastinit Parquet result (not a folder)")
    records = []
    for name in _parts(path) if names is None else names:
        try:
            table = pa.parquet.read_table(os.path.join(path, name))
        except (OSError, pa.ArrowException) as error:
            raise ValueError(f"{os.path.join(os.fspath(path), name)} is not a readable Parquet "
                             f"part ({error}); move it away to resume without it") from None
        if tuple(table.column_names) not in _PARQUET_HEADERS:
            raise ValueError(f"{os.path.join(os.fspath(path), name)} is not a fastinit sweep "
                             "part (unexpected columns)")
        for record in table.to_pylist():
            record.setdefault("stream", None)
            for key in STAT_COLUMNS:
                if record[key] is None:
                    record[key] = math.nan
            record["bias"] = _parquet_bias(record)
            records.append(record)
    return records


def check_parquet_seeds(configs):
    """Refuse, before any work, a seed a Parquet folder cannot store (2**64 or more)."""
    for config in configs:
        if config.seed > PARQUET_MAX_SEED:
            raise ValueError(f"seeds: {config.seed} does not fit a .parquet result, which stores "
                             "seeds as uint64 (below 2**64): write a .csv or .jsonl result, "
                             "which hold any seed")


class ParquetFolder:
    """A sweep's Parquet result folder. Finished configurations wait in memory and go out as
    one part (written to a temporary, then renamed: a part is whole or absent) every
    PART_ROWS rows or PART_SECONDS seconds, and at close. Without resume the folder's parts
    are removed first. On resume, a part holding a failed or incomplete configuration is
    removed and its configurations run again (they give the same rows), so every row is
    there exactly once."""

    def __init__(self, path, resume, histograms, configs=(), options=None):
        self.path, self.histograms = os.fspath(path), histograms
        self.done, self.waiting = {}, []
        check_parquet_seeds(configs)
        os.makedirs(self.path, exist_ok=True)
        for name in os.listdir(self.path):  # a killed writer's temporaries
            if name.endswith(".parquet.tmp"):
                os.remove(os.path.join(self.path, name))
        if resume:
            check_resumable(self.path, _read_parquet(self.path), configs, options)
            complete = complete_configs(_read_parquet(self.path))
            kept = []
            for name in _parts(self.path):
                rows = _read_parquet(self.path, [name])
                if all(Config.from_record(r) in complete for r in rows):
                    kept.extend(rows)
                else:  # its configurations run again
                    os.remove(os.path.join(self.path, name))
            self.done = complete_configs(kept)
        else:
            for name in _parts(self.path):
                os.remove(os.path.join(self.path, name))
        names = _parts(self.path)
        self.part = int(_PART.match(names[-1]).group(1)) + 1 if names else 0  # type: ignore[union-attr]
        self.last_write = time.monotonic()

    def write(self, records):
        self.waiting.extend(records)
        if len(self.waiting) >= PART_ROWS or \
                time.monotonic() - self.last_write >= PART_SECONDS:
            self.flush()

    def flush(self):
        """Write the waiting rows as the next part."""
        if not self.waiting:
            return
        name = os.path.join(self.path, f"part-{self.part:06d}.parquet")
        # the temporary's name starts with ".": Parquet readers (pyarrow, pandas, DuckDB's
        # globs) skip it, so a reader never meets a half-written part, even after SIGKILL
        tmp = os.path.join(self.path, f".part-{self.part:06d}.parquet.tmp")
        try:
            _pyarrow().parquet.write_table(_parquet_table(self.waiting, self.histograms), tmp)
            os.replace(tmp, name)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise
        self.part += 1
        self.waiting = []
        self.last_write = time.monotonic()

    def close(self):
        self.flush()

"""Sweep result files: CSV and JSON lines, written as each configuration finishes, read back
and resumed. One row per (configuration, layer); floats as repr in CSV (they read back
bit-identical), NaN as "nan" (CSV) or null (JSON).

``read_records`` drops a torn last line and malformed rows; ``ResultFile`` rewrites what a
resumed file keeps (atomically) and appends each finished configuration's rows in one flushed
write; ``check_resumable`` refuses a file written with other settings.
"""
import csv
import io
import json
import math
import os

from fastinit import text_specs as specs
from fastinit.grid import Config
from fastinit.results import BACKWARD, MEASURED, PREDICTED, nan_to_none

# the file's columns: the configuration, the layer, then its statistics
CONFIG_COLUMNS = ("init", "activation", "depth", "width", "batch", "dtype", "seed", "bias")
STAT_COLUMNS = (*MEASURED, *PREDICTED, *BACKWARD)
COLUMNS = (*CONFIG_COLUMNS[:-1], "layer", *STAT_COLUMNS[:6], "bias", *STAT_COLUMNS[6:], "error")


def write_records(path, records, suffix=None):
    """All ``records`` to a file, CSV or JSON lines by ``suffix`` (default: the path's)."""
    suffix = suffix or _suffix(path)
    histograms = any("hist" in r for r in records)
    with open(path, "w", newline="") as f:
        if suffix == ".csv":
            f.write(_csv_header(histograms))
        f.write(_format(records, suffix, histograms))


def _columns(histograms):
    return (*COLUMNS, "hist", "bin_edges") if histograms else COLUMNS


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
    record["bias"] = specs.bias(record["bias"])
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
        if not any(r.get("error") for r in rows) and layers == list(range(1, config.depth + 1)):
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

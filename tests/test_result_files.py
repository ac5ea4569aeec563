"""The sweep result-file format on its own (fastinit.sweep.result_files): every column read back with
its type, histograms in CSV, files named anyhow, malformed rows, what counts as a complete
configuration, and the settings a resume refuses, by name."""
import json
import math
import os
import re

import numpy as np
import pytest

from fastinit import sweep as sweeps
from fastinit.sweep import runner

from fastinit.sweep import result_files
from fastinit.sweep.result_files import (
    COLUMNS, check_out_path, check_resumable, complete_configs, read_records, write_records,
)
from conftest import fastinit_cli, same_records

OPTIONS = {"histograms": False, "bins": 30, "backward": False}


@pytest.fixture(scope="module")
def records():
    return sweeps.sweep(init=["lecun_normal", "normal:std=0.1"], activation=["tanh", "relu"],
                        depth=2, width=6, batch=8, seeds=2, bias=[0.0, "normal:std=0.05"],
                        histograms=True, bins=5).records


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_histogram_files_read_back_with_every_type(tmp_path, records, suffix):
    path = tmp_path / f"s{suffix}"
    write_records(path, records)
    back = read_records(path)
    same_records(back, records)
    for r in back:
        for key in ("depth", "width", "batch", "seed", "layer"):
            assert type(r[key]) is int, key
        assert all(type(v) is int for v in r["hist"]) and len(r["hist"]) == 5
        assert all(type(v) is float for v in r["bin_edges"]) and len(r["bin_edges"]) == 6
        assert isinstance(r["bias"], (float, str))
    assert {r["bias"] for r in back} == {0.0, "normal:std=0.05"}
    assert {type(r["std"]) for r in back} == {float}


def test_the_suffix_argument_beats_the_path(tmp_path, records):
    write_records(tmp_path / "results.txt", records, ".csv")
    header = (tmp_path / "results.txt").read_text().splitlines()[0]
    assert header == ",".join((*COLUMNS, "hist", "bin_edges"))
    write_records(tmp_path / "more.csv", records[:3], ".jsonl")
    lines = (tmp_path / "more.csv").read_text().splitlines()
    assert len(lines) == 3 and json.loads(lines[0])["init"] == records[0]["init"]


def test_a_malformed_row_in_the_middle_drops_only_itself(tmp_path, records):
    path = tmp_path / "s.csv"
    write_records(path, records)
    lines = path.read_text().splitlines(keepends=True)
    fields = lines[1].split(",")
    fields[COLUMNS.index("depth")] = "not-a-number"  # the right field count, a bad value
    lines.insert(3, ",".join(fields))
    path.write_text("".join(lines))
    same_records(read_records(path), records)


def test_a_malformed_json_line_in_the_middle_drops_only_itself(tmp_path, records):
    path = tmp_path / "s.jsonl"
    write_records(path, records)
    lines = path.read_text().splitlines(keepends=True)
    for bad in ('{"init": "lecun_normal", "depth": \n', "[1, 2]\n", '{"no": "fields"}\n'):
        lines.insert(3, bad)
    path.write_text("".join(lines))
    same_records(read_records(path), records)


def test_a_failed_configuration_is_not_complete(records):
    config = sweeps.Config.from_record(records[0])
    rows = [r for r in records if sweeps.Config.from_record(r) == config]
    assert list(complete_configs(rows)) == [config]
    failed = [*rows[:1], {**rows[1], "error": "boom"}]
    assert complete_configs(failed) == {}


def test_resume_refuses_other_settings_by_name(tmp_path, records):
    path = tmp_path / "s.csv"
    configs = list(dict.fromkeys(sweeps.Config.from_record(r) for r in records))
    same = {**OPTIONS, "histograms": True, "bins": 5}
    check_resumable(path, records, configs, same)  # the settings that wrote it: fine
    advice = "resume with the settings that wrote it, or write to a new file"
    for options, message in (
            ({**same, "histograms": False}, "was written with histograms and this run asks "
                                           "for none"),
            ({**same, "bins": 7}, "has histograms of [5] bins and this run asks for 7"),
            ({**same, "backward": True}, "was written without backward gradients and this "
                                         "run asks for them"),
    ):
        with pytest.raises(ValueError) as error:
            check_resumable(path, records, configs, options)
        assert str(error.value) == f"{path} {message}: {advice}"
    plain = [{k: v for k, v in r.items() if k not in ("hist", "bin_edges")} for r in records]
    with pytest.raises(ValueError) as error:
        check_resumable(path, plain, configs, same)
    assert str(error.value) == (f"{path} was written without histograms and this run asks for "
                                f"them: {advice}")
    with_gradients = [{**r, "grad_std": 0.5} for r in records]
    with pytest.raises(ValueError) as error:
        check_resumable(path, with_gradients, configs, same)
    assert str(error.value) == (f"{path} was written with backward gradients and this run "
                                f"asks for none: {advice}")
    with pytest.raises(ValueError) as error:
        check_resumable(path, records, configs[:8], same)
    first_foreign = sorted(configs[8:], key=repr)[0]
    assert str(error.value) == (f"{path} holds 8 configurations that this grid does not have "
                                f"(e.g. {first_foreign}): {advice}")


def test_a_file_of_failures_only_resumes_under_any_settings(tmp_path, records):
    failures = [{**{k: records[0][k] for k in ("init", "activation", "depth", "width", "batch",
                                                "dtype", "seed", "bias")},
                 "layer": None, "error": "boom", "grad_std": math.nan}]
    check_resumable(tmp_path / "s.csv", failures, [], {**OPTIONS, "histograms": True,
                                                        "backward": True})


def test_nan_is_null_in_json_and_nothing_else_is():
    from fastinit.results import nan_to_none
    assert nan_to_none(math.nan) is None
    assert nan_to_none(0.5) == 0.5 and nan_to_none("x") == "x" and nan_to_none(None) is None


# -- Parquet folders --------------------------------------------------------------------------

def test_parquet_folder_is_one_table_for_pandas(tmp_path, records, monkeypatch):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    monkeypatch.setattr(result_files, "PART_ROWS", 10)  # several parts
    path = tmp_path / "s.parquet"
    result = sweeps.sweep(init=["lecun_normal", "normal:std=0.1"], depth=3, width=6, batch=8,
                          seeds=4, out=path)
    assert len(result_files._parts(path)) == 2  # 8 x 3 rows: 12 + 12, nothing left waiting
    same_records(read_records(path), result.records)
    table = pd.read_parquet(path)
    assert list(table.columns) == [*COLUMNS, "bias_init"] and len(table) == len(result.records)
    ours = sorted((r["init"], r["seed"], r["layer"], r["std"]) for r in result.records)
    theirs = sorted(table[["init", "seed", "layer", "std"]].itertuples(index=False, name=None))
    assert ours == theirs  # every float bit for bit


def test_parquet_resume_drops_a_part_with_a_failure_and_keeps_every_row_once(tmp_path,
                                                                              monkeypatch):
    pytest.importorskip("pyarrow")
    monkeypatch.setattr(result_files, "PART_ROWS", 4)  # parts of 2 or 3 configurations
    path = tmp_path / "s.parquet"
    # normal:std=-1 cannot draw: 3 configurations of 2 rows, 3 failures of 1 row
    grid = dict(init=["lecun_normal", "normal:std=-1"], depth=2, width=5, batch=6, seeds=3)
    first = sweeps.sweep(**grid, out=path, num_threads=1)
    # in grid order: lecun seeds 0, 1 | lecun 2, failures 0, 1 | failure 2
    assert len(first.failed) == 3
    assert result_files._parts(path) == [f"part-{i:06d}.parquet" for i in range(3)]
    whole = [name for name in result_files._parts(path)
             if not any(r["error"] for r in result_files._read_parquet(path, [name]))]
    assert whole == ["part-000000.parquet"]
    (path / "part-000099.parquet.tmp").write_bytes(b"PAR1 torn")  # a killed writer's
    with pytest.raises(ValueError, match="configurations"):  # other settings: refused
        sweeps.sweep(**dict(grid, depth=3), out=path, resume=True)
    calls = []
    monkeypatch.setattr(runner, "run_config", counting(runner.run_config, calls))
    sweeps.sweep(**grid, out=path, resume=True, num_threads=1)
    back = read_records(path)
    assert not (path / "part-000099.parquet.tmp").exists()
    # part 0 kept; lecun 2 and failures 0, 1, then failure 2: numbered on from it
    assert result_files._parts(path) == [f"part-{i:06d}.parquet" for i in range(3)]
    assert set(whole) <= set(result_files._parts(path))  # parts without a failure stay
    rows = [(r["init"], r["seed"], r["layer"]) for r in back]
    assert len(rows) == len(set(rows)) == 9  # every row exactly once
    assert sum(1 for r in back if r["error"]) == 3
    # what ran again: the failures and whatever shared a part with one, nothing else
    kept_configs = {(r["init"], r["seed"]) for name in whole
                    for r in result_files._read_parquet(path, [name])}
    assert len(calls) == 6 - len(kept_configs) == 4
    same_records([r for r in back if not r["error"]],
                 [r for r in first.records if not r["error"]])


def counting(function, calls):
    def counted(*args, **kwargs):
        calls.append(args)
        return function(*args, **kwargs)
    return counted


def test_parquet_out_must_be_a_folder_and_a_part_must_be_readable(tmp_path):
    pytest.importorskip("pyarrow")
    (tmp_path / "file.parquet").write_text("not a folder")
    with pytest.raises(ValueError, match="is a file"):
        sweeps.sweep(init="lecun_normal", depth=1, width=2, batch=2, out=tmp_path /
                     "file.parquet")
    folder = tmp_path / "s.parquet"
    sweeps.sweep(init="lecun_normal", depth=1, width=2, batch=2, out=folder)
    (folder / "part-000001.parquet").write_bytes(b"garbage")
    with pytest.raises(ValueError, match=re.escape(f"{folder / 'part-000001.parquet'} is not a "
                                                   "readable Parquet part")):
        read_records(folder)


def test_parquet_parts_keep_their_types_and_number_order(tmp_path, monkeypatch):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq
    folder = tmp_path / "s.parquet"
    sweeps.sweep(init="lecun_normal", depth=1, width=2, batch=2, out=folder)  # no failure
    schema = pq.read_schema(folder / "part-000000.parquet")
    assert schema.field("error").type == pa.string()  # not null, though every error is None
    assert schema.field("layer").type == pa.int64()
    # issue 29: the bias read back as text in pandas; now a number, and the initializer's
    # spec in a column of its own
    assert schema.field("bias").type == pa.float64()
    assert schema.field("bias_init").type == pa.string()
    assert schema.field("std").type == pa.float64()
    for name in ("part-1000000.parquet", "part-999999.parquet", "part-000002.parquet"):
        (folder / name).write_bytes(b"")
    assert result_files._parts(folder) == ["part-000000.parquet", "part-000002.parquet",
                                           "part-999999.parquet", "part-1000000.parquet"]


def test_parquet_bias_reads_as_numbers_in_pandas_and_round_trips(tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    folder = tmp_path / "s.parquet"
    result = sweeps.sweep(init="lecun_normal", depth=2, width=4, batch=3,
                          bias=[0.0, 0.25, "normal:std=0.05"], out=folder)
    table = pd.read_parquet(folder)
    assert table["bias"].dtype == np.float64  # not strings ("0.25")
    constants = table[table["bias_init"].isna()]
    assert sorted(set(constants["bias"])) == [0.0, 0.25]
    drawn = table[table["bias_init"].notna()]
    assert set(drawn["bias_init"]) == {"normal:std=0.05"} and drawn["bias"].isna().all()
    same_records(read_records(folder), result.records)  # the API's records unchanged
    assert {r["bias"] for r in read_records(folder)} == {0.0, 0.25, "normal:std=0.05"}


def test_parquet_parts_written_before_the_bias_split_still_read(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq
    folder = tmp_path / "s.parquet"
    result = sweeps.sweep(init="lecun_normal", depth=2, width=4, batch=3,
                          bias=[0.5, "normal:std=0.05"], out=folder)
    part = folder / "part-000000.parquet"
    table = pq.read_table(part)
    # the earlier layout: one text bias column, as CSV writes it, and no bias_init
    text = [spec if spec is not None else repr(b) for b, spec in
            zip(table["bias"].to_pylist(), table["bias_init"].to_pylist())]
    table = table.drop(["bias_init"]).set_column(table.schema.get_field_index("bias"), "bias",
                                                 pa.array(text, pa.string()))
    pq.write_table(table, part)
    same_records(read_records(folder), result.records)


def test_parquet_without_resume_replaces_the_folders_parts(tmp_path, monkeypatch):
    pytest.importorskip("pyarrow")
    folder = tmp_path / "s.parquet"
    sweeps.sweep(init="lecun_normal", depth=2, width=3, batch=2, seeds=3, out=folder)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "part-000000.parquet").write_bytes(b"a file of the working folder")
    second = sweeps.sweep(init="he_normal", depth=1, width=3, batch=2, out=folder)
    same_records(read_records(folder), second.records)  # nothing of the first run is left
    assert (tmp_path / "part-000000.parquet").exists()  # and nothing outside the folder goes


# -- issue 25: seeds of any size, temporaries readers never see, the stream version -----------

SMALL = dict(init="lecun_normal", depth=2, width=4, batch=4)


def test_parquet_stores_seeds_up_to_two_to_the_64_losslessly(tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    seeds = [0, 2**63 - 1, 2**63, 2**64 - 1]
    result = sweeps.sweep(**SMALL, seeds=seeds, out=tmp_path / "s.parquet")
    assert not result.failed
    back = read_records(tmp_path / "s.parquet")
    assert sorted({r["seed"] for r in back}) == seeds
    same_records(back, result.records)
    table = pd.read_parquet(tmp_path / "s.parquet")
    assert str(table["seed"].dtype) == "uint64" and sorted(set(table["seed"])) == seeds
    # resumed: nothing runs again, every row once
    again = sweeps.sweep(**SMALL, seeds=seeds, out=tmp_path / "s.parquet", resume=True)
    assert again.resumed == len(seeds) and len(read_records(tmp_path / "s.parquet")) == 8


def test_a_seed_parquet_cannot_store_is_refused_before_any_work(tmp_path, monkeypatch):
    pytest.importorskip("pyarrow")
    ran = []
    monkeypatch.setattr(runner, "run_chunk", lambda *a: ran.append(a))
    with pytest.raises(ValueError, match=r"seeds: 18446744073709551616 does not fit a "
                                         r"\.parquet result.*\.csv or \.jsonl"):
        sweeps.sweep(**SMALL, seeds=[1, 2**64], out=tmp_path / "s.parquet")
    assert not ran and not (tmp_path / "s.parquet").exists()
    monkeypatch.undo()
    # CSV and JSON lines hold any int
    result = sweeps.sweep(**SMALL, seeds=[2**64, 10**30], out=tmp_path / "s.jsonl")
    assert {r["seed"] for r in read_records(tmp_path / "s.jsonl")} == {2**64, 10**30}
    assert not result.failed


KILLED_WRITER = r"""
import os, sys
import pyarrow.parquet
from fastinit import sweep
from fastinit.sweep import result_files
real = pyarrow.parquet.write_table
def dying(table, where, **kw):
    real(table, where, **kw)
    if sys.argv[2] == "half":  # SIGKILL in the middle of the write
        with open(where, "r+b") as f:
            f.truncate(os.path.getsize(where) // 2)
    os._exit(9)  # ... or right after it, before the rename
pyarrow.parquet.write_table = dying
result_files.PART_ROWS = 2  # a part per configuration (2 layers)
state = {"parts": 0}
original = result_files.ParquetFolder.flush
def flush(self):
    state["parts"] += 1
    if state["parts"] == 3:
        pyarrow.parquet.write_table = dying
    else:
        pyarrow.parquet.write_table = real
    original(self)
result_files.ParquetFolder.flush = flush
sweep.sweep(init="lecun_normal", depth=2, width=4, batch=4, seeds=5, out=sys.argv[1])
"""


@pytest.mark.parametrize("when", ["half", "before_rename"])
def test_readers_never_see_a_killed_writers_temporary(tmp_path, when):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    import subprocess
    import sys
    folder = tmp_path / "s.parquet"
    # cwd away from the checkout: there `import fastinit` would find the uncompiled source
    done = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(folder), when],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 9, done.stderr
    leftovers = [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]
    assert leftovers, "the kill must leave the temporary behind"
    table = pd.read_parquet(folder)  # two whole parts; the third is only a temporary
    assert sorted(set(table["seed"])) == [0, 1] and len(table) == 4
    resumed = sweeps.sweep(**SMALL, seeds=5, out=folder, resume=True)
    assert resumed.resumed == 2 and not resumed.failed
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
    assert sorted(pd.read_parquet(folder)["seed"]) == sorted([0, 1, 2, 3, 4] * 2)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_records_carry_the_stream_version_and_resume_refuses_another(tmp_path, suffix):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    from fastinit import STREAM_VERSION
    path = tmp_path / f"s{suffix}"
    result = sweeps.sweep(**SMALL, seeds=2, out=path)
    assert {r["stream"] for r in result.records} == {STREAM_VERSION}
    assert {r["stream"] for r in read_records(path)} == {STREAM_VERSION}
    older = [{**r, "stream": STREAM_VERSION - 1} for r in result.records]
    write_records(path, older)
    with pytest.raises(ValueError, match=rf"written with stream version {STREAM_VERSION - 1}"
                                         rf", and this fastinit draws stream version "
                                         rf"{STREAM_VERSION}"):
        sweeps.sweep(**SMALL, seeds=2, out=path, resume=True)


def test_files_from_before_the_stream_column_read_back_and_do_not_resume(tmp_path, records):
    import csv
    path = tmp_path / "old.csv"
    write_records(path, records[:4])
    rows = list(csv.reader(path.read_text().splitlines()))
    drop = rows[0].index("stream")
    with open(path, "w", newline="") as f:  # the file as fastinit 0.3 wrote it
        csv.writer(f, lineterminator="\n").writerows([r[:drop] + r[drop + 1:] for r in rows])
    back = read_records(path)
    assert len(back) == 4 and {r["stream"] for r in back} == {None}
    with pytest.raises(ValueError, match="written before fastinit recorded stream versions"):
        check_resumable(path, back, [], OPTIONS)


def test_parquet_resume_numbers_on_past_a_kept_part_after_a_dropped_one(tmp_path, monkeypatch):
    # issue 34: a folder whose kept part comes after a dropped one (parts are numbered in
    # writing order, and an earlier resume may have dropped any of them). The next part must
    # be numbered past the last kept part: numbering by the count of kept parts (or from 0)
    # would write over the kept part and lose its rows.
    pytest.importorskip("pyarrow")
    monkeypatch.setattr(result_files, "PART_ROWS", 4)
    path = tmp_path / "s.parquet"
    grid = dict(init=["lecun_normal", "normal:std=-1"], depth=2, width=5, batch=6, seeds=3)
    first = sweeps.sweep(**grid, out=path, num_threads=1)
    # written: lecun 0, 1 | lecun 2, failures 0, 1 | failure 2. Make it: part 1 (with failures,
    # dropped on resume), part 2 (lecun 0, 1: kept); failure 2 is missing and runs again
    (path / "part-000002.parquet").unlink()
    (path / "part-000000.parquet").rename(path / "part-000002.parquet")
    kept_bytes = (path / "part-000002.parquet").read_bytes()
    sweeps.sweep(**grid, out=path, resume=True, num_threads=1)
    assert (path / "part-000002.parquet").read_bytes() == kept_bytes  # untouched
    parts = result_files._parts(path)
    assert parts[0] == "part-000002.parquet" and len(parts) >= 2
    assert all(int(name[5:11]) > 2 for name in parts[1:])  # numbered on from the kept part
    back = read_records(path)
    rows = [(r["init"], r["seed"], r["layer"]) for r in back]
    assert len(rows) == len(set(rows)) == 9  # every row exactly once
    same_records([r for r in back if not r["error"]],
                 [r for r in first.records if not r["error"]])


# The defects found by fuzzing and independent validation (issue 10), by section.

# -- sweep files ------------------------------------------------------------------------------

SMALL_CLI = ["--depth", "2", "--width", "8", "--batch", "4", "--quiet"]


@pytest.mark.parametrize("first, second, message", [
    ([], ["--histograms"], "without histograms"),
    (["--histograms"], [], "with histograms"),
    ([], ["--backward"], "without backward"),
    (["--init", "zeros,ones"], ["--init", "zeros"], "does not have"),
])
def test_resume_with_other_settings_is_refused(tmp_path, first, second, message):
    out = tmp_path / "x.csv"
    init = [] if "--init" in first else ["--init", "zeros"]
    assert fastinit_cli("sweep", *init, *first, *SMALL_CLI, "--out", str(out), check=False).returncode == 0
    before = out.read_bytes()
    init = [] if "--init" in second else ["--init", "zeros"]
    result = fastinit_cli("sweep", *init, *second, *SMALL_CLI, "--out", str(out), "--resume", check=False)
    assert result.returncode == 2 and message in result.stderr
    assert out.read_bytes() == before


def test_resume_with_other_bins_is_refused(tmp_path):
    out = tmp_path / "x.jsonl"
    sweeps.sweep(init="zeros", depth=2, width=8, batch=4, out=out, histograms=True, bins=5)
    with pytest.raises(ValueError, match="5"):
        sweeps.sweep(init="zeros", depth=2, width=8, batch=4, out=out, histograms=True,
                     bins=6, resume=True)


def test_a_binary_file_to_resume_is_a_usage_error(tmp_path):
    out = tmp_path / "x.csv"
    out.write_bytes(bytes(range(256)) * 4)
    result = fastinit_cli("sweep", "--init", "zeros", *SMALL_CLI, "--out", str(out), "--resume", check=False)
    assert result.returncode == 2 and "x.csv" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_text_file_that_is_no_result_file_is_kept(tmp_path):
    out = tmp_path / "notes.jsonl"
    out.write_text("my notes\nmore notes\n")
    with pytest.raises(ValueError, match="not a fastinit sweep file"):
        sweeps.sweep(init="zeros", depth=2, width=8, batch=4, out=out, resume=True)
    assert out.read_text() == "my notes\nmore notes\n"


def test_a_failed_rewrite_leaves_no_temporary(tmp_path, monkeypatch):
    out = tmp_path / "x.csv"

    def full_disk(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(result_files, "_csv_header", full_disk)
    with pytest.raises(OSError):
        sweeps.sweep(init="zeros", depth=2, width=8, batch=4, out=out)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_a_failure_and_a_file_from_before_stream_versions_read_back(tmp_path, records, suffix):
    """A failed configuration's one record has no layer (None, an empty CSV cell), and a file
    written before records carried the stream version reads with stream None, not an error."""
    from fastinit.sweep.runner import _failure
    config = sweeps.grid("lecun_normal", depth=2, width=6, batch=8, seeds=1)[0]
    failure = _failure(config, ValueError("boom"))[0]
    record = {k: v for k, v in records[0].items() if k not in ("hist", "bin_edges")}
    path = tmp_path / f"s{suffix}"
    write_records(path, [record, failure])
    back = read_records(path)
    assert back[1]["layer"] is None and back[1]["error"] == "ValueError: boom"
    assert back[0]["stream"] == record["stream"] and back[1]["stream"] is not None
    old = tmp_path / f"old{suffix}"
    if suffix == ".csv":
        text = path.read_text().splitlines()
        column = text[0].split(",").index("stream")
        rows = [line.split(",") for line in text[:2]]  # the header and the first record
        rows[1][column] = ""
        old.write_text("\n".join(",".join(r) for r in rows) + "\n")
    else:
        row = json.loads(path.read_text().splitlines()[0])
        del row["stream"]
        old.write_text(json.dumps(row) + "\n")
    (first,) = read_records(old)
    assert first["stream"] is None and first["layer"] == record["layer"]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_a_trailing_slash_names_the_same_place(tmp_path, records, suffix):
    """"out.parquet/" (a folder, as a shell completes it) is the Parquet folder out.parquet;
    the suffix is read from the name without its trailing separators."""
    path = str(tmp_path / f"s{suffix}")
    if suffix == ".parquet":
        check_out_path(path + "/")
        write_records(path + os.sep, records)
        same_records(read_records(path + "/"), records)
        same_records(read_records(path), records)
    else:
        write_records(path, records)
        same_records(read_records(path), records)


def test_resume_refuses_a_file_of_two_other_stream_versions_by_name(tmp_path, records):
    """Rows without a stream version (fastinit 0.3) beside rows of another version: one clear
    ValueError (not a TypeError from sorting None beside text), naming the same one always."""
    rows = [dict(r, stream=None) for r in records[:2]] + \
        [dict(r, stream="philox4x32-10/0") for r in records[2:4]]
    for order in (rows, rows[::-1]):
        with pytest.raises(ValueError, match="was written with stream version philox4x32-10/0"):
            check_resumable(tmp_path / "s.csv", order, [], OPTIONS)


def test_a_parquet_part_is_written_beside_its_folder_not_in_the_working_directory(
        tmp_path, records, monkeypatch):
    """The part's temporary is in the folder it is renamed into (the rename is then atomic
    on one filesystem), whatever the working directory."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    renamed = []
    replace = os.replace
    monkeypatch.setattr(os, "replace", lambda src, dst: renamed.append((src, dst)) or
                        replace(src, dst))
    folder = tmp_path / "s.parquet"
    write_records(folder, records)
    assert renamed and all(os.path.dirname(os.path.abspath(src)) == str(folder) ==
                           os.path.dirname(dst) for src, dst in renamed)
    assert list(elsewhere.iterdir()) == []

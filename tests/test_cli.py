"""The command line as a user runs it: `python -m fastinit ...` in a subprocess."""
import csv
import json
import os
import re
import signal
import subprocess
import sys

import numpy as np
import pytest

import fastinit
from fastinit import sweep as sweeps

from conftest import fastinit_cli, same_records




def test_run_json_is_the_engine_result(tmp_path):
    out = fastinit_cli("run", "--init", "he_normal", "--activation", "relu", "--layers", "64x4",
                       "--batch", 100, "--seed", 3, "--format", "json", cwd=tmp_path).stdout
    data = json.loads(out)
    assert data["config"]["init"] == "he_normal" and data["config"]["layers"] == [64] * 4
    expected = fastinit.forward_prop([64] * 4, "he_normal", activation="relu", batch=100,
                                     rng=3, keep_activations=False)
    assert [row["layer"] for row in data["layers"]] == [1, 2, 3, 4]
    for row, layer in zip(data["layers"], expected.layers):
        assert set(row) == {"layer", "mean", "std", "min", "max", "saturated", "dead"}
        assert (row["mean"], row["std"], row["dead"]) == (layer.mean, layer.std, layer.dead)
        assert row["saturated"] is None  # ReLU has no saturation: null, not NaN


def test_run_theory_csv_and_table(tmp_path):
    out = fastinit_cli("run", "--init", "normal:std=0.05", "--layers", "100,80", "--batch", 200,
                       "--theory", "--format", "csv", cwd=tmp_path).stdout
    rows = list(csv.DictReader(out.splitlines()))
    assert len(rows) == 2 and "predicted_std" in rows[0]
    assert float(rows[0]["std"]) == pytest.approx(float(rows[0]["predicted_std"]), rel=0.1)
    table = fastinit_cli("run", "--layers", "50x3", "--batch", 60, cwd=tmp_path).stdout
    assert table.splitlines()[0].split()[:3] == ["layer", "mean", "std"]
    assert len(table.splitlines()) == 4


def test_run_plot_writes_a_figure(tmp_path):
    plt = pytest.importorskip("matplotlib.pyplot")
    fastinit_cli("run", "--layers", "50x3", "--batch", 60, "--plot", "run.png", "--quiet",
                 cwd=tmp_path)
    image = plt.imread(tmp_path / "run.png")
    assert image.shape[1] > 400 and (image[..., :3] < 0.5).mean() > 0.01


@pytest.mark.parametrize("args, message", [
    (["run", "--init", "nope"], "unknown initializer"),
    (["run", "--layers", "0x3"], "width must be >= 1"),
    (["run", "--layers", "abc"], "layers"),
    (["run", "--activation", "swish"], "unknown activation"),
    (["run", "--batch", "0"], "batch"),
    (["run", "--dtype", "float16"], "invalid choice"),
    (["run", "--bogus"], "unrecognized arguments"),
    (["sweep", "--init", "he_normal", "--out", "x.txt"], "must end in .csv, .jsonl or .parquet"),
    (["sweep", "--out", "x.csv"], "needs --init"),
    (["sweep", "--init", "he_normal", "--depth", "two", "--out", "x.csv"], "depth"),
    (["sweep", "--init", "he_normal"], "--out"),
    (["sweep", "--init", "he_normal", "--out", "x.csv", "--workers", "2", "--scheduler",
      "tcp://x:1"], "not allowed with"),
    (["sweep", "--init", "he_normal", "--out", "x.csv", "--config", "missing.toml"],
     "--config"),
    (["phase", "--activation", "swish"], "unknown activation"),
    (["bench", "--widths", "a,b"], "--widths"),
    ([], "usage"),
])
def test_bad_usage_exits_2_with_one_line(tmp_path, args, message):
    result = fastinit_cli(*args, cwd=tmp_path, check=False)
    assert result.returncode == 2
    assert message in result.stderr or message in result.stdout
    assert "Traceback" not in result.stderr
    if args:
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "x.csv").exists()


GRID = ["--init", "lecun_normal,normal:std=0.01|1", "--activation", "tanh,relu",
        "--depth", "2,3", "--width", "16", "--batch", "20", "--seeds", "2"]


def test_sweep_writes_every_row_with_the_documented_columns(tmp_path):
    out = fastinit_cli("sweep", *GRID, "--out", "s.csv", cwd=tmp_path).stdout
    assert "24 configurations" in out and "none failed" in out
    with open(tmp_path / "s.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 12 * 2 + 12 * 3
    assert list(rows[0])[:14] == ["init", "activation", "depth", "width", "batch", "dtype",
                                  "seed", "layer", "mean", "std", "min", "max", "saturated",
                                  "dead"]
    expected = sweeps.sweep(init=["lecun_normal", "normal:std=0.01|1"],
                            activation=["tanh", "relu"], depth=[2, 3], width=16, batch=20,
                            seeds=2)
    same_records(sweeps.read_records(tmp_path / "s.csv"), expected.records)


def test_sweep_config_file_and_flags_override_it(tmp_path):
    (tmp_path / "grid.toml").write_text(
        'init = ["he_normal", "xavier_normal"]\nactivation = "relu"\ndepth = [2]\n'
        'width = [8, 12]\nbatch = 10\nseeds = 2\n')
    fastinit_cli("sweep", "--config", "grid.toml", "--width", "8", "--out", "s.jsonl",
                 "--quiet", cwd=tmp_path)
    records = sweeps.read_records(tmp_path / "s.jsonl")
    assert len(records) == 2 * 1 * 2 * 2  # inits x widths x seeds x layers
    assert {r["width"] for r in records} == {8} and {r["activation"] for r in records} == \
        {"relu"}
    (tmp_path / "bad.toml").write_text("init = [\n")
    result = fastinit_cli("sweep", "--config", "bad.toml", "--out", "s.csv", cwd=tmp_path,
                          check=False)
    assert result.returncode == 2 and "not valid TOML" in result.stderr


def test_sweep_with_a_failing_configuration_exits_1_and_keeps_the_rest(tmp_path):
    result = fastinit_cli("sweep", "--init", "he_normal,normal:std=-1", "--depth", "2",
                          "--width", "8", "--batch", "4", "--out", "s.csv", cwd=tmp_path,
                          check=False)
    assert result.returncode == 1 and "1 failed" in result.stdout
    records = sweeps.read_records(tmp_path / "s.csv")
    assert len(records) == 3 and sum(bool(r["error"]) for r in records) == 1


DIE_AFTER_WRITES = """
import os, signal, sys
from fastinit import cli
from fastinit.sweep import result_files
write, writes = result_files.ResultFile.write, []
def write_then_die(self, records):
    # the test seam: the 40th configuration's rows are torn in half, then the process is killed
    writes.append(1)
    if len(writes) == 40:
        text = result_files._format(records, self.suffix, self.histograms)
        cut = len(text) // 2
        cut += text[cut - 1] == chr(10)  # rows of one length: half may end on a newline
        self.file.write(text[:cut])
        self.file.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    write(self, records)
result_files.ResultFile.write = write_then_die
sys.exit(cli.main(sys.argv[1:]))
"""


def kill_a_sweep(script, out, seeds, tmp_path):
    """Run the CLI's sweep of ``seeds`` lecun_normal 32 x 8 networks to ``out`` under a seam
    ``script`` that kills it with SIGKILL; returns its arguments."""
    grid = ["--init", "lecun_normal", "--depth", "8", "--width", "32", "--batch", "50",
            "--seeds", str(seeds), "--threads", "2", "--out", out, "--quiet"]
    process = subprocess.run([sys.executable, "-c", script, "sweep", *grid],
                             cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert process.returncode == -signal.SIGKILL, process.stderr
    return grid


def resume_holds_every_row_once(grid, seeds, tmp_path):
    fastinit_cli("sweep", *grid, "--resume", cwd=tmp_path)
    expected = sweeps.sweep(init="lecun_normal", depth=8, width=32, batch=50, seeds=seeds)
    same_records(sweeps.read_records(tmp_path / grid[-2]), expected.records)


def test_sweep_killed_with_sigkill_is_repaired_by_resume(tmp_path):
    grid = kill_a_sweep(DIE_AFTER_WRITES, "s.jsonl", 100, tmp_path)
    text = (tmp_path / "s.jsonl").read_text()
    # 39 configurations whole, the 40th torn inside its rows
    assert 39 * 8 <= text.count("\n") < 40 * 8 and not text.endswith("\n")
    resume_holds_every_row_once(grid, 100, tmp_path)


DIE_IN_A_PART = """
import os, signal, sys
from fastinit import cli
from fastinit.sweep import result_files
result_files.PART_ROWS = 24  # a part every 3 configurations of 8 layers
flush, flushes = result_files.ParquetFolder.flush, []
def flush_then_die(self):
    # the test seam: the 5th part is half written to its temporary, then the process is killed
    flushes.append(1)
    if len(flushes) == 5:
        name = os.path.join(self.path, f"part-{self.part:06d}.parquet.tmp")
        with open(name, "wb") as f:
            f.write(b"PAR1" + bytes(100))
        os.kill(os.getpid(), signal.SIGKILL)
    flush(self)
result_files.ParquetFolder.flush = flush_then_die
sys.exit(cli.main(sys.argv[1:]))
"""


def test_parquet_sweep_killed_with_sigkill_is_repaired_by_resume(tmp_path):
    pytest.importorskip("pyarrow")
    grid = kill_a_sweep(DIE_IN_A_PART, "s.parquet", 60, tmp_path)
    folder = tmp_path / "s.parquet"
    assert sorted(p.name for p in folder.iterdir()) == [
        *(f"part-{i:06d}.parquet" for i in range(4)), "part-000004.parquet.tmp"]
    assert len(sweeps.read_records(folder)) == 4 * 24  # four whole parts, nothing torn
    resume_holds_every_row_once(grid, 60, tmp_path)
    assert not any(p.name.endswith(".tmp") for p in folder.iterdir())


def test_sweep_on_a_local_dask_cluster_gives_the_same_rows(tmp_path):
    pytest.importorskip("dask.distributed")
    dask_run = fastinit_cli("sweep", *GRID, "--workers", "2", "--out", "d.csv", "--quiet",
                            cwd=tmp_path)
    # a clean run shuts down quietly: no "Removing worker ... lose already computed task(s)"
    assert "lose" not in dask_run.stderr and "Removing worker" not in dask_run.stderr, \
        dask_run.stderr
    fastinit_cli("sweep", *GRID, "--threads", "1", "--out", "l.csv", "--quiet", cwd=tmp_path)
    same_records(sweeps.read_records(tmp_path / "d.csv"),
                 sweeps.read_records(tmp_path / "l.csv"))


def test_sweep_figures(tmp_path):
    plt = pytest.importorskip("matplotlib.pyplot")
    fastinit_cli("sweep", *GRID, "--out", "s.csv", "--plot", "overlay.png", "--heatmap",
                 "heat.png", "--quiet", cwd=tmp_path)
    for name in ("overlay.png", "heat.png"):
        image = plt.imread(tmp_path / name)
        assert image.shape[0] > 200 and image.shape[1] > 200
        # coloured pixels: dots or cells, not blank (a 3-layer overlay is a few dozen dots)
        ink = image[..., :3].std(axis=2) > 0.05
        assert ink.mean() > 0.002, name


def test_phase_finds_the_critical_points(tmp_path):
    data = json.loads(fastinit_cli("phase", "--activation", "tanh", "--grid", 41, "--w-max", 4,
                                   "--b-max", 0.4, "--format", "json", cwd=tmp_path).stdout)
    line = data["critical_line"]
    assert line[0]["sigma_b2"] == 0 and line[0]["critical_sigma_w2"] == pytest.approx(1, abs=0.02)
    critical = [row["critical_sigma_w2"] for row in line]
    assert all(np.diff(critical) > 0)  # bias moves the edge of chaos to larger weights
    relu = json.loads(fastinit_cli("phase", "--activation", "relu", "--b-max", 0, "--grid", 40,
                                   "--format", "json", cwd=tmp_path).stdout)
    assert relu["critical_line"][0]["critical_sigma_w2"] == pytest.approx(2, abs=0.05)


def test_phase_plot(tmp_path):
    plt = pytest.importorskip("matplotlib.pyplot")
    fastinit_cli("phase", "--grid", 24, "--plot", "phase.png", cwd=tmp_path)
    image = plt.imread(tmp_path / "phase.png")
    assert (image[..., :3].std(axis=2) > 0.05).mean() > 0.1


def test_bench_states_its_workload_and_explains_its_columns(tmp_path):
    result = fastinit_cli("bench", "--widths", "32,64", "--depth", 2, "--batch", 50,
                          "--repeats", 1, cwd=tmp_path)
    out = result.stdout.splitlines()
    assert out[0].startswith("workload: 2 tanh layers per width, batch 50, lecun_normal")
    assert "threads; BLAS" in out[0]
    columns = ["dtype", "width", "fastinit_ms", "numpy_ms", "reference_ms", "vs_numpy",
               "vs_reference"]
    assert out[1].split() == columns
    rows = [line.split() for line in out[2:6]]
    assert [r[:2] for r in rows] == [["float64", "32"], ["float64", "64"], ["float32", "32"],
                                     ["float32", "64"]]
    for row in rows:  # times and ratios rounded to two decimals
        assert all(float(v) > 0 and float(v) == round(float(v), 2) for v in row[2:]), row
    # the reference's first-call imports are not billed to the first row: each reference
    # call costs about the same per unit of work (a row 20x another's would be the imports)
    per_unit = [float(r[4]) / (int(r[1]) ** 2 * 50 + 1e5) for r in rows]
    assert max(per_unit) < 20 * min(per_unit), rows
    explained = [line.split(":")[0].strip() for line in out[6:]]
    assert explained == columns
    # on stderr: how long it will take, then progress, one line per timed case with the time
    # so far (issue 26: the bench ran 18 minutes saying nothing)
    lines = result.stderr.splitlines()
    assert re.fullmatch(r"  about \d+ s on this machine \.\.\.", lines[0]), lines[0]
    assert [line.split("]")[0] for line in lines[1:]] == ["  [1/4", "  [2/4", "  [3/4", "  [4/4"]
    assert all(re.search(r"\(\d+ s so far\)$", line) for line in lines[1:])


def test_bench_estimate_scales_with_the_work(monkeypatch):
    from fastinit.cli import bench as timing
    # one timed call at the largest width, then width**2 scaling: wider rows, more seconds
    small = timing.estimate_seconds([16, 32], depth=2, batch=20, rounds=1)
    large = timing.estimate_seconds([16, 32, 2048], depth=2, batch=20, rounds=1)
    assert 0 < small < large < 60


def test_version(tmp_path):
    assert fastinit.__version__ in fastinit_cli("--version", cwd=tmp_path).stdout


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs a POSIX shell")
def test_console_script_is_installed(tmp_path):
    script = os.path.join(os.path.dirname(sys.executable), "fastinit")
    if not os.path.exists(script):
        pytest.skip("console script not installed in this environment")
    result = subprocess.run([script, "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and "fastinit" in result.stdout


def test_run_input_correlation_prints_measured_and_predicted(tmp_path):
    data = json.loads(fastinit_cli("run", "--layers", "300x3", "--batch", 100,
                                   "--input-correlation", "0.4", "--format", "json",
                                   cwd=tmp_path).stdout)
    for row in data["layers"]:
        assert row["correlation"] == pytest.approx(row["predicted_correlation"], abs=0.03)
    bad = fastinit_cli("run", "--input-correlation", "2", cwd=tmp_path, check=False)
    assert bad.returncode == 2 and "input_correlation must be in" in bad.stderr


def test_python_m_fastinit_from_a_source_folder_explains_itself(tmp_path):
    """From a checkout's root, ``python -m fastinit`` finds the source folder first: after a
    non-editable install it has no compiled kernels, and must say so (not a traceback about a
    partially initialized module); after an editable install it simply works."""
    import shutil
    source = os.path.dirname(fastinit.__file__)
    shutil.copytree(source, tmp_path / "fastinit",
                    ignore=shutil.ignore_patterns("*.so", "*.pyd", "*.c", "__pycache__"))
    result = fastinit_cli("--version", cwd=tmp_path, check=False)
    assert "Traceback" not in result.stderr
    if result.returncode == 0:  # an editable install's finder supplied the kernels
        assert fastinit.__version__ in result.stdout
    else:
        assert result.returncode == 1
        assert "has no compiled kernels (this is the source folder" in result.stderr


# -- issue 25: output paths checked before the run; the report never eats its input ----------

UNWRITABLE = "/sys/kernel"  # a folder even root cannot create files in (sysfs)


def cli_main(capsys, *args):
    from fastinit import cli
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("args", [
    ["run", "--layers", "8x2", "--batch", 4, "--plot", f"{UNWRITABLE}/run.png"],
    ["sweep", "--init", "he_normal", "--depth", 2, "--width", 4, "--batch", 4, "--out",
     f"{UNWRITABLE}/s.csv"],
    ["sweep", "--init", "he_normal", "--depth", 2, "--width", 4, "--batch", 4, "--out",
     "s.csv", "--plot", f"{UNWRITABLE}/std.png"],
    ["sweep", "--init", "he_normal", "--depth", 2, "--width", 4, "--batch", 4, "--out",
     "s.csv", "--heatmap", f"{UNWRITABLE}/heat.png"],
    ["demo", "--out", UNWRITABLE],
    ["phase", "--grid", 4, "--plot", f"{UNWRITABLE}/phase.png"],
])
def test_an_unwritable_output_folder_is_usage_before_the_run(tmp_path, capsys, monkeypatch,
                                                               args):
    import tempfile
    with pytest.raises(OSError):
        tempfile.NamedTemporaryFile(dir=UNWRITABLE)  # the premise, as root too
    monkeypatch.chdir(tmp_path)
    from fastinit import propagation
    monkeypatch.setattr(propagation, "forward_prop", lambda *a, **k: pytest.fail("ran"))
    code, _, err = cli_main(capsys, *args)
    assert code == 2 and err.count("\n") == 1 and "cannot write in /sys/kernel" in err, err


def test_report_refuses_to_overwrite_its_input_or_a_foreign_file(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    results = tmp_path / "s.csv"
    sweeps.sweep(init="he_normal", depth=2, width=4, batch=4, seeds=2, out=results)
    before = results.read_bytes()
    code, _, err = cli_main(capsys, "report", results, "--out", results)
    assert code == 2 and "is the results file itself" in err
    assert results.read_bytes() == before
    notes = tmp_path / "notes.html"
    notes.write_text("<html>my notes</html>")
    code, _, err = cli_main(capsys, "report", results, "--out", notes)
    assert code == 2 and "exists and is not a fastinit report" in err and "--force" in err
    assert notes.read_text() == "<html>my notes</html>"
    assert cli_main(capsys, "report", results, "--out", notes, "--force", "--quiet")[0] == 0
    page = notes.read_text()
    assert "my notes" not in page and 'name="generator" content="fastinit"' in page
    assert cli_main(capsys, "report", results, "--out", notes, "--quiet")[0] == 0  # ours: ok


def test_report_of_a_folder_and_a_toml_boolean_bias_are_usage(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    (tmp_path / "folder.csv").mkdir()
    code, _, err = cli_main(capsys, "report", tmp_path / "folder.csv", "--out",
                            tmp_path / "r.html")
    assert code == 2 and "is a folder" in err and err.count("\n") == 1
    grid = tmp_path / "grid.toml"
    grid.write_text('init = ["he_normal"]\ndepth = [2]\nwidth = [4]\nbatch = [4]\n'
                    'bias = [true]\n')
    code, _, err = cli_main(capsys, "sweep", "--config", grid, "--out", tmp_path / "s.csv")
    assert code == 2 and "bias must be a number or an initializer spec, got True" in err


def test_ctrl_c_on_a_dask_sweep_prints_one_line_and_exits_130(tmp_path):
    pytest.importorskip("dask.distributed")
    import time
    # Ctrl-C at a terminal signals the whole foreground process group: the CLI and its
    # cluster's worker processes alike
    process = subprocess.Popen(
        [sys.executable, "-m", "fastinit", "sweep", "--init", "lecun_normal", "--depth", "10",
         "--width", "500", "--seeds", "400", "--workers", "2", "--out", "s.csv"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:  # until a row is written
        if (tmp_path / "s.csv").exists() and (tmp_path / "s.csv").stat().st_size > 400:
            break
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGINT)
    sent = time.monotonic()
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    # one line: neither a traceback nor Dask's own log lines (its workers' "Async instruction
    # ... ended with CancelledError" warnings, or a heartbeat's traceback as the scheduler
    # closes)
    assert err.splitlines() == ["fastinit: interrupted"], err
    assert time.monotonic() - sent < 20


@pytest.mark.parametrize("command", [
    ["sweep", "--init", "lecun_normal", "--depth", "10", "--width", "500", "--seeds", "400",
     "--out", "s.csv"],
    ["run", "--layers", "3000x30", "--batch", "2000", "--dtype", "float32", "--quiet"],
], ids=["sweep", "run"])
def test_ctrl_c_in_the_local_process_exits_130(tmp_path, command):
    # issue 34: the shell's convention for a command ended by SIGINT is 128 + 2 = 130; one
    # line on stderr, no traceback, within a few seconds, for the commands without a cluster
    import time
    process = subprocess.Popen([sys.executable, "-m", "fastinit", *command], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    time.sleep(0.5)
    deadline = time.monotonic() + 60
    # once the kernels run: the package imported and the work begun (a sweep writes rows)
    while time.monotonic() < deadline and process.poll() is None:
        if command[0] == "run" or (tmp_path / "s.csv").exists():
            break
        time.sleep(0.1)
    time.sleep(1.5 if command[0] == "run" else 0.3)
    assert process.poll() is None, process.communicate()
    os.killpg(process.pid, signal.SIGINT)
    sent = time.monotonic()
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert time.monotonic() - sent < 10


def test_report_of_a_grid_file_names_the_argument_the_user_gave(tmp_path):
    # issue 29: `fastinit report grid.toml` blamed an argument called "out"
    (tmp_path / "grid.toml").write_text('init = ["lecun_normal"]\n')
    result = fastinit_cli("report", "grid.toml", cwd=tmp_path, check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "FILE must be a sweep's result file (.csv, .jsonl, or a .parquet folder), got " \
        "'grid.toml'" in result.stderr
    assert "fastinit sweep --config grid.toml" in result.stderr and "out" not in \
        result.stderr.split("got")[0]


def test_sweep_off_a_terminal_prints_a_progress_line_now_and_then(tmp_path, monkeypatch,
                                                                   capsys):
    # issue 29: a 31 s sweep printed nothing when stderr was not a terminal. Off a terminal
    # (capsys is not one) the CLI prints a line every PROGRESS_SECONDS: 0 here, so every
    # network but the last gives one
    from fastinit import cli
    from fastinit.sweep import runner
    monkeypatch.setattr(runner, "PROGRESS_SECONDS", 0.0)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["sweep", "--init", "lecun_normal", "--depth", "2", "--width", "4",
                     "--batch", "3", "--seeds", "3", "--threads", "1", "--out", "s.csv"]) == 0
    lines = [l for l in capsys.readouterr().err.splitlines() if l.startswith("sweep: ")]
    assert [l.split(",")[0] for l in lines] == ["sweep: 1/3 networks", "sweep: 2/3 networks"]
    assert all(l.endswith(" s left") for l in lines)
    assert cli.main(["sweep", "--init", "lecun_normal", "--depth", "2", "--width", "4",
                     "--batch", "3", "--seeds", "3", "--out", "q.csv", "--quiet"]) == 0
    assert "sweep:" not in capsys.readouterr().err
    monkeypatch.setattr(runner, "PROGRESS_SECONDS", 3600.0)  # a short sweep: silent
    assert cli.main(["sweep", "--init", "lecun_normal", "--depth", "2", "--width", "4",
                     "--batch", "3", "--seeds", "3", "--out", "r.csv"]) == 0
    assert "sweep:" not in capsys.readouterr().err

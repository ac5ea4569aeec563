"""fastinit trainability (issue 33): the grid, its result file and resume, the 6 xi_c
bookkeeping and the figure."""
import csv
import math

import numpy as np
import pytest

from fastinit import theory
from fastinit.sweep import trainability as tr

pytest.importorskip("sklearn")
SMALL = dict(width=24, steps=40, lr=0.01)


def test_cells_are_the_trainer_run_alone_and_xi_c_is_the_theorys(tmp_path):
    import fastinit
    from fastinit.initializers import get_initializer
    out = tmp_path / "grid.csv"
    result = tr.trainability([1.2, 2.5], [2, 5], out=str(out), num_threads=2, **SMALL)
    assert len(result.rows) == 4
    for row in result.rows:
        alone = fastinit.train(
            [24] * row["depth"], get_initializer("variance_scaling", scale=row["sigma_w2"],
                                                 distribution="untruncated_normal"),
            bias=get_initializer("normal", std=math.sqrt(0.05)), steps=40, lr=0.01, rng=0,
            dtype="float32", eval_every=40, num_threads=1)
        assert row["accuracy"] == alone.final_test_accuracy  # on a pool thread, same bits
        assert row["xi_c"] == pytest.approx(float(
            theory.depth_scale_correlation(row["sigma_w2"], 0.05, "tanh")), rel=1e-12)
    with open(out) as f:
        assert len(list(csv.DictReader(f))) == 4


def test_resume_runs_only_what_is_missing_and_refuses_other_settings(tmp_path, monkeypatch):
    out = str(tmp_path / "grid.csv")
    first = tr.trainability([1.5], [2, 3], out=out, **SMALL)
    with open(out) as f:
        lines = f.readlines()
    with open(out, "w") as f:  # a run killed after its first network, mid-line
        f.writelines(lines[:2] + [lines[2][:10]])
    calls = []
    original = tr._cell
    monkeypatch.setattr(tr, "_cell", lambda *a: calls.append(a[:2]) or original(*a))
    again = tr.trainability([1.5], [2, 3], out=out, resume=True, **SMALL)
    done = int(lines[1].split(",")[2])  # the depth of the one whole line kept
    assert calls == [(1.5, 5 - done)]    # only the other depth runs again
    assert [r["accuracy"] for r in again.rows] == [r["accuracy"] for r in first.rows]
    with pytest.raises(ValueError, match="other settings"):
        tr.trainability([1.5], [2, 3], out=out, resume=True, width=25, steps=40, lr=0.01)


def test_fractions_count_cells_on_each_side_of_six_xi_c():
    rows = [dict(sigma_w2=1.0, depth=d, accuracy=a, xi_c=5.0, sigma_b2=0.05)
            for d, a in [(10, 0.9), (29, 0.4), (30, 0.9), (60, 0.1)]]
    # 6 xi_c = 30: depths 10 and 29 are below (one trained), 30 and 60 at or above (one)
    assert tr.Trainability(rows).fractions() == {"below": (1, 2), "above": (1, 2)}


def test_the_figure_shows_the_grid_and_the_curve():
    pytest.importorskip("matplotlib")
    rows = [dict(sigma_w2=w, depth=d, accuracy=(w + d) / 100, xi_c=float(
        theory.depth_scale_correlation(w, 0.05, "tanh")), sigma_b2=0.05, width=100, steps=10)
        for w in (1.0, 1.5, 2.0) for d in (4, 8, 16)]
    result = tr.Trainability(rows)
    fig = result.plot()
    ax = fig.axes[0]
    mesh = ax.collections[0]
    np.testing.assert_allclose(np.asarray(mesh.get_array()).reshape(3, 3), result.accuracy())
    assert result.accuracy()[0, 2] == pytest.approx((2.0 + 4) / 100)  # depth 4, sigma 2
    curve = ax.lines[0]
    xs = np.asarray(curve.get_xdata())
    i = np.argmin(abs(xs - 1.5))
    expected = 6 * float(theory.depth_scale_correlation(xs[i], 0.05, "tanh"))
    assert curve.get_ydata()[i] == pytest.approx(min(expected, 32))
    assert "6 xi_c" in ax.get_legend().get_texts()[0].get_text()


def test_cells_on_a_process_pool_or_a_dask_cluster_are_the_local_bits():
    import concurrent.futures
    import multiprocessing
    local = tr.trainability([1.2, 2.5], [2, 3], num_threads=2, **SMALL)
    context = multiprocessing.get_context("spawn")  # no fork after OpenMP threads started
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=context) as pool:
        pooled = tr.trainability([1.2, 2.5], [2, 3], executor=pool, **SMALL)
    assert pooled.rows == local.rows

    class Counting(concurrent.futures.ThreadPoolExecutor):
        submitted = 0

        def submit(self, *args, **kwargs):
            Counting.submitted += 1
            return super().submit(*args, **kwargs)

    with Counting(2) as pool:
        assert tr.trainability([1.2, 2.5], [2, 3], executor=pool, **SMALL).rows == local.rows
    assert Counting.submitted == 4  # every cell ran on the executor given
    with pytest.raises(TypeError, match="executor"):
        tr.trainability([1.2], [2], executor=object(), **SMALL)


def test_the_trainability_command_writes_the_file_the_figure_and_the_report(tmp_path):
    from conftest import fastinit_cli
    pytest.importorskip("matplotlib")
    args = ["trainability", "--sigma-w2", "1.2,2.5", "--depths", "2,3", "--width", 24,
            "--steps", 40, "--lr", 0.01]
    out, png, page = tmp_path / "t.csv", tmp_path / "t.png", tmp_path / "t.html"
    result = fastinit_cli(*args, "--out", out, "--plot", png, "--report", page, "--workers", 2)
    assert "below 6 xi_c" in result.stdout and str(page) in result.stdout
    with open(out) as f:
        rows = list(csv.DictReader(f))
    local = tr.trainability([1.2, 2.5], [2, 3], **SMALL)
    # on a local Dask cluster, the same bits as here
    assert sorted((float(r["sigma_w2"]), int(r["depth"]), float(r["accuracy"])) for r in rows) \
        == [(r["sigma_w2"], r["depth"], r["accuracy"]) for r in local.rows]
    assert png.stat().st_size > 10_000
    text = page.read_text()
    assert "<h2>Trainability against depth</h2>" in text and text.count("<img") == 1
    counts = local.fractions()
    assert (f"below the curve</b>: {counts['below'][0]} of {counts['below'][1]} networks "
            "trained") in text
    assert f"at or above it</b>: {counts['above'][0]} of {counts['above'][1]} " in text
    cells = text.split("every network")[1].split("</table>")[0]
    assert cells.count("<tr>") == 1 + 4  # the header and every cell
    again = fastinit_cli(*args, "--out", out, check=False)
    assert again.returncode == 2 and "--resume" in again.stderr
    bad = fastinit_cli(*args, "--out", tmp_path / "u.csv", "--workers", 0, check=False)
    assert bad.returncode == 2 and "--workers" in bad.stderr and "Traceback" not in bad.stderr

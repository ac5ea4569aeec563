"""The study report: `fastinit report` and `fastinit demo --report` write one self-contained
HTML page. It is opened in a real headless browser (Chromium, driven by Playwright): the page
loads with no console error, every image decodes and renders, and a screenshot is not blank.
.ci/run installs Chromium from the system packages; elsewhere these tests skip, saying why."""
import base64
import os
import re
import shutil

import pytest

from conftest import fastinit_cli

pytest.importorskip("matplotlib")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def skip_or_fail(reason):
    """CI sets FASTINIT_REQUIRE_BROWSER: there a missing browser is a failure, not a skip."""
    if os.environ.get("FASTINIT_REQUIRE_BROWSER"):
        pytest.fail(reason)
    pytest.skip(reason)


def open_in_browser(path, screenshot):
    """(console errors, [(alt, naturalWidth, naturalHeight, rendered width)], page text)."""
    try:
        import playwright.sync_api as playwright
    except ImportError:
        skip_or_fail("needs playwright (pip install playwright)")
    if CHROMIUM is None:
        skip_or_fail("needs Chromium (apt-get install chromium)")
    errors = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
        page.goto(path.as_uri(), wait_until="load")
        images = page.evaluate("""() => Array.from(document.images).map(i =>
            [i.alt, i.complete ? i.naturalWidth : 0, i.naturalHeight,
             i.getBoundingClientRect().width])""")
        text = page.inner_text("body")
        page.screenshot(path=str(screenshot), full_page=True)
        browser.close()
    return errors, images, text


def not_blank(png):
    import matplotlib.image
    image = matplotlib.image.imread(png)[..., :3]
    return image.shape[0] > 500 and (image.std(axis=2) > 0.05).mean() > 0.01


def test_sweep_report_renders_in_a_browser(tmp_path):
    fastinit_cli("sweep", "--init", "lecun_normal,normal:std=0.01", "--activation", "tanh,relu",
                 "--depth", "3,5", "--width", "16,32", "--batch", 30, "--seeds", 2,
                 "--out", "s.csv", "--quiet", cwd=tmp_path)
    out = fastinit_cli("report", "s.csv", "--out", "r.html", cwd=tmp_path).stdout
    assert out.strip() == "wrote r.html"
    html = (tmp_path / "r.html").read_text()
    # self-contained: every image is inline data, nothing is fetched
    sources = re.findall(r'<img src="([^"]+)"', html)
    assert len(sources) == 2 and all(s.startswith("data:image/png;base64,") for s in sources)
    assert base64.b64decode(sources[0].split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<script" not in html and "http" not in html.replace("http-equiv", "")
    errors, images, text = open_in_browser(tmp_path / "r.html", tmp_path / "shot.png")
    assert errors == []
    assert len(images) == 2
    for alt, width, height, shown in images:
        assert width > 300 and height > 200 and shown > 300, alt
    # the page names the grid, the seeds, the versions, and tabulates every network
    for needed in ("lecun_normal, normal:std=0.01", "tanh, relu", "2 (0 .. 1)", "numpy",
                   "16 configurations, 32 networks"):
        assert needed in text, needed
    assert not_blank(tmp_path / "shot.png")


def test_demo_report_renders_in_a_browser(tmp_path):
    fastinit_cli("demo", "--out", "d", "--report", "--quiet", cwd=tmp_path)
    errors, images, text = open_in_browser(tmp_path / "d" / "report.html",
                                           tmp_path / "shot.png")
    assert errors == []
    assert len(images) == 7  # the comparison, then one figure per network
    assert all(width > 300 and shown > 300 for _, width, _, shown in images)
    assert images[0][0].startswith("Forward std, saturated share and backward gradient std")
    assert "Findings" in text and "91% of values saturated from layer 1" in text
    assert "xavier_normal · relu" in text and "seed 0" in text
    assert not_blank(tmp_path / "shot.png")


def test_report_of_a_missing_or_empty_file_exits_2(tmp_path):
    missing = fastinit_cli("report", "nope.csv", cwd=tmp_path, check=False)
    assert missing.returncode == 2 and "nope.csv: no such file" in missing.stderr
    (tmp_path / "e.csv").write_text("")
    empty = fastinit_cli("report", "e.csv", cwd=tmp_path, check=False)
    assert empty.returncode == 2 and "no completed layer records" in empty.stderr
    assert "Traceback" not in missing.stderr + empty.stderr
    assert not (tmp_path / "report.html").exists()


def test_sweep_report_summary_is_each_configurations_last_layer(tmp_path):
    # issue 34 / the README: the summary table holds each network's last layer; issue 29: one
    # row per configuration, the seeds aggregated (mean, and the std's min and max), not a row
    # per seed. Depths 2 and 5 with different stds per layer: any other layer differs.
    from html import unescape
    import numpy as np
    from fastinit import sweep as sweeps
    from fastinit.cli import report
    result = sweeps.sweep(init=["lecun_normal", "normal:std=1"], depth=[2, 5], width=6,
                          batch=8, seeds=3, progress=False)
    last, first = {}, {}
    for r in result.records:
        key = (r["init"], r["depth"])
        if r["layer"] == r["depth"]:
            last.setdefault(key, []).append(r)
        if r["layer"] == 1:
            first.setdefault(key, []).append(r)
    assert all(f"{np.mean([r['std'] for r in last[k]]):.4g}" !=
               f"{np.mean([r['std'] for r in first[k]]):.4g}" for k in last)
    report.sweep_report(result.records, tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text()
    table = page[page.index("last layer</h2>"):]
    table = table[:table.index("</table>")]
    header = [unescape(h) for h in re.findall(r"<th>(.*?)</th>", table)]
    rows = [[unescape(c) for c in re.findall(r"<td>(.*?)</td>", row)]
            for row in re.findall(r"<tr><td>.*?</tr>", table)]
    assert len(rows) == len(last) == 4
    for row in rows:
        cell = dict(zip(header, row))
        seeds = last[(cell["init"], int(cell["depth"]))]
        stds = [r["std"] for r in seeds]
        assert cell["seeds"] == "3"
        assert cell["std"] == f"{np.mean(stds):.4g}"
        assert (cell["std min"], cell["std max"]) == (f"{min(stds):.4g}", f"{max(stds):.4g}")
        assert cell["mean"] == f"{np.mean([r['mean'] for r in seeds]):.4g}"
        assert cell["saturated"] == f"{np.mean([r['saturated'] for r in seeds]):.4g}"


def test_reports_open_with_findings_computed_from_the_numbers(tmp_path):
    # issue 29: reports conclude; each initialization gets a line saying what happened
    from fastinit import sweep as sweeps
    from fastinit.cli import report
    result = sweeps.sweep(init=["normal:std=0.01", "normal:std=1", "zeros"], depth=8,
                          width=200, batch=100, seeds=2, progress=False)
    report.sweep_report(result.records, tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text()
    findings = re.findall(r"<li><b>(.*?)</b>: (.*?)</li>", page)
    assert [what for what, _ in findings] == ["normal:std=0.01 · tanh", "normal:std=1 · tanh",
                                              "zeros · tanh"]
    small, big, zeros = (line for _, line in findings)
    last = [r["std"] for r in result.records if r["init"] == "normal:std=0.01" and
            r["layer"] == 8]
    assert "collapses to" in small and f"{sum(last) / 2:.1g} by layer 8" in small
    shares = [r["saturated"] for r in result.records if r["init"] == "normal:std=1"]
    assert min(shares) > 0.5 and "saturated from layer 1" in big
    assert zeros.startswith("every activation is exactly 0")


def test_demo_files_feed_the_sweep_report_and_stay_small(tmp_path):
    # issue 29: `report` could not read the demo's own CSV, and the demo page weighed ~900 KB
    fastinit_cli("demo", "--out", "d", "--report", "--quiet", cwd=tmp_path)
    assert (tmp_path / "d" / "report.html").stat().st_size < 400_000
    out = fastinit_cli("report", "d/classic_study.csv", "--out", "s.html", cwd=tmp_path)
    assert out.returncode == 0
    page = (tmp_path / "s.html").read_text()
    assert "<b>normal:std=0.01 · tanh</b>: std 0.21 at layer 1 collapses to" in page
    assert "6 configurations, 6 networks" in page

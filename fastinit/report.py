"""The study report: one self-contained HTML page (figures embedded as PNG, tables, the
configuration, the versions and the seed) that a person opens in a browser and shares.

``fastinit report sweep.csv --out report.html`` writes it for a sweep file; ``fastinit demo
--report`` for the classic study.
"""
import base64
import datetime
import io
import math
from html import escape

from fastinit.results import html_table

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em;
       color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0 1.5em; }
caption { text-align: left; font-weight: bold; padding: 0.3em 0; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: right; }
th { background: #f3f3f3; }
figure { margin: 1em 0; } figcaption { font-size: 0.9em; color: #444; }
img { max-width: 100%; height: auto; }
"""
# The per-configuration summary: the last layer of each network.
SUMMARY_COLUMNS = ("init", "activation", "depth", "width", "batch", "dtype", "bias", "seed",
                   "mean", "std", "predicted_std", "grad_std", "predicted_grad_std")


def png_data_uri(fig):
    """A figure as a ``data:image/png;base64,...`` URI: the page needs no other file."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _versions():
    try:
        from fastinit._config import config
        return config()
    except ImportError:  # no compiled kernels: the versions that need none
        import platform

        import numpy as np

        from fastinit._version import __version__
        return {"fastinit": __version__, "python": platform.python_version(),
                "numpy": np.__version__}


def _definition_list(facts):
    rows = "".join(f"<tr><th>{escape(str(k))}</th><td>{escape(str(v))}</td></tr>"
                   for k, v in facts.items())
    return f"<table>{rows}</table>"


# marks a page as fastinit's: `fastinit report` overwrites such a page without --force
GENERATOR_TAG = '<meta name="generator" content="fastinit">'


def html_page(title, sections, configuration):
    """The page: ``sections`` a list of (heading, [("figure", Figure, caption) |
    ("table", records, columns, caption) | ("text", str)]), then the configuration and the
    versions."""
    parts = [f"<h1>{escape(title)}</h1>",
             f"<p>Written {datetime.datetime.now().isoformat(timespec='seconds')} by fastinit."
             "</p>"]
    for heading, items in sections:
        parts.append(f"<h2>{escape(heading)}</h2>")
        for item in items:
            if item[0] == "figure":
                _, fig, caption = item
                parts.append(f'<figure><img src="{png_data_uri(fig)}" alt="{escape(caption)}">'
                             f"<figcaption>{escape(caption)}</figcaption></figure>")
            elif item[0] == "table":
                _, records, columns, caption = item
                parts.append(html_table(records, columns, caption))
            else:
                parts.append(f"<p>{escape(item[1])}</p>")
    parts += ["<h2>Configuration</h2>", _definition_list(configuration),
              "<h2>Versions</h2>", _definition_list(_versions())]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"{GENERATOR_TAG}"
            f"<title>{escape(title)}</title><style>{STYLE}</style></head>\n<body>\n"
            + "\n".join(parts) + "\n</body></html>\n")


def _grid_values(records):
    """What the sweep swept: each column's distinct values, in first-seen order."""
    values = {}
    for r in records:
        for key in ("init", "activation", "depth", "width", "batch", "dtype", "bias"):
            values.setdefault(key, {})[str(r[key])] = None
    seeds = sorted({r["seed"] for r in records})
    facts = {k: ", ".join(v) for k, v in values.items()}
    facts["seeds"] = f"{len(seeds)} ({seeds[0]} .. {seeds[-1]})" if seeds else "none"
    return facts


def _missing(value):
    return value is None or (isinstance(value, float) and math.isnan(value))


def sweep_report(records, path, source=""):
    """The report of a sweep's records: the per-layer small multiples, the last-layer heatmap,
    the last layer of every configuration as a table, failures, configuration and versions."""
    from fastinit import plot
    done = [r for r in records if not r.get("error") and r.get("layer") is not None]
    if not done:
        raise ValueError("the sweep has no completed layer records to report")
    failed = [r for r in records if r.get("error")]
    order = {key: list(dict.fromkeys(str(r[key]) for r in done)) for key in ("init",
                                                                           "activation")}
    last = sorted((r for r in done if r["layer"] == r["depth"]), key=lambda r: (
        order["init"].index(str(r["init"])), order["activation"].index(str(r["activation"])),
        r["depth"], r["width"], r["batch"], str(r["dtype"]), str(r["bias"]), r["seed"]))
    columns = [c for c in SUMMARY_COLUMNS if any(not _missing(r.get(c)) for r in last)]
    figures = [("figure", plot.sweep_overlay(done), "Per-layer std of the activations: one "
                "panel per initialization and activation, seeds as a band, the mean-field "
                "prediction as a black line."),
               ("figure", plot.sweep_heatmap(done), "The std at each network's last layer "
                "over depth and width (log colour scale).")]
    sections = [("Figures", figures),
                ("Each configuration's last layer",
                 [("table", last, columns, f"{len(last)} networks")])]
    if failed:
        sections.append(("Failed configurations", [
            ("table", failed, ["init", "activation", "depth", "width", "seed", "error"],
             f"{len(failed)} failed")]))
    configuration = {"source": source or "(records)", **_grid_values(done),
                     "networks": len(last), "failed": len(failed)}
    _write(path, html_page("fastinit sweep report", sections, configuration))


def demo_report(runs, comparison, classic, path, configuration):
    """The classic study's report: the comparison figure, each network's figure and table."""
    from fastinit.results import MEASURED
    columns = ["layer", *MEASURED[:3], "predicted_std", "grad_std", "predicted_grad_std"]
    sections = [("All initializations", [("figure", comparison, "Forward std and backward "
                 "gradient std per layer for every initialization; dots measured, lines the "
                 "mean-field prediction.")])]
    for (label, activation, result), fig in zip(runs, classic):
        sections.append((f"{label} · {activation}", [
            ("figure", fig, f"{label}, {activation}: layer mean, std and histograms"),
            ("table", result.to_records(), columns, "per-layer statistics")]))
    _write(path, html_page("fastinit: the classic initialization study", sections,
                           configuration))


def _write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)

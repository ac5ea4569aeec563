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
ul.findings li { margin: 0.3em 0; }
"""
# The per-configuration summary: the last layer of each network, its seeds aggregated (the
# mean, and the std's min and max over seeds).
CONFIG_KEYS = ("init", "activation", "depth", "width", "batch", "dtype", "bias")
SUMMARY_COLUMNS = (*CONFIG_KEYS, "seeds", "std", "std min", "std max", "mean", "saturated",
                   "dead", "predicted_std", "grad_std", "predicted_grad_std")
# the statistics averaged over seeds, per layer, for a configuration's finding and summary
AVERAGED = ("mean", "std", "saturated", "dead", "predicted_std", "grad_std",
            "predicted_grad_std")
# a report's figures are drawn at most this many pixels wide (the page's width) and stored as
# 256-colour PNGs: a page of eight figures weighs a few hundred KB, not a megabyte
PAGE_PIXELS = 1150


def png_data_uri(fig):
    """A figure as a ``data:image/png;base64,...`` URI (the page needs no other file), drawn at
    most PAGE_PIXELS wide and reduced to 256 colours (the figures' flat colours survive)."""
    buffer = io.BytesIO()
    dpi = min(100, PAGE_PIXELS / fig.get_figwidth())
    fig.savefig(buffer, format="png", dpi=dpi)
    try:
        from PIL import Image  # matplotlib's own dependency
        image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
        buffer = io.BytesIO()
        image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(buffer, "PNG",
                                                                         optimize=True)
    except ImportError:
        pass
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
            elif item[0] == "findings":  # [(what, finding)] as a list
                rows = "".join(f"<li><b>{escape(what)}</b>: {escape(finding)}</li>"
                               for what, finding in item[1])
                parts.append(f'<ul class="findings">{rows}</ul>')
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


def configuration_summaries(records):
    """One row per configuration (its seeds aggregated) of completed layer records, in the
    sweep's order: the configuration, ``seeds``, the last layer's statistics averaged over
    seeds (AVERAGED), ``std min`` and ``std max`` over seeds, and ``finding``, computed from
    the per-layer seed averages (fastinit.results.finding)."""
    from fastinit.plot import _mean  # NaN and None left out
    from fastinit.results import finding
    groups = {}
    for r in records:
        key = tuple(str(r[k]) for k in CONFIG_KEYS)
        groups.setdefault(key, {"config": r, "layers": {}})["layers"] \
            .setdefault(r["layer"], []).append(r)
    rows = []
    for group in groups.values():
        layers = [group["layers"][n] for n in sorted(group["layers"])]
        averaged = [{"layer": seeds[0]["layer"],
                     **{k: _mean([s.get(k) for s in seeds]) for k in AVERAGED}}
                    for seeds in layers]
        last = layers[-1]
        stds = [s["std"] for s in last if not _missing(s["std"])]
        config = group["config"]
        line = finding(averaged)
        if stds and min(stds) > 0 and max(stds) > 2 * min(stds):
            line += (f"; seeds differ: std {min(stds):.2g} to {max(stds):.2g} at layer "
                     f"{last[0]['layer']}")
        rows.append({**{k: config[k] for k in CONFIG_KEYS}, "seeds": len(last),
                     **averaged[-1], "std min": min(stds) if stds else math.nan,
                     "std max": max(stds) if stds else math.nan, "finding": line})
    return rows


def sweep_report(records, path, source=""):
    """The report of a sweep's records: a finding per configuration, the per-layer small
    multiples, the last-layer heatmap, a table of each configuration's last layer (mean and
    range over seeds), failures, configuration and versions."""
    from fastinit import plot
    done = [r for r in records if not r.get("error") and r.get("layer") is not None]
    if not done:
        raise ValueError("the sweep has no completed layer records to report")
    failed = [r for r in records if r.get("error")]
    summaries = configuration_summaries(done)
    columns = [c for c in SUMMARY_COLUMNS if any(not _missing(r.get(c)) for r in summaries)]
    seeds = len({r["seed"] for r in done})
    varying = [k for k in _varying(summaries) if k not in ("init", "activation")]
    findings = [(" · ".join([str(r["init"]), str(r["activation"])] +
                            [f"{k} {r[k]}" for k in varying]), r["finding"])
                for r in summaries]
    figures = [("figure", plot.sweep_overlay(done), "Per-layer std of the activations: one "
                "panel per initialization and activation on one log scale, seeds as a band, "
                "the mean-field prediction as a black line."),
               ("figure", plot.sweep_heatmap(done), "The std at each network's last layer "
                "over depth and width (log colour scale, clipped to the informative range).")]
    sections = [("Findings", [("text", f"Averaged over {seeds} seed"
                                       f"{'s' * (seeds != 1)}:"), ("findings", findings)]),
                ("Figures", figures),
                ("Each configuration's last layer",
                 [("table", summaries, columns, f"{len(summaries)} configurations, "
                   f"{len(summaries) and sum(r['seeds'] for r in summaries)} networks: the "
                   "mean over seeds, and the std's min and max over seeds")])]
    if failed:
        sections.append(("Failed configurations", [
            ("table", failed, ["init", "activation", "depth", "width", "seed", "error"],
             f"{len(failed)} failed")]))
    configuration = {"source": source or "(records)", **_grid_values(done),
                     "networks": sum(r["seeds"] for r in summaries), "failed": len(failed)}
    _write(path, html_page("fastinit sweep report", sections, configuration))


def _varying(rows):
    return [k for k in CONFIG_KEYS if len({str(r[k]) for r in rows}) > 1]


def demo_report(runs, comparison, classic, path, configuration, caption=""):
    """The classic study's report: a finding per initialization, the comparison figure, each
    network's figure and table."""
    from fastinit.results import MEASURED
    wanted = ["layer", *MEASURED[:6], "predicted_std", "grad_std", "predicted_grad_std"]
    findings = [(f"{label} · {activation}", result.finding())
                for label, activation, result in runs]
    sections = [("Findings", [("findings", findings)]),
                ("All initializations", [("figure", comparison, caption or (
                    "Forward std, saturated share and backward gradient std per layer for "
                    "every initialization (the note under the panels says how to read "
                    "them)."))])]
    for (label, activation, result), fig in zip(runs, classic):
        records = result.to_records()
        columns = [c for c in wanted if any(not _missing(r.get(c)) for r in records)]
        sections.append((f"{label} · {activation}", [
            ("text", result.finding()),
            ("figure", fig, f"{label}, {activation}: layer mean, std and histograms"),
            ("table", records, columns, "per-layer statistics")]))
    _write(path, html_page("fastinit: the classic initialization study", sections,
                           configuration))


def isometry_section(figure, rows, columns):
    """The report section of the isometry study: what it shows, its figure and its table."""
    return ("Dynamical isometry", [
        ("text", "The singular values of the input-output Jacobian J at several depths: only "
                 "tanh with orthogonal weights keeps them near 1 (Pennington, Schoenholz & "
                 "Ganguli 2017). Measured beside the free-probability prediction."),
        ("figure", figure, "singular values of J per depth, measured (solid) and predicted "
                           "(dashed); the largest singular value against depth"),
        ("table", rows, columns, "mean and variance of J J^T's eigenvalues, measured and "
                                 "predicted")])


def isometry_report(figure, rows, columns, path, configuration):
    """The isometry study as one page."""
    _write(path, html_page("fastinit: dynamical isometry",
                           [isometry_section(figure, rows, columns)], configuration))


TRAINABILITY_COLUMNS = ("sigma_w2", "depth", "xi_c", "accuracy", "loss")


def trainability_section(figure, result):
    """The report section of the trainability study: what it shows, the counts on each side
    of the 6 xi_c curve, its figure and every cell."""
    from fastinit.learning import TRAINED
    counts = result.fractions()
    (b_ok, b_n), (a_ok, a_n) = counts["below"], counts["above"]
    rows = [{**r, "xi_c": round(r["xi_c"], 3)} for r in result.rows]
    return ("Trainability against depth", [
        ("text", "Each cell is one tanh network trained for the same SGD steps on the digits. "
                 "Mean-field theory (Schoenholz, Gilmer, Ganguli & Sohl-Dickstein 2017) says "
                 "a network trains only when its depth is below about 6 xi_c, the depth over "
                 "which two inputs' correlation forgets where it started; xi_c diverges on "
                 "the critical line, where the deepest networks train."),
        ("findings", [("below the curve", f"{b_ok} of {b_n} networks trained (held-out "
                                          f"accuracy at least {TRAINED})"),
                      ("at or above it", f"{a_ok} of {a_n} networks trained")]),
        ("figure", figure, "held-out accuracy over (sigma_w^2, depth), with the curve depth = "
                           "6 xi_c"),
        ("table", rows, TRAINABILITY_COLUMNS, "every network: its xi_c, held-out accuracy "
                                              "and last training loss")])


def trainability_report(figure, result, path, configuration):
    """The trainability study as one page."""
    _write(path, html_page("fastinit: trainability against depth",
                           [trainability_section(figure, result)], configuration))


def _write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)

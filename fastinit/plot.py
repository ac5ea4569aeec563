"""Figures (matplotlib, the ``plot`` extra).

Every function draws on a figure of its own (``matplotlib.figure.Figure``, no pyplot state: safe
in scripts, threads and notebooks, where the returned figure displays itself), writes it to
``path`` when one is given, and returns it.

- ``comparison_figure``: every initialization in one figure, forward std and backward gradient
  std per layer on log axes, measured dots under the mean-field lines (``fastinit demo``'s
  first figure; Glorot & Bengio 2010, Fig. 6-7; CS231n's study).
- ``classic_figure``: one network: layer mean, layer std and a histogram per layer.
- ``sweep_overlay`` and ``sweep_heatmap``: a sweep in small multiples, one panel per
  initialization and activation; seeds shown as a band, never averaged silently.
- ``phase_figure``: the order-to-chaos phase diagram.
"""
import math

# One marker per activation, so that curves differ by more than colour.
MARKERS = {"tanh": "o", "relu": "s", "leaky_relu": "v", "linear": "D", "sigmoid": "^",
           "gelu": "P", "selu": "X", "elu": "<", "swish": ">", "softplus": "h"}
# The swept columns a sweep figure facets or labels by; "seed" is always the band.
FACETS = ("init", "activation")
SERIES = ("depth", "width", "batch", "dtype", "bias")


def require():
    """Check that matplotlib is installed (the ``plot`` extra)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ImportError("figures need matplotlib: pip install '.[plot]' in the fastinit "
                          "checkout") from None


def _figure(width, height):
    require()
    from matplotlib.figure import Figure
    return Figure(figsize=(width, height), layout="constrained")


def _finish(fig, path):
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig


def marker(activation):
    return MARKERS.get(activation, "o")


def _positive(values):
    """Whether every value is finite and > 0: then a log axis can show them all."""
    return all(v is not None and math.isfinite(v) and v > 0 for v in values)


def _std_axis(ax, values):
    """A log axis where the values span more than a decade (a decay or a blow-up), else a linear
    axis from 0, so that sampling noise on a flat curve does not look like structure."""
    values = [v for v in values if v is not None and math.isfinite(v)]
    if values and _positive(values) and max(values) > 10 * min(values):
        ax.set_yscale("log")
    elif values:
        ax.set_ylim(0, 1.15 * max(values) if max(values) > 0 else 1.0)  # all 0: zeros init


def comparison_figure(runs, path=None, subtitle=""):
    """Every initialization in one figure (the CS231n / Glorot & Bengio figure).

    ``runs``: a list of ``(label, activation, Propagation)``, run with ``backward=True`` for the
    second panel. Left: the activations' std per layer; right: the std of the gradient dL/dh
    per layer (back-propagated from a unit-variance dL/dh at the top). Both on log axes, since
    a bad initialization decays or grows geometrically. Dots are measured, lines the mean-field
    prediction (drawn above the dots); a std of exactly 0 (zeros) cannot be shown on a log axis
    and is listed in the legend instead."""
    fig = _figure(12, 5)
    forward, backward = fig.subplots(1, 2, sharex=True)
    colours = [f"C{i}" for i in range(10)]
    for i, (label, activation, result) in enumerate(runs):
        index = [s.layer for s in result.layers]
        for ax, name in ((forward, "std"), (backward, "grad_std")):
            measured = [getattr(s, name) for s in result.layers]
            predicted = [getattr(s, "predicted_" + name) for s in result.layers]
            shown = f"{label} · {activation}"
            shown += "" if _positive(measured) else " (std 0: not drawn)"
            ax.plot(index, measured, linestyle="none", marker=marker(activation), ms=6,
                    color=colours[i % 10], label=shown, zorder=2)
            if _positive(predicted):
                ax.plot(index, predicted, "-", color=colours[i % 10], lw=1.3, zorder=3)
    forward.set_title("forward: std of each layer's activations")
    backward.set_title("backward: std of the gradient dL/dh at each layer")
    forward.set_ylabel("std (log scale)")
    backward.set_ylabel("std of dL/dh (log scale)")
    for ax in (forward, backward):
        ax.set_xlabel("layer")
        ax.set_yscale("log")
        ax.grid(True, which="major", alpha=0.3)
    forward.legend(fontsize=8, loc="lower left", title="dots: measured; lines: mean-field",
                   title_fontsize=8)
    fig.suptitle("Every initialization, one network each" + (f"\n{subtitle}" if subtitle else ""))
    return _finish(fig, path)


def shared_histogram_range(result):
    """The one x-range every layer's histogram of a figure uses, so that a collapse or a
    saturation shows as the study shows it: the engine's bin range (the bounded activation's
    range, or ``hist_range``) joined over the layers, else the kept values' range joined over
    the layers (the exact zeros apart). None when there is nothing to bin."""
    import numpy as np
    los, his = [], []
    for i, stats in enumerate(result.layers):
        edges = np.asarray(stats.bin_edges, np.float64)
        if edges.size >= 2 and np.isfinite(edges[[0, -1]]).all():
            los.append(edges[0]), his.append(edges[-1])
        elif len(result.acts):
            values = np.asarray(result.acts[i], np.float64).ravel()
            values = values[(values != 0) & np.isfinite(values)]
            if values.size:
                los.append(values.min()), his.append(values.max())
    if not los:
        return None
    lo, hi = float(min(los)), float(max(his))
    if lo == hi:
        lo, hi = lo - 0.5 * abs(lo or 1), hi + 0.5 * abs(hi or 1)
    return lo, hi


def _layer_histogram(result, layer, bins=41, span=None):
    """(fractions, edges, zero_fraction) of a layer's activations. The exact zeros (ReLU's dead
    units) are counted apart so that the rest stays visible. From the kept activations when
    there are any (binned over ``span``, the figure's shared range, in an odd number of bins so
    that a symmetric range has one bin centred on 0), else from the engine's
    histogram (its own edges, the zeros taken out of the bin that holds 0)."""
    import numpy as np
    stats = result.layers[layer]
    if len(result.acts):
        values = np.asarray(result.acts[layer], np.float64).ravel()
        nonzero = values[values != 0]
        zeros = 1 - nonzero.size / values.size if values.size else 0.0
        if nonzero.size == 0 or span is None:
            return np.zeros(0), np.zeros(0), zeros
        counts, edges = np.histogram(nonzero, bins, span)
        return counts / values.size, edges, zeros
    counts = stats.hist.astype(np.float64)
    total = counts.sum()
    if not total:
        return counts, stats.bin_edges, 0.0
    zeros = stats.dead if math.isfinite(stats.dead) else 0.0
    edges = stats.bin_edges
    holding_zero = int(np.clip(np.searchsorted(edges, 0.0, "right") - 1, 0, counts.size - 1))
    if edges[0] <= 0 <= edges[-1]:
        counts[holding_zero] = max(counts[holding_zero] - round(zeros * total), 0)
    return counts / total, edges, zeros


def classic_figure(result, title, path=None, subtitle=""):
    """One network: layer mean and std against layer number (the mean-field prediction as a
    line where there is one), and a row of per-layer histograms.

    The std axis is logarithmic when the std spans more than a decade and starts at 0
    otherwise; the mean is drawn on the scale of the std (so a mean of 1e-4 next to a std of 1
    reads as 0); histograms are fractions of the layer's values, every layer over one range
    (shared_histogram_range: the bounded activation's range or ``hist_range``, else all the
    layers' values), so a collapse to 0 or a saturation shows; the exact zeros are given as a
    number, and a layer of zeros alone says so."""
    depth = len(result.layers)
    fig = _figure(max(10, 1.7 * depth), 6.5)
    grid = fig.add_gridspec(2, depth, height_ratios=(1.3, 1))
    index = [layer.layer for layer in result.layers]
    stds = [s.std for s in result.layers]
    half = max(depth // 2, 1)
    for column, name in enumerate(("mean", "std")):
        ax = fig.add_subplot(grid[0, column * half:(column + 1) * half if column == 0 else depth])
        measured = [getattr(s, name) for s in result.layers]
        predicted = [getattr(s, "predicted_" + name) for s in result.layers]
        with_theory = not any(math.isnan(v) for v in predicted)
        ax.plot(index, measured, "o" if with_theory else "o-", label="measured", zorder=2)
        if with_theory:
            ax.plot(index, predicted, "k-", lw=1, alpha=0.7, label="mean-field prediction",
                    zorder=3)
            ax.legend(fontsize=8)
        if name == "std":
            _std_axis(ax, measured + (predicted if with_theory else []))
        else:
            finite = [abs(v) for v in measured + stds if math.isfinite(v)]
            if finite and max(finite) > 0:
                ax.set_ylim(-1.15 * max(finite), 1.15 * max(finite))
        ax.set_xlabel("layer")
        ax.set_ylabel(f"{name} of the activations")
        ax.set_title(f"layer {name}")
    span = shared_histogram_range(result)
    for i, layer in enumerate(result.layers):
        ax = fig.add_subplot(grid[1, i])
        fractions, edges, zeros = _layer_histogram(result, i, span=span)
        if fractions.size:
            ax.stairs(fractions, edges, fill=True)
        if span is not None:  # a margin, so bars at the range's ends (saturation) show
            margin = 0.04 * (span[1] - span[0])
            ax.set_xlim(span[0] - margin, span[1] + margin)
        if zeros >= 1.0:  # nothing to draw: say why, not an empty panel
            ax.text(0.5, 0.5, "every value\nexactly 0", transform=ax.transAxes, ha="center",
                    va="center", fontsize=8)
        elif zeros >= 0.005:
            ax.text(0.97, 0.95, f"exact 0:\n{zeros:.0%}", transform=ax.transAxes, ha="right",
                    va="top", fontsize=7)
        ax.set_title(f"layer {layer.layer}", fontsize=9)
        ax.tick_params(labelsize=6)
        ax.xaxis.get_offset_text().set_fontsize(6)
        if i == 0:
            ax.set_ylabel("fraction of values", fontsize=7)
    fig.supxlabel("activation value (one range for every layer: the activation's, or all "
                  "layers' values)", fontsize=9)
    fig.suptitle(title + (f"\n{subtitle}" if subtitle else ""))
    return _finish(fig, path)


def _facets(records):
    """The sweep's records per (init, activation) panel, per series (the swept columns other
    than init, activation and seed), per layer."""
    panels = {}
    for r in records:
        if r.get("layer") is None or r.get("error"):
            continue
        series = tuple(r[k] for k in SERIES)
        panels.setdefault((r["init"], r["activation"]), {}).setdefault(series, {}) \
              .setdefault(r["layer"], []).append(r)
    return panels


def _swept(records, keys):
    """The keys whose value differs between records, in ``keys`` order."""
    return [k for k in keys if len({str(r.get(k)) for r in records}) > 1]


def _series_label(series, varying):
    return ", ".join(f"{k} {v}" for k, v in zip(SERIES, series) if k in varying) or "all"


def _grid_of_panels(fig, panels):
    inits = list(dict.fromkeys(init for init, _ in panels))
    activations = list(dict.fromkeys(act for _, act in panels))
    axes = fig.subplots(len(activations), len(inits), squeeze=False, sharex=True)
    layout = {key: axes[activations.index(key[1])][inits.index(key[0])] for key in panels}
    for row in axes:
        for ax in row:
            ax.set_visible(False)
    for ax in layout.values():
        ax.set_visible(True)
    return layout


def _seed_count(records):
    return len({r["seed"] for r in records if r.get("layer") is not None})


def sweep_overlay(records, path=None, stat="std", theory=True):
    """Per-layer ``stat`` of a sweep in small multiples: one panel per initialization (columns)
    and activation (rows); in each panel one curve per value of the other swept columns (depth,
    width, batch, dtype, bias). The dots are the mean over seeds, the band their min-max, the
    line (drawn above the dots) the mean-field prediction. The std is on a log axis."""
    panels = _facets(records)
    if not panels:
        raise ValueError("no layer records to draw")
    rows = [r for r in records if r.get("layer") is not None and not r.get("error")]
    varying = _swept(rows, SERIES)
    inits = len({k[0] for k in panels})
    activations = len({k[1] for k in panels})
    fig = _figure(max(6, 4.2 * inits), 1.2 + 3.2 * activations)
    layout = _grid_of_panels(fig, panels)
    for (init, activation), series in panels.items():
        ax = layout[(init, activation)]
        for i, (key, layers) in enumerate(series.items()):
            index = sorted(layers)
            values = [[r[stat] for r in layers[n]] for n in index]
            mean = [_mean(v) for v in values]
            colour = f"C{i % 10}"
            ax.fill_between(index, [_min(v) for v in values], [_max(v) for v in values],
                            color=colour, alpha=0.2, lw=0, zorder=1)
            ax.plot(index, mean, linestyle="none", marker=marker(activation), ms=4,
                    color=colour, label=_series_label(key, varying), zorder=2)
            predicted = [_mean(r.get("predicted_" + stat, math.nan) for r in layers[n])
                         for n in index]
            if theory and not any(math.isnan(v) for v in predicted):
                ax.plot(index, predicted, "-", color="k", lw=0.9, alpha=0.8, zorder=3)
        if stat == "std":
            _std_axis(ax, [r[stat] for s in series.values() for v in s.values() for r in v])
        ax.set_title(f"{init} · {activation}", fontsize=10)
        ax.set_xlabel("layer")
        ax.set_ylabel(f"{stat} of the activations")
        if len(series) > 1:
            ax.legend(fontsize=7)
    seeds = _seed_count(records)
    fig.suptitle(f"per-layer {stat}: dots the mean over {seeds} seed{'s' * (seeds != 1)}, band "
                 "min-max over seeds, black lines the mean-field prediction")
    return _finish(fig, path)


def _mean(values):
    values = [v for v in values if v is not None and not math.isnan(v)]
    return sum(values) / len(values) if values else math.nan


def _min(values):
    values = [v for v in values if v is not None and not math.isnan(v)]
    return min(values) if values else math.nan


def _max(values):
    values = [v for v in values if v is not None and not math.isnan(v)]
    return max(values) if values else math.nan


def sweep_heatmap(records, path=None, stat="std", x="depth", y="width", layer=-1):
    """``stat`` at ``layer`` (-1: each network's last) over the swept ``x`` and ``y`` columns,
    one panel per initialization and activation, on one logarithmic colour scale (a colourbar
    for all panels). Each cell is the mean over seeds (and over any other swept column, which
    the title names); a cell whose value is 0 or missing is grey."""
    import numpy as np
    from matplotlib.colors import LogNorm
    rows = [r for r in records if r.get("layer") is not None and not r.get("error")
            and r["layer"] == (r["depth"] if layer == -1 else layer)]
    if not rows:
        raise ValueError(f"no records at layer {layer} to draw")
    cells = {}
    for r in rows:
        cells.setdefault((r["init"], r["activation"]), {}).setdefault((r[x], r[y]), []) \
             .append(r[stat])
    xs, ys = sorted({r[x] for r in rows}), sorted({r[y] for r in rows})
    grids = {key: np.array([[_mean(c.get((a, b), [])) for a in xs] for b in ys])
             for key, c in cells.items()}
    shown = np.concatenate([g[np.isfinite(g) & (g > 0)] for g in grids.values()])
    norm = LogNorm(shown.min(), shown.max()) if shown.size else None
    inits = len({k[0] for k in grids})
    activations = len({k[1] for k in grids})
    fig = _figure(max(6, (0.9 * len(xs) + 2) * inits + 1.5),
                  1.3 + (0.55 * len(ys) + 1.6) * activations)
    layout = _grid_of_panels(fig, grids)
    image = None
    for key, grid in grids.items():
        ax = layout[key]
        masked = np.ma.masked_where(~(np.isfinite(grid) & (grid > 0)), grid)
        image = ax.imshow(masked, origin="lower", aspect="auto", cmap="viridis", norm=norm)
        ax.set_facecolor("0.85")
        ax.set_xticks(range(len(xs)), [str(v) for v in xs])
        ax.set_yticks(range(len(ys)), [str(v) for v in ys])
        for i, row in enumerate(grid):
            for j, value in enumerate(row):
                ax.text(j, i, f"{value:.2g}", ha="center", va="center", fontsize=7,
                        color="w" if norm is None or not value > 0 or
                        norm(value) < 0.6 else "k")
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        ax.set_title(f"{key[0]} · {key[1]}", fontsize=10)
    fig.colorbar(image, ax=list(layout.values()), label=f"{stat} (log scale)")
    where = "each network's last layer" if layer == -1 else f"layer {layer}"
    seeds = _seed_count(rows)
    others = _swept(rows, [k for k in SERIES if k not in (x, y)])
    averaged = [f"{seeds} seed{'s' * (seeds != 1)}"] + others
    fig.suptitle(f"{stat} at {where}: mean over {', '.join(averaged)}")
    return _finish(fig, path)


def phase_figure(sigma_w2, sigma_b2, chi, activation, path=None):
    """log chi_1 over (sigma_w^2, sigma_b^2), with the critical line chi_1 = 1."""
    import numpy as np
    fig = _figure(6, 4.5)
    ax = fig.subplots()
    with np.errstate(divide="ignore"):
        image = ax.pcolormesh(sigma_w2, sigma_b2, np.log(chi), cmap="coolwarm", shading="auto",
                              vmin=-1, vmax=1)
    ax.contour(sigma_w2, sigma_b2, chi, levels=[1.0], colors="k")
    fig.colorbar(image, ax=ax, label="log chi_1 (< 0 ordered, > 0 chaotic)")
    ax.set_xlabel("sigma_w^2")
    ax.set_ylabel("sigma_b^2")
    ax.set_title(f"{activation}: order-to-chaos phase diagram")
    return _finish(fig, path)

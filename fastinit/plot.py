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

from fastinit.activations import TABLE, Activation

# One marker per activation (its table row's), so that curves differ by more than colour; a
# name the table lacks (an old result file's) gets a plain row.
_UNKNOWN = Activation("?", -1, phi=lambda x, s=None: x, dphi=lambda x, s=None: x)

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


def _row(activation):
    """The activation's table row (a plain one for a name the table lacks: an old file's)."""
    return TABLE.get(activation, _UNKNOWN)


def marker(activation):
    """The activation's marker in every figure (its table row's)."""
    return _row(activation).marker


def _layer_ticks(ax):
    """Whole layer numbers on the x axis (never 1.5)."""
    from matplotlib.ticker import MaxNLocator
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _positive(values):
    """Whether every value is finite and > 0: then a log axis can show them all."""
    return all(v is not None and math.isfinite(v) and v > 0 for v in values)


def _std_axis(ax, values):
    """The std on a log axis spanning at least two decades, in every figure (a bad
    initialization decays or grows geometrically, one scale everywhere lets figures be
    compared, and noise on a flat curve stays flat). A std of exactly 0
    cannot be drawn there: when every value is 0 the panel says so instead."""
    values = [v for v in values if v is not None and math.isfinite(v)]
    positive = [v for v in values if v > 0]
    if positive:
        ax.set_yscale("log")
        # at least two decades, so that sampling noise on a flat curve looks flat
        top = max(positive)
        ax.set_ylim(min(min(positive), top / 100) / 1.4, top * 1.4)
    elif values:  # all 0: the zeros initialization
        ax.set_ylim(-1, 1)
        ax.text(0.5, 0.75, "std exactly 0 at every layer", transform=ax.transAxes,
                ha="center", va="center", fontsize=9)


def _saturation(stats):
    """(share, what): the share of a layer's values its activation saturates (tanh: |a| >
    0.99), or for an activation without a saturation rule the share that is exactly 0 (ReLU's
    dead units); NaN when neither applies."""
    if math.isfinite(stats.saturated):
        return stats.saturated, "saturated"
    if _row(stats.activation).dead_zeros and math.isfinite(stats.dead):
        return stats.dead, "exactly 0"
    return math.nan, ""


COMPARISON_CAPTION = (
    "Dots: measured; lines: the mean-field prediction. Left: the std of each layer's "
    "activations. Middle: the share of each layer's values the activation saturates (tanh: "
    "|a| > 0.99) or, for ReLU, sets to exactly 0. Right: the gradient dL/dh sent back from a "
    "unit-variance gradient at the last layer (so every curve is 1 there); each layer going "
    "back multiplies its std by about sqrt(chi_1), chi_1 = sigma_w^2 fan_in E[phi'(h)^2], "
    "so large weights can make it grow even where most units are saturated.")


def comparison_figure(runs, path=None, subtitle="", caption=COMPARISON_CAPTION):
    """Every initialization in one figure (the CS231n / Glorot & Bengio figure).

    ``runs``: a list of ``(label, activation, Propagation)``, run with ``backward=True`` for the
    third panel. Left: the activations' std per layer; middle: the share of saturated (or, for
    ReLU, exactly-0) values per layer, since a std near 1 under tanh can mean every unit is
    pinned at -1 or 1; right: the std of the gradient dL/dh per layer (back-propagated from a
    unit-variance dL/dh at the top). The stds are on log axes, since a bad initialization
    decays or grows geometrically. Hollow dots are measured, lines the mean-field prediction
    (drawn above the dots); a std of exactly 0 (zeros) cannot be shown on a log axis and is
    listed in the legend instead. ``caption`` is printed under the panels."""
    fig = _figure(17, 5.8)
    forward, saturation, backward = fig.subplots(1, 3, sharex=True)
    colours = [f"C{i}" for i in range(10)]
    for i, (label, activation, result) in enumerate(runs):
        index = [s.layer for s in result.layers]
        colour = colours[i % 10]
        shown = f"{label} · {activation}"
        for ax, name in ((forward, "std"), (backward, "grad_std")):
            measured = [getattr(s, name) for s in result.layers]
            predicted = [getattr(s, "predicted_" + name) for s in result.layers]
            note = "" if _positive(measured) or ax is backward else " (std 0: not drawn)"
            ax.plot(index, measured, linestyle="none", marker=marker(activation), ms=7,
                    mfc="none", mew=1.4, color=colour, label=shown + note, zorder=2)
            if _positive(predicted):
                ax.plot(index, predicted, "-", color=colour, lw=1.6, zorder=3)
        shares = [_saturation(s) for s in result.layers]  # the colours say whose (left legend)
        what = next((w for _, w in shares if w), "")
        saturation.plot(index, [100 * v for v, _ in shares], linestyle=":", lw=1,
                        marker=marker(activation), ms=7, mfc="none", mew=1.4, color=colour,
                        label=f"{shown}: {what}" if what else shown, zorder=2)
    forward.set_title("forward: std of each layer's activations")
    saturation.set_title("saturated values (tanh: |a| > 0.99) or exact 0 (ReLU)")
    backward.set_title("backward: std of the gradient dL/dh at each layer")
    forward.set_ylabel("std (log scale)")
    saturation.set_ylabel("% of the layer's values")
    backward.set_ylabel("std of dL/dh (log scale)")
    saturation.set_ylim(-4, 104)
    for ax in (forward, saturation, backward):
        ax.set_xlabel("layer")
        _layer_ticks(ax)
        ax.grid(True, which="major", alpha=0.3)
    for ax in (forward, backward):
        ax.set_yscale("log")
    forward.legend(fontsize=8, loc="lower left", title="hollow dots: measured; lines: "
                   "mean-field", title_fontsize=8)
    fig.suptitle("Every initialization, one network each" + (f"\n{subtitle}" if subtitle else ""))
    if caption:
        import textwrap
        fig.supxlabel(textwrap.fill(caption, 190), fontsize=9, ha="center")
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
            los.append(edges[0])
            his.append(edges[-1])
        elif len(result.acts):
            values = np.asarray(result.acts[i], np.float64).ravel()
            values = values[(values != 0) & np.isfinite(values)]
            if values.size:
                los.append(values.min())
                his.append(values.max())
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

    The std axis is logarithmic, as in every figure; the mean is drawn on the scale of the std (so a mean of 1e-4 next to a std of 1
    reads as 0); histograms are fractions of the layer's values, every layer over one range
    (shared_histogram_range: the bounded activation's range or ``hist_range``, else all the
    layers' values), so a collapse to 0 or a saturation shows; the exact zeros and the
    saturated share (tanh: |a| > 0.99; from 5%) are given as numbers, and a layer of zeros alone says
    so."""
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
        _layer_ticks(ax)
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
        if math.isfinite(layer.saturated) and layer.saturated >= 0.05:  # news, not noise
            ax.text(0.5, 0.95, f"saturated:\n{layer.saturated:.0%}", transform=ax.transAxes,
                    ha="center", va="top", fontsize=7, color="C3")
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


def _order(series):
    """A sort key for a series' values: numbers in numeric order, then text."""
    return tuple((0, v, "") if isinstance(v, (int, float)) and not isinstance(v, bool)
                 else (1, 0, str(v)) for v in series)


def _series_label(series, varying):
    return ", ".join(f"{k} {v}" for k, v in zip(SERIES, series) if k in varying) or "all"


def _grid_of_panels(fig, panels, sharey=False):
    inits = list(dict.fromkeys(init for init, _ in panels))
    activations = list(dict.fromkeys(act for _, act in panels))
    axes = fig.subplots(len(activations), len(inits), squeeze=False, sharex=True,
                        sharey=sharey)
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
    and activation (rows), every panel on one y-scale (log for the std) so that panels compare
    at a glance; in each panel one curve per value of the other swept columns (depth, width,
    batch, dtype, bias), the longest drawn first so that a shorter network's curve stays on top,
    one legend for the figure. The dots are the mean over seeds, the band their min-max (with
    several seeds), the line (drawn above the dots) the mean-field prediction."""
    panels = _facets(records)
    if not panels:
        raise ValueError("no layer records to draw")
    rows = [r for r in records if r.get("layer") is not None and not r.get("error")]
    varying = _swept(rows, SERIES)
    inits = len({k[0] for k in panels})
    activations = len({k[1] for k in panels})
    fig = _figure(max(6, 4.2 * inits), 1.6 + 3.2 * activations)
    layout = _grid_of_panels(fig, panels, sharey=True)
    everything = [r[stat] for r in rows]
    legend = {}  # label -> (its series' sort key, a line to show)
    for (init, activation), series in panels.items():
        ax = layout[(init, activation)]
        keys = list(series)
        colour_of = {key: f"C{i % 10}" for i, key in enumerate(sorted(keys, key=_order))}
        for depth_rank, key in enumerate(sorted(keys, key=lambda k: -len(series[k]))):
            layers = series[key]
            index = sorted(layers)
            values = [[r[stat] for r in layers[n]] for n in index]
            mean = [_mean(v) for v in values]
            colour = colour_of[key]
            if any(len(v) > 1 for v in values):
                ax.fill_between(index, [_min(v) for v in values], [_max(v) for v in values],
                                color=colour, alpha=0.2, lw=0, zorder=1)
            label = _series_label(key, varying)
            (line,) = ax.plot(index, mean, linestyle="none", marker=marker(activation), ms=4,
                              color=colour, label=label, zorder=2 + 0.01 * depth_rank)
            legend.setdefault(label, (_order(key), line))
            predicted = [_mean(r.get("predicted_" + stat, math.nan) for r in layers[n])
                         for n in index]
            if theory and not any(math.isnan(v) for v in predicted):
                ax.plot(index, predicted, "-", color="k", lw=0.9, alpha=0.8, zorder=3)
        ax.set_title(f"{init} · {activation}", fontsize=10)
        ax.set_xlabel("layer")
        ax.set_ylabel(f"{stat} of the activations")
        _layer_ticks(ax)
    if stat == "std":
        _std_axis(next(iter(layout.values())), everything)
    if len(legend) > 1:
        labels = sorted(legend, key=lambda label: legend[label][0])
        fig.legend([legend[label][1] for label in labels], labels, loc="outside lower center",
                   ncols=min(len(legend), 6), fontsize=8)
    seeds = _seed_count(records)
    if seeds > 1:
        what = f"dots the mean over {seeds} seeds, band their min-max"
    else:
        what = "one seed per configuration"
    import textwrap
    fig.suptitle(textwrap.fill(f"per-layer {stat}: {what}" + (
        "; black lines the mean-field prediction" if theory else ""),
        int(9 * fig.get_figwidth())))
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


# The colour scale of a std heatmap: below 1e-3 a signal has vanished for any use, above 10 it
# has exploded; between, every decade gets its own colours (one scale from 1e-62 to 1 made 0.026
# and 0.83 the same yellow). Cells beyond are drawn in the extreme colours and marked.
HEAT_RANGE = (1e-3, 1e1)
UNDER, OVER = "0.3", "#d62728"


def heat_norm(values, informative=HEAT_RANGE):
    """The LogNorm of a heatmap: the data's range clipped to ``informative``, at least one
    decade wide. None when there is no positive value."""
    from matplotlib.colors import LogNorm
    shown = [v for v in values if math.isfinite(v) and v > 0]
    if not shown:
        return None
    lo, hi = informative
    vmin = min(max(min(shown), lo), hi)
    vmax = min(max(max(shown), lo), hi)
    if vmax < 10 * vmin:  # a flat grid would otherwise look like extremes
        vmin = vmax / 10
    return LogNorm(vmin, vmax)


def sweep_heatmap(records, path=None, stat="std", x="depth", y="width", layer=-1):
    """``stat`` at ``layer`` (-1: each network's last) over the swept ``x`` and ``y`` columns,
    one panel per initialization and activation, on one logarithmic colour scale (a colourbar
    for all panels) clipped to HEAT_RANGE (heat_norm): a cell below it is dark grey and marked
    "v", one above it red and marked "^". Each cell is the mean over seeds (and over any other
    swept column, which the title names), its value printed in it; a cell whose value is 0 or
    missing is light grey."""
    import numpy as np
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
    norm = heat_norm(np.concatenate([g.ravel() for g in grids.values()]).tolist())
    import matplotlib
    cmap = matplotlib.colormaps["viridis"].with_extremes(under=UNDER, over=OVER)
    inits = len({k[0] for k in grids})
    activations = len({k[1] for k in grids})
    fig = _figure(max(6, (0.9 * len(xs) + 2) * inits + 1.5),
                  1.3 + (0.55 * len(ys) + 1.6) * activations)
    layout = _grid_of_panels(fig, grids)
    image, below, above = None, False, False
    for key, grid in grids.items():
        ax = layout[key]
        masked = np.ma.masked_where(~(np.isfinite(grid) & (grid > 0)), grid)
        image = ax.imshow(masked, origin="lower", aspect="auto", cmap=cmap, norm=norm)
        ax.set_facecolor("0.85")
        ax.set_xticks(range(len(xs)), [str(v) for v in xs])
        ax.set_yticks(range(len(ys)), [str(v) for v in ys])
        assert norm is not None and image is not None
        for i, row in enumerate(grid):
            for j, value in enumerate(row):
                shown = value > 0
                low, high = shown and value < norm.vmin, shown and value > norm.vmax
                below, above = below or low, above or high
                mark = "v " if low else "^ " if high else ""
                dark = low or high or (shown and norm(value) < 0.6)
                ax.text(j, i, f"{mark}{value:.2g}", ha="center", va="center", fontsize=7,
                        color="w" if dark else "k")
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        ax.set_title(f"{key[0]} · {key[1]}", fontsize=10)
    assert norm is not None and image is not None  # set by the panels above
    extend = "both" if below and above else "min" if below else "max" if above else "neither"
    label = f"{stat} (log scale)"
    if below:
        label += f"; v: below {norm.vmin:.2g}"
    if above:
        label += f"; ^: above {norm.vmax:.2g}"
    fig.colorbar(image, ax=list(layout.values()), label=label, extend=extend)
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


ISOMETRY_CAPTION = (
    "Histograms: the singular values of J, the input-output Jacobian (all inputs pooled), one "
    "curve per depth; dashed: the counts free probability predicts (Pennington et al.'s "
    "S-transform density). A network learns fastest when they all sit near 1 (dynamical isometry, "
    "Pennington et al. 2017): only tanh with orthogonal weights stays there as depth grows; "
    "Gaussian weights and ReLU spread them over decades. Legend: the mean of their squares, "
    "measured and (in brackets) predicted by free probability, and the share below 1e-4 "
    "(left out of the histogram; ReLU's dead units make exact zeros). Right: the largest "
    "singular value against depth.")


def isometry_figure(spectra, path=None, caption=ISOMETRY_CAPTION):
    """The singular values of the input-output Jacobian: one panel per network (``spectra``:
    {label: [JacobianSpectrum per depth]}), a histogram per depth on a log axis, and the
    largest singular value against depth."""
    import numpy as np
    from matplotlib import colormaps
    fig = _figure(4.2 * (len(spectra) + 1), 4.4)
    axes = fig.subplots(1, len(spectra) + 1)
    depths = sorted({s.depth for runs in spectra.values() for s in runs})
    colours = colormaps["viridis"](np.linspace(0.0, 0.85, len(depths)))
    top = max(float(s.singular_values.max()) for runs in spectra.values() for s in runs)
    lo = 1e-4
    edges = np.geomspace(lo, max(top, 2.0) * 1.01, 60)
    for ax, (label, runs) in zip(axes, spectra.items()):
        for s in runs:
            colour = colours[depths.index(s.depth)]
            values = s.singular_values.ravel()
            below = float(np.mean(values < lo))
            note = f", {below:.0%} < 1e-4" if below >= 0.005 else ""
            ax.hist(values[values >= lo], edges, histtype="step", linewidth=1.6, color=colour,
                    label=f"depth {s.depth}: E[s^2] {s.mean:.2g} ({s.predicted_mean:.2g}){note}")
            if s.theory is not None:  # the predicted counts of the same bins, dashed
                cdf = s.predicted_cdf(edges ** 2)
                ax.stairs(np.diff(cdf) * values.size, edges, color=colour, linestyle="--",
                          linewidth=1.1)
        ax.axvline(1.0, color="0.4", linestyle=":", linewidth=1)
        ax.set_xscale("log")
        ax.set_xlabel("singular value of J")
        ax.set_title(label, fontsize=10)
        ax.legend(fontsize=7, loc="upper left")
    axes[0].set_ylabel("count")
    ax = axes[-1]
    for (label, runs), marker in zip(spectra.items(), "os^D"):
        ax.plot([s.depth for s in runs], [s.max_singular_value for s in runs], marker=marker,
                label=label)
    ax.axhline(1.0, color="0.4", linestyle=":", linewidth=1)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xticks(depths, [str(d) for d in depths])
    ax.set_xlabel("depth")
    ax.set_ylabel("largest singular value of J")
    ax.set_title("largest singular value", fontsize=10)
    ax.legend(fontsize=7)
    fig.suptitle("Dynamical isometry: the singular values of the input-output Jacobian")
    if caption:
        import textwrap
        fig.supxlabel(textwrap.fill(caption, 190), fontsize=9, ha="center")
    return _finish(fig, path)


TRAINING_CAPTION = (
    "Each network: the seed study's tanh network plus a linear readout, trained with the same "
    "SGD steps on the same batches of scikit-learn's digits. Left: the training loss per step "
    "(a running mean over 10 steps). Middle: accuracy on held-out digits (chance is 0.1). "
    "Right: the std of the last hidden layer's activations on the held-out digits, the "
    "step-0 statistic forward_prop reports, as training moves it: where it starts collapsed "
    "(zeros, std 0.01) the gradients below the readout vanish and nothing learns; saturated "
    "units (std 1) learn slowly.")


def training_figure(runs, path=None, caption=TRAINING_CAPTION):
    """Loss, held-out accuracy and the last hidden layer's activation std against the step,
    one line per run (``runs``: {label: fastinit.learning.Training})."""
    import numpy as np
    fig = _figure(14.0, 4.6)
    axes = fig.subplots(1, 3)
    zeros = []
    for (label, run), style in zip(runs.items(), ("-", "--", "-.", ":", "-", "--", "-.")):
        steps = np.arange(1, len(run.loss) + 1)
        window = min(10, max(1, len(run.loss)))
        smooth = np.convolve(run.loss, np.ones(window) / window, mode="valid")
        line, = axes[0].plot(steps[window - 1:], smooth, linestyle=style, label=label)
        colour = line.get_color()
        if len(run.test_accuracy):
            axes[1].plot(run.eval_steps, run.test_accuracy, linestyle=style, marker="o",
                         markersize=3, color=colour, label=label)
        last = np.array([run.layers[step][-2]["std"] for step in run.eval_steps])
        if np.all(last == 0):  # no point on a log axis: say it
            zeros.append(label)
        else:
            axes[2].plot(run.eval_steps, last, linestyle=style, marker="o", markersize=3,
                         color=colour, label=label)
    axes[0].set_yscale("log")
    axes[0].set_ylabel("training loss")
    axes[0].set_title("loss", fontsize=10)
    axes[1].axhline(0.1, color="0.5", linestyle=":", linewidth=1)
    axes[1].text(0.0, 0.12, "chance", color="0.4", fontsize=8)
    axes[1].set_ylim(0, 1.02)
    axes[1].set_ylabel("held-out accuracy")
    axes[1].set_title("accuracy on held-out digits", fontsize=10)
    axes[2].set_yscale("log")
    lo, hi = axes[2].get_ylim()
    if hi / lo < 100:  # at least two decades, so that a flat line looks flat
        middle = np.sqrt(lo * hi)
        axes[2].set_ylim(middle / 10, middle * 10)
    if zeros:
        axes[2].text(0.02, 0.02, f"{', '.join(zeros)}: every unit exactly 0 at every step",
                     transform=axes[2].transAxes, fontsize=8, color="0.3")
    axes[2].set_ylabel("std of the last hidden layer")
    axes[2].set_title("activations of the last hidden layer", fontsize=10)
    for ax in axes:
        ax.set_xlabel("SGD step")
    axes[1].legend(fontsize=8, loc="center right")
    fig.suptitle("Does the initialization train? The seed study's networks on the digits")
    if caption:
        import textwrap
        fig.supxlabel(textwrap.fill(caption, 200), fontsize=9, ha="center")
    return _finish(fig, path)


def trainability_figure(result, path=None):
    """Held-out accuracy over (sigma_w^2, depth) after the same SGD steps, with the
    mean-field curve depth = 6 xi_c over it (Schoenholz et al. 2017, Fig. 5)."""
    import numpy as np
    from fastinit.learning import TRAINED
    fig = _figure(9.0, 5.6)
    ax = fig.subplots()
    sigma, depths = np.array(result.sigma_w2), np.array(result.depths)
    grid = result.accuracy()
    def edges(v, log=False):
        v = np.log(v) if log else v
        mids = (v[1:] + v[:-1]) / 2 if len(v) > 1 else np.array([])
        first = v[0] - (mids[0] - v[0] if len(mids) else 0.5)
        last = v[-1] + (v[-1] - mids[-1] if len(mids) else 0.5)
        e = np.concatenate([[first], mids, [last]])
        return np.exp(e) if log else e
    mesh = ax.pcolormesh(edges(sigma), edges(depths.astype(float), log=True), grid,
                         cmap="viridis", vmin=0.0, vmax=1.0, shading="flat")
    fig.colorbar(mesh, ax=ax, label="held-out accuracy after training (chance 0.1)")
    # the curve: the grid's own xi_c (computed with the cells), and more points near the
    # critical sigma_w^2, where xi_c diverges (each xi_c costs about a second of quadrature)
    from fastinit import theory
    sigma_b2 = result.rows[0]["sigma_b2"]
    xi = {r["sigma_w2"]: r["xi_c"] for r in result.rows}
    critical = float(np.asarray(theory.critical_line(sigma_b2, "tanh")).ravel()[0])
    if sigma[0] < critical < sigma[-1]:
        step = (sigma[-1] - sigma[0]) / max(len(sigma) - 1, 1)
        near = critical + step * np.array([-1.0, -0.5, -0.2, -0.05, 0.05, 0.2, 0.5, 1.0])
        near = [float(v) for v in near if sigma[0] <= v <= sigma[-1]]
        xi.update(zip(near, np.atleast_1d(theory.depth_scale_correlation(near, sigma_b2,
                                                                         "tanh"))))
        xi[critical] = math.inf
    xs = np.array(sorted(xi))
    curve = 6 * np.array([xi[x] for x in xs], float)
    ax.plot(xs, np.clip(curve, depths[0] / 2, depths[-1] * 2), color="white", linewidth=2.2,
            label="depth = 6 xi_c (mean-field theory)")
    ax.set_yscale("log")
    bottom, top = edges(depths.astype(float), log=True)[[0, -1]]
    ax.set_ylim(float(bottom), float(top))
    ax.set_yticks(depths, [str(d) for d in depths])
    ax.minorticks_off()
    ax.set_xlabel("sigma_w^2 (weights N(0, sigma_w^2 / fan_in))")
    ax.set_ylabel("depth (hidden tanh layers)")
    counts = result.fractions()
    (b_ok, b_n), (a_ok, a_n) = counts["below"], counts["above"]
    row = result.rows[0]
    ax.set_title(f"Trainability of tanh networks on the digits: width {row['width']}, "
                 f"sigma_b^2 {sigma_b2:g}, {row['steps']} SGD steps\ntrained (accuracy >= "
                 f"{TRAINED}): {b_ok} of {b_n} cells below the curve, {a_ok} of {a_n} above it",
                 fontsize=10)
    ax.legend(loc="upper right", fontsize=8, facecolor="0.3", labelcolor="white")
    return _finish(fig, path)

"""Figures (matplotlib, the ``plot`` extra), always written to files with the Agg backend.
Each function returns the matplotlib Figure it wrote."""
import math


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ImportError("figures need matplotlib: pip install 'fastinit[plot]'") from None
    matplotlib.use("Agg")  # files, never a window
    import matplotlib.pyplot as plt
    return plt


def _save(fig, path, plt):
    """Write ``fig`` to ``path`` and return it (closed: its artists stay readable, for tests
    and for callers that want to look at what was drawn)."""
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return fig


def classic_figure(result, title, path):
    """The classic figure of one network: layer mean and std against layer index (with the
    mean-field prediction dashed where there is one), and a row of per-layer histograms."""
    plt = _pyplot()
    depth = len(result.layers)
    fig = plt.figure(figsize=(max(10, 1.6 * depth), 6))
    grid = fig.add_gridspec(2, depth)
    index = [layer.layer for layer in result.layers]
    for column, name in enumerate(("mean", "std")):
        ax = fig.add_subplot(grid[0, column * depth // 2:(column + 1) * depth // 2])
        predicted = [getattr(s, "predicted_" + name) for s in result.layers]
        with_theory = not any(math.isnan(v) for v in predicted)
        ax.plot(index, [getattr(s, name) for s in result.layers], "o" if with_theory else "o-",
                label="measured", zorder=3)
        if with_theory:
            ax.plot(index, predicted, "k-", lw=1, alpha=0.6, label="mean-field prediction")
            ax.legend(fontsize=7)
        ax.set_xlabel("layer")
        ax.set_title(f"layer {name}")
    for layer in result.layers:
        ax = fig.add_subplot(grid[1, layer.layer - 1])
        if layer.hist.size:
            ax.stairs(layer.hist, layer.bin_edges, fill=True)
        ax.set_title(f"layer {layer.layer}", fontsize=8)
        ax.tick_params(labelsize=6)
        ax.set_yticks([])
    fig.suptitle(title)
    return _save(fig, path, plt)


def _label(record, by):
    return ", ".join(str(record[key]) for key in by)


def sweep_overlay(records, path, stat="std", by=("init", "activation"), theory=True):
    """Per-layer ``stat`` against layer number, one line per value of the ``by`` columns (the
    mean over seeds and any other swept column), on one axis; the prediction dashed."""
    plt = _pyplot()
    groups = {}
    for r in records:
        if r.get("layer") is not None:
            groups.setdefault(_label(r, by), {}).setdefault(r["layer"], []).append(r)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    drew_theory = False
    for label, layers in groups.items():
        index = sorted(layers)
        x = index  # layer numbers, counted from 1
        predicted = [_mean(r.get("predicted_" + stat, math.nan) for r in layers[i])
                     for i in index]
        with_theory = theory and not any(math.isnan(v) for v in predicted)
        # measured as markers over the prediction's line: where they agree both stay visible
        line, = ax.plot(x, [_mean(r[stat] for r in layers[i]) for i in index],
                        "o" if with_theory else "o-", ms=5, label=label, zorder=3)
        if with_theory:
            ax.plot(x, predicted, "-", color=line.get_color(), lw=1.2, alpha=0.7, zorder=2)
            drew_theory = True
    ax.set_xlabel("layer")
    ax.set_ylabel(f"activation {stat}")
    if stat == "std":
        ax.set_yscale("log")
    ax.legend(fontsize=7)
    ax.set_title(f"per-layer {stat}" + (" (dots: measured, lines: mean-field prediction)"
                                         if drew_theory else ""))
    return _save(fig, path, plt)


def _mean(values):
    values = [v for v in values if v is not None and not math.isnan(v)]
    return sum(values) / len(values) if values else math.nan


def sweep_heatmap(records, path, stat="std", x="depth", y="width", layer=-1):
    """A heatmap of ``stat`` at ``layer`` (-1: each network's last) over the swept ``x`` and
    ``y`` columns, averaged over everything else."""
    plt = _pyplot()
    cells = {}
    for r in records:
        if r.get("layer") is None or r["layer"] != (r["depth"] if layer == -1 else layer):
            continue
        cells.setdefault((r[x], r[y]), []).append(r[stat])
    if not cells:
        raise ValueError(f"no records at layer {layer} to draw")
    xs, ys = sorted({k[0] for k in cells}), sorted({k[1] for k in cells})
    grid = [[_mean(cells.get((a, b), [])) for a in xs] for b in ys]
    fig, ax = plt.subplots(figsize=(1.2 * len(xs) + 3, 0.8 * len(ys) + 2.5))
    image = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(len(xs)), [str(v) for v in xs])
    ax.set_yticks(range(len(ys)), [str(v) for v in ys])
    for i, row in enumerate(grid):
        for j, value in enumerate(row):
            ax.text(j, i, f"{value:.3g}", ha="center", va="center", color="w", fontsize=8)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    fig.colorbar(image, ax=ax, label=stat)
    ax.set_title(f"{stat} at {'the last layer' if layer == -1 else f'layer {layer}'}")
    return _save(fig, path, plt)


def phase_figure(sigma_w2, sigma_b2, chi, activation, path):
    """log chi_1 over (sigma_w^2, sigma_b^2), with the critical line chi_1 = 1."""
    import numpy as np
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4.5))
    with np.errstate(divide="ignore"):
        image = ax.pcolormesh(sigma_w2, sigma_b2, np.log(chi), cmap="coolwarm", shading="auto",
                              vmin=-1, vmax=1)
    ax.contour(sigma_w2, sigma_b2, chi, levels=[1.0], colors="k")
    fig.colorbar(image, ax=ax, label="log chi_1 (< 0 ordered, > 0 chaotic)")
    ax.set_xlabel("sigma_w^2")
    ax.set_ylabel("sigma_b^2")
    ax.set_title(f"{activation}: order-to-chaos phase diagram")
    return _save(fig, path, plt)

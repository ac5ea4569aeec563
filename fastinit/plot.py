"""Figures of a propagation (matplotlib, the ``plot`` extra)."""


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ImportError("figures need matplotlib: pip install 'fastinit[plot]'") from None
    matplotlib.use("Agg")  # files, never a window
    import matplotlib.pyplot as plt
    return plt


def classic_figure(result, title, path):
    """The classic figure of one network: layer mean and std against layer index, and a row of
    per-layer activation histograms. Written to ``path``."""
    plt = _pyplot()
    depth = len(result.layers)
    fig = plt.figure(figsize=(max(10, 1.6 * depth), 6))
    grid = fig.add_gridspec(2, depth)
    index = [layer.layer + 1 for layer in result.layers]
    for column, (values, name) in enumerate(((result.means, "mean"), (result.stds, "std"))):
        ax = fig.add_subplot(grid[0, column * depth // 2:(column + 1) * depth // 2])
        ax.plot(index, values, "o-")
        ax.set_xlabel("layer")
        ax.set_title(f"layer {name}")
    for layer in result.layers:
        ax = fig.add_subplot(grid[1, layer.layer])
        if layer.hist.size:
            ax.stairs(layer.hist, layer.bin_edges, fill=True)
        ax.set_title(f"layer {layer.layer + 1}", fontsize=8)
        ax.tick_params(labelsize=6)
        ax.set_yticks([])
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)

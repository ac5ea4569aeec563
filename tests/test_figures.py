"""Figures checked by content: titles, axis labels and scales, legend entries, and that what is
drawn equals the records (not only that a PNG exists)."""
import math

import numpy as np
import pytest

import fastinit
from fastinit import theory
from fastinit.sweep import sweep

pytest.importorskip("matplotlib")
from fastinit import plot  # noqa: E402


def legend_texts(ax):
    legend = ax.get_legend()
    return [t.get_text() for t in legend.get_texts()] if legend else []


@pytest.fixture(scope="module")
def network():
    return fastinit.forward_prop([30] * 4, "xavier_normal", activation="tanh", batch=200,
                                 rng=3)


def assert_not_blank(path):
    """The PNG was written, is of a readable size, and has ink (coloured or dark pixels)."""
    import matplotlib.image
    image = matplotlib.image.imread(path)[..., :3]
    assert image.shape[0] > 300 and image.shape[1] > 400, image.shape
    ink = (image.std(axis=2) > 0.05) | (image.mean(axis=2) < 0.5)
    assert ink.mean() > 0.01, path


def data_lines(ax):
    return {line.get_label(): line for line in ax.lines if not line.get_label().startswith("_")}


def test_classic_figure_draws_the_records(tmp_path, network):
    path = tmp_path / "c.png"
    fig = plot.classic_figure(network, "xavier_normal · tanh", path, "4 layers of 30, seed 3")
    assert_not_blank(path)
    assert fig._suptitle.get_text() == "xavier_normal · tanh\n4 layers of 30, seed 3"
    mean_ax, std_ax, *hist_axes = fig.axes
    for ax, name in ((mean_ax, "mean"), (std_ax, "std")):
        assert ax.get_title() == f"layer {name}"
        assert ax.get_xlabel() == "layer" and ax.get_ylabel() == f"{name} of the activations"
        measured, predicted = ax.lines
        assert list(measured.get_xdata()) == [1, 2, 3, 4]
        assert list(measured.get_ydata()) == [getattr(s, name) for s in network.layers]
        assert list(predicted.get_ydata()) == [getattr(s, "predicted_" + name)
                                               for s in network.layers]
        assert predicted.get_zorder() > measured.get_zorder()  # the line over the dots
        assert legend_texts(ax) == ["measured", "mean-field prediction"]
    # issue 29: the std is on a log axis in every figure (it switched between log and linear
    # from file to file); at least two decades, so noise on a flat curve stays flat
    low, high = std_ax.get_ylim()
    assert std_ax.get_yscale() == "log" and high / low >= 100
    assert low < min(network.stds) and max(network.stds) < high
    # the mean on the std's scale: limits cover the largest std
    assert mean_ax.get_ylim()[1] >= max(network.stds)
    assert [ax.get_title() for ax in hist_axes] == ["layer 1", "layer 2", "layer 3", "layer 4"]
    assert hist_axes[0].get_ylabel() == "fraction of values"
    for ax, layer, acts in zip(hist_axes, network.layers, network.acts.values()):
        fractions, edges, _ = ax.patches[0].get_data()
        # every layer over tanh's range (-1, 1), from the kept activations (issue 29: each
        # layer over its own range drew ten identical Gaussians and hid the collapse)
        assert (edges[0], edges[-1]) == (-1.0, 1.0)
        assert ax.get_xlim() == pytest.approx((-1.08, 1.08))  # the range, and a margin
        np.testing.assert_allclose(fractions, np.histogram(acts, edges)[0] / acts.size)
        assert fractions.sum() == pytest.approx(1)


def test_classic_figure_log_axis_for_a_decaying_std_and_zeros_apart(tmp_path):
    small = fastinit.forward_prop([40] * 5, fastinit.get_initializer("normal", std=0.01),
                                  batch=50, rng=1, keep_activations=False)
    fig = plot.classic_figure(small, "t", tmp_path / "s.png")
    assert fig.axes[1].get_yscale() == "log"  # 0.01 decays geometrically over 5 layers
    # without kept activations the engine's histogram is drawn, over its own range
    _, edges, _ = fig.axes[2].patches[0].get_data()
    np.testing.assert_array_equal(edges, small.layers[0].bin_edges)
    relu = fastinit.forward_prop([40] * 2, "he_normal", activation="relu", batch=50, rng=1)
    fig = plot.classic_figure(relu, "r", tmp_path / "r.png")
    every = np.concatenate([a.ravel() for a in relu.acts.values()])
    for ax, layer, acts in zip(fig.axes[2:], relu.layers, relu.acts.values()):
        fractions, edges, _ = ax.patches[0].get_data()
        # unbounded: one range for the figure, all layers' values (ReLU's data start at 0)
        assert (edges[0], edges[-1]) == (0.0, every.max())
        assert fractions.sum() == pytest.approx((acts != 0).mean())
        zeros = (acts == 0).mean()
        assert [t.get_text() for t in ax.texts] == [f"exact 0:\n{zeros:.0%}"]


def test_classic_figure_without_theory_has_no_prediction_line(tmp_path):
    # a callable initializer has no law, so no mean-field prediction
    result = fastinit.forward_prop([10] * 2, lambda fi, fo: np.full((fi, fo), 0.1), batch=20,
                                   rng=0)
    fig = plot.classic_figure(result, "t", tmp_path / "c.png")
    assert [len(ax.lines) for ax in fig.axes[:2]] == [1, 1]
    assert legend_texts(fig.axes[0]) == []


def test_comparison_figure_forward_and_backward_on_log_axes(tmp_path):
    runs = [(label, activation, fastinit.forward_prop(
                [40] * 4, fastinit.get_initializer(name, **params), activation=activation,
                batch=60, rng=2, backward=True, keep_activations=False))
            for label, name, params, activation in (
                ("zeros", "zeros", {}, "tanh"), ("normal std 0.01", "normal", {"std": 0.01},
                                                 "tanh"), ("he_normal", "he_normal", {}, "relu"))]
    fig = plot.comparison_figure(runs, tmp_path / "all.png", "4 layers of 40")
    assert_not_blank(tmp_path / "all.png")
    forward, saturation, backward = fig.axes
    assert forward.get_yscale() == backward.get_yscale() == "log"
    assert forward.get_xlabel() == backward.get_xlabel() == saturation.get_xlabel() == "layer"
    # the caption says how to read the backward panel (issue 29)
    assert "unit-variance gradient at the last layer" in fig._supxlabel.get_text()
    assert forward.get_title() == "forward: std of each layer's activations"
    assert backward.get_title() == "backward: std of the gradient dL/dh at each layer"
    assert fig._suptitle.get_text().endswith("\n4 layers of 40")
    assert legend_texts(forward) == ["zeros · tanh (std 0: not drawn)",
                                     "normal std 0.01 · tanh", "he_normal · relu"]
    assert legend_texts(saturation) == []  # the colours are the left panel's
    for ax, name in ((forward, "std"), (backward, "grad_std")):
        dots = data_lines(ax)
        for label, activation, result in runs[1:]:
            line = dots[f"{label} · {activation}"]
            assert list(line.get_ydata()) == [getattr(s, name) for s in result.layers]
            assert line.get_marker() == plot.marker(activation)
        # a prediction line per network with a theory, above the dots
        predictions = [l for l in ax.lines if l.get_label().startswith("_")]
        assert predictions and all(l.get_zorder() > 2 for l in predictions)
        np.testing.assert_array_equal(predictions[-1].get_ydata(),
                                      [getattr(s, "predicted_" + name)
                                       for s in runs[-1][2].layers])
    assert plot.marker("tanh") != plot.marker("relu")


def test_comparison_figure_shows_saturation_that_a_flat_std_hides(tmp_path):
    # issue 29: std 1 · tanh sits flat near 1 and looked the healthiest curve while ~90% of
    # its values are pinned at -1 or 1; the middle panel shows the saturated share (tanh: |a|
    # > 0.99), or for ReLU the exact zeros, counted here from the kept activations
    runs = [(label, activation, fastinit.forward_prop(
                [300] * 4, fastinit.get_initializer(name, **params), activation=activation,
                batch=200, rng=5, backward=True))
            for label, name, params, activation in (
                ("normal std 1", "normal", {"std": 1.0}, "tanh"),
                ("xavier_normal", "xavier_normal", {}, "tanh"),
                ("he_normal", "he_normal", {}, "relu"))]
    fig = plot.comparison_figure(runs)
    saturation = fig.axes[1]
    shares = {line.get_label(): line.get_ydata() for line in saturation.lines}
    for label, activation, result in runs:
        acts = [np.asarray(a) for a in result.acts.values()]
        if activation == "tanh":
            expected = [100 * np.mean(np.abs(a) > 0.99) for a in acts]
            key = f"{label} · {activation}: saturated"
        else:
            expected = [100 * np.mean(a == 0) for a in acts]
            key = f"{label} · {activation}: exactly 0"
        np.testing.assert_allclose(shares[key], expected, rtol=1e-12)
    assert min(shares["normal std 1 · tanh: saturated"]) > 80
    assert max(shares["xavier_normal · tanh: saturated"]) < 5
    assert saturation.get_ylim()[0] < 0 and saturation.get_ylim()[1] > 100  # 0-100% shown


def test_classic_figure_says_each_layers_saturated_share(tmp_path):
    big = fastinit.forward_prop([200] * 3, fastinit.get_initializer("normal", std=1.0),
                                batch=100, rng=4)
    fig = plot.classic_figure(big, "t")
    for ax, acts in zip(fig.axes[2:], big.acts.values()):
        share = np.mean(np.abs(np.asarray(acts)) > 0.99)
        assert share > 0.8
        assert f"saturated:\n{share:.0%}" in [t.get_text() for t in ax.texts]
    healthy = fastinit.forward_prop([200] * 3, "xavier_normal", batch=100, rng=4)
    fig = plot.classic_figure(healthy, "t")
    assert not any(t.get_text().startswith("saturated") for ax in fig.axes[2:]
                   for t in ax.texts)


@pytest.fixture(scope="module")
def sweep_records():
    return sweep(init=["lecun_normal", "he_normal"], activation=["tanh", "relu"],
                 depth=3, width=[16, 24], batch=40, seeds=2).records


def test_sweep_overlay_one_panel_per_init_and_activation(tmp_path, sweep_records):
    fig = plot.sweep_overlay(sweep_records, tmp_path / "o.png")
    assert_not_blank(tmp_path / "o.png")
    panels = {ax.get_title(): ax for ax in fig.axes if ax.get_visible()}
    assert sorted(panels) == sorted(f"{i} · {a}" for i in ("lecun_normal", "he_normal")
                                    for a in ("tanh", "relu"))
    assert "mean over 2 seeds" in fig._suptitle.get_text()
    assert "band their min-max" in fig._suptitle.get_text()
    # one legend for the figure (issue 29: it was repeated in every panel), in numeric order
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["width 16", "width 24"]
    # every panel on one log scale, so that panels compare at a glance
    assert len({ax.get_ylim() for ax in panels.values()}) == 1
    assert all(ax.get_yscale() == "log" for ax in panels.values())
    for title, ax in panels.items():
        init, activation = title.split(" · ")
        assert ax.get_xlabel() == "layer" and ax.get_ylabel() == "std of the activations"
        assert legend_texts(ax) == []
        # one curve per width (the swept column besides init and activation), nothing else
        assert sorted(data_lines(ax)) == ["width 16", "width 24"]
        for width in (16, 24):
            rows = [r for r in sweep_records if (r["init"], r["activation"], r["width"]) ==
                    (init, activation, width)]
            line = data_lines(ax)[f"width {width}"]
            assert line.get_marker() == plot.marker(activation)
            assert list(line.get_xdata()) == [1, 2, 3]
            for layer, value in zip((1, 2, 3), line.get_ydata()):
                seeds = [r["std"] for r in rows if r["layer"] == layer]
                assert len(seeds) == 2 and value == pytest.approx(np.mean(seeds), rel=1e-12)
        bands = [c for c in ax.collections if c.get_paths()]
        assert len(bands) == 2  # min-max over seeds, one per curve
        theory_lines = [l for l in ax.lines if l.get_label().startswith("_")]
        assert theory_lines and all(l.get_zorder() > 2 for l in theory_lines)


def test_sweep_overlay_draws_the_shorter_network_on_top(tmp_path):
    # issue 29: depth-10 curves were drawn under the depth-50 ones over the same layers
    records = sweep(init="lecun_normal", activation="tanh", depth=[3, 8], width=16, batch=20,
                    seeds=1).records
    fig = plot.sweep_overlay(records)
    (ax,) = [ax for ax in fig.axes if ax.get_visible()]
    lines = data_lines(ax)
    assert len(lines["depth 3"].get_xdata()) == 3 and len(lines["depth 8"].get_xdata()) == 8
    assert lines["depth 3"].get_zorder() > lines["depth 8"].get_zorder()
    # one seed: no band, and the title does not speak of one
    assert not [c for c in ax.collections if c.get_paths()]
    assert "one seed per configuration" in fig._suptitle.get_text()
    assert "min-max" not in fig._suptitle.get_text()


def test_sweep_heatmap_clips_its_colour_scale_and_marks_the_cells_beyond(tmp_path):
    # issue 29: one log scale from 1e-62 to 1 painted every healthy cell the same yellow.
    # Now 1e-3 .. 10 at most: a collapsed network's cell is marked below the scale
    records = sweep(init=["lecun_normal", "normal:std=0.01", "he_normal"], activation="relu",
                    depth=[2, 12], width=[30], batch=40, seeds=1).records
    fig = plot.sweep_heatmap(records, tmp_path / "h.png")
    *axes, colorbar = fig.axes
    panels = {ax.get_title(): ax for ax in axes if ax.get_visible()}
    norm = panels["he_normal · relu"].images[0].norm
    last = {(r["init"], r["depth"]): r["std"] for r in records if r["layer"] == r["depth"]}
    collapsed = last[("normal:std=0.01", 12)]
    assert collapsed < 1e-3 and norm.vmin == pytest.approx(1e-3)
    assert norm.vmax == pytest.approx(max(last.values()))
    texts = {t.get_text() for t in panels["normal:std=0.01 · relu"].texts}
    assert f"v {collapsed:.2g}" in texts
    assert "below 0.001" in colorbar.get_ylabel()
    # healthy cells keep distinct colours: lecun at depth 12 (~0.01) vs he (~0.8)
    assert norm(last[("lecun_normal", 12)]) < 0.6 < norm(last[("he_normal", 12)])
    assert plot.heat_norm([0.5, 0.55]).vmin == pytest.approx(0.055)  # at least a decade
    assert plot.heat_norm([0.0, math.nan]) is None


def test_sweep_heatmap_log_colours_per_panel(tmp_path, sweep_records):
    fig = plot.sweep_heatmap(sweep_records, tmp_path / "h.png", x="depth", y="width")
    assert_not_blank(tmp_path / "h.png")
    *axes, colorbar = fig.axes
    panels = {ax.get_title(): ax for ax in axes if ax.get_visible()}
    assert len(panels) == 4
    assert colorbar.get_ylabel() == "std (log scale)"
    assert fig._suptitle.get_text() == "std at each network's last layer: mean over 2 seeds"
    from matplotlib.colors import LogNorm
    for title, ax in panels.items():
        init, activation = title.split(" · ")
        assert ax.get_xlabel() == "depth" and ax.get_ylabel() == "width"
        assert isinstance(ax.images[0].norm, LogNorm)
        assert [t.get_text() for t in ax.get_yticklabels()] == ["16", "24"]
        grid = ax.images[0].get_array()
        for row, width in enumerate((16, 24)):
            expected = np.mean([r["std"] for r in sweep_records
                                if (r["init"], r["activation"], r["width"], r["layer"]) ==
                                (init, activation, width, 3)])
            assert grid[row][0] == pytest.approx(expected, rel=1e-12)


def test_results_display_in_a_notebook(tmp_path, network, sweep_records):
    html = network._repr_html_()
    assert html.count("<tr>") == 1 + len(network.layers)
    assert "<th>predicted_std</th>" in html and "<th>grad_std</th>" not in html  # no NaN column
    assert f"<td>{network.layers[0].std:.4g}</td>" in html
    fig = network.plot("t", tmp_path / "n.png")
    assert_not_blank(tmp_path / "n.png")
    assert fig.axes[1].get_title() == "layer std"
    from fastinit.sweep.runner import SweepResult
    result = SweepResult(sweep_records)
    html = result._repr_html_()
    assert "16 configurations" in html and html.count("<tr>") == 1 + 16
    assert len([ax for ax in result.plot().axes if ax.get_visible()]) == 4


def test_phase_figure_plots_log_chi_over_the_grid(tmp_path):
    sw2, sb2 = np.meshgrid(np.linspace(0.5, 3.0, 6), np.linspace(0.0, 0.5, 4))
    chi = np.array([[theory.chi_1(a, b, "tanh") for a, b in zip(ra, rb)]
                    for ra, rb in zip(sw2, sb2)])
    fig = plot.phase_figure(sw2, sb2, chi, "tanh", tmp_path / "p.png")
    assert_not_blank(tmp_path / "p.png")
    ax, colorbar = fig.axes
    assert ax.get_xlabel() == "sigma_w^2" and ax.get_ylabel() == "sigma_b^2"
    assert ax.get_title() == "tanh: order-to-chaos phase diagram"
    assert "log chi_1" in colorbar.get_ylabel()
    np.testing.assert_allclose(np.asarray(ax.collections[0].get_array()).ravel(),
                               np.log(chi).ravel())
    assert not math.isnan(float(np.log(chi).max()))


def test_html_table_and_cell_format_written_out():
    from fastinit.results import format_value, html_table
    assert html_table([{"a": 1.5, "b": None}, {"a": 1e-7, "b": "x<y"}], ["a", "b"],
                      caption="two & rows") == (
        "<table><caption>two &amp; rows</caption><thead><tr><th>a</th><th>b</th></tr></thead>"
        "<tbody><tr><td>1.5</td><td>-</td></tr><tr><td>1e-07</td><td>x&lt;y</td></tr></tbody>"
        "</table>")
    assert html_table([], ["a"]) == "<table><thead><tr><th>a</th></tr></thead><tbody></tbody></table>"
    assert [format_value(v) for v in (None, math.nan, 3, "relu", 0.000123456, 2.0)] == [
        "-", "-", "3", "relu", "0.0001235", "2"]


def test_a_propagation_table_starts_with_the_layer_columns(network, tmp_path):
    html = network._repr_html_()
    assert html.startswith("<table><caption>Propagation: 4 layers</caption><thead><tr>"
                           "<th>layer</th><th>width</th><th>activation</th><th>mean</th>")
    # issue 29: it was titled just "4 layers"; now the network and what happened to it
    assert network.plot()._suptitle.get_text() == \
        f"4 layers of 30 · tanh\n{network.finding()}"


def test_kept_activations_index_like_a_sequence(network):
    acts = network.acts
    assert acts[-4] is acts[0] and acts[-1] is acts[3]
    for bad in (-5, 4, True, 1.0, "0"):
        with pytest.raises(KeyError):
            acts[bad]


def test_classic_figure_shows_the_collapse_and_honours_hist_range(tmp_path):
    # the CS231n point: with std 0.01 the tanh activations collapse to 0 layer by layer, and
    # on one shared axis the last layer is a single spike at 0
    small = fastinit.forward_prop([200] * 6, fastinit.get_initializer("normal", std=0.01),
                                  batch=100, rng=0)
    fig = plot.classic_figure(small, "t", tmp_path / "s.png")
    fractions, edges, _ = fig.axes[-1].patches[0].get_data()
    assert (edges[0], edges[-1]) == (-1.0, 1.0)
    centre = np.searchsorted(edges, 0.0) - 1  # an odd bin count: one bin holds 0
    assert edges[centre] < 0 < edges[centre + 1] and fractions[centre] == pytest.approx(1)
    wide = fastinit.forward_prop([30] * 3, "xavier_normal", batch=50, rng=0,
                                 hist_range=(-2.0, 2.0))
    fig = plot.classic_figure(wide, "t", tmp_path / "w.png")
    # hist_range is honoured (with the same margin on every panel)
    assert all(ax.get_xlim() == pytest.approx((-2.16, 2.16)) for ax in fig.axes[2:])
    zeros = fastinit.forward_prop([30] * 3, "zeros", batch=20, rng=0)
    fig = plot.classic_figure(zeros, "z", tmp_path / "z.png")
    assert [t.get_text() for ax in fig.axes[2:] for t in ax.texts] == \
        ["every value\nexactly 0"] * 3  # said in the panel, not an empty axis


def _layers(std, saturated=None, dead=None, grad=None):
    """Per-layer records as a sweep file gives them (finding reads mappings and LayerStats)."""
    n = len(std)
    rows = [{"layer": i + 1, "std": std[i],
             "saturated": math.nan if saturated is None else saturated[i],
             "dead": 0.0 if dead is None else dead[i]} for i in range(n)]
    if grad is not None:
        for row, g in zip(rows, grad):
            row["grad_std"] = g
    return rows


@pytest.mark.parametrize("layers, expected", [
    (_layers([0.0, 0.0]), "every activation is exactly 0 at every layer: no signal passes, "
     "and the units of a layer all get the same gradient"),
    (_layers([0.2, 0.02, 0.0005]),
     "std 0.2 at layer 1 collapses to 0.0005 by layer 3 (x0.05 per layer)"),
    (_layers([0.6, 0.3]), "std decays from 0.6 at layer 1 to 0.3 at layer 2 (x0.5 per layer)"),
    (_layers([0.6, 0.39]), "std decays from 0.6 at layer 1 to 0.39 at layer 2 (x0.65 per layer)"),
    (_layers([0.6, 0.41]), "std steady near 0.41 (layer 1: 0.6)"),     # within 1.5x: steady
    (_layers([0.5, 0.76]), "std grows from 0.5 at layer 1 to 0.76 at layer 2 (x1.5 per layer)"),
    (_layers([0.5, 0.74]), "std steady near 0.74 (layer 1: 0.5)"),
    (_layers([0.7]), "std steady near 0.7 (layer 1: 0.7)"),              # one layer: no rate
    (_layers([0.9, 0.9, 0.9], saturated=[0.2, 0.5, 0.91]),
     "std steady near 0.9 (layer 1: 0.9); 91% of values saturated from layer 2"),
    (_layers([0.9, 0.9], saturated=[0.49, 0.3]), "std steady near 0.9 (layer 1: 0.9)"),
    (_layers([0.8, 0.8, 0.8], dead=[0.5, 0.6, 0.61]),
     "std steady near 0.8 (layer 1: 0.8); 61% of layer 3's values exactly 0"),
    (_layers([0.8, 0.8], dead=[0.7, 0.6]), "std steady near 0.8 (layer 1: 0.8)"),
    (_layers([0.8, 0.8], saturated=[0.0, 0.0], dead=[0.9, 0.9]),  # tanh's zeros: no ReLU
     "std steady near 0.8 (layer 1: 0.8)"),
    (_layers([0.8, 0.8, 0.8], grad=[1e-4, 0.01, 1.0]),
     "std steady near 0.8 (layer 1: 0.8); gradient at layer 1: 0.0001x the top's (vanishes)"),
    (_layers([0.8, 0.8], grad=[0.002, 2.0]),        # exactly 1e-3 of the top: not vanished
     "std steady near 0.8 (layer 1: 0.8); gradient at layer 1: 0.001x the top's"),
    (_layers([0.8, 0.8], grad=[3000.0, 2.0]),
     "std steady near 0.8 (layer 1: 0.8); gradient at layer 1: 1.5e+03x the top's (explodes)"),
    (_layers([0.8, 0.8], grad=[2000.0, 2.0]),
     "std steady near 0.8 (layer 1: 0.8); gradient at layer 1: 1e+03x the top's"),
    (_layers([0.8, 0.8], grad=[0.5, 0.0]), "std steady near 0.8 (layer 1: 0.8)"),  # no top
    (_layers([0.8, 0.8], grad=[math.nan, 1.0]), "std steady near 0.8 (layer 1: 0.8)"),
    (_layers([0.0, 0.5]), "std grows from 0 at layer 1 to 0.5 at layer 2"),  # no rate from 0
    (_layers([0.0005]), "std 0.0005 at layer 1 collapses to 0.0005 by layer 1"),
    (_layers([0.2, 0.001]),                              # exactly 1e-3: decayed, not collapsed
     "std decays from 0.2 at layer 1 to 0.001 at layer 2 (x0.005 per layer)"),
    (_layers([1.5, 1.0]), "std steady near 1 (layer 1: 1.5)"),     # exactly 1.5x: still steady
    (_layers([0.8, 0.8, 0.8], grad=[1e-4, math.nan, 1.0]),  # only the first and last count
     "std steady near 0.8 (layer 1: 0.8); gradient at layer 1: 0.0001x the top's (vanishes)"),
    (_layers([0.8, 0.8, 0.8], grad=[0.5, 0.0, 1.0]),
     "std steady near 0.8 (layer 1: 0.8); gradient at layer 1: 0.5x the top's"),
    (_layers([0.8, math.inf]), "the activations overflowed (std not finite)"),
    (_layers([math.nan, 0.5]), "the activations overflowed (std not finite)"),
    ([], ""),
])
def test_finding_says_what_the_numbers_say(layers, expected):
    # the rules as documented in fastinit.results.finding, the numbers worked by hand
    from fastinit.results import finding
    assert finding(layers) == expected


def test_finding_reads_a_propagations_layers_like_records():
    result = fastinit.forward_prop([300] * 6, fastinit.get_initializer("normal", std=0.01),
                                   batch=100, rng=1, backward=True)
    stds = [layer.std for layer in result.layers]
    grads = [layer.grad_std for layer in result.layers]
    assert result.finding() == (
        f"std {stds[0]:.2g} at layer 1 collapses to {stds[-1]:.1g} by layer 6 "
        f"(x{(stds[-1] / stds[0]) ** 0.2:.2g} per layer); gradient at layer 1: "
        f"{grads[0] / grads[-1]:.2g}x the top's (vanishes)")
    assert result.finding() == fastinit.results.finding(result.to_records())


def test_a_networks_title_names_its_widths_and_activations():
    from types import SimpleNamespace as Layer
    from fastinit.results import describe_layers
    same = [Layer(width=500, activation="tanh") for _ in range(10)]
    assert describe_layers(same) == "10 layers of 500 · tanh"
    mixed = [Layer(width=500, activation="tanh"), Layer(width=300, activation="relu"),
             Layer(width=300, activation="tanh")]
    assert describe_layers(mixed) == "3 layers of widths 500, 300, 300 · tanh, relu"

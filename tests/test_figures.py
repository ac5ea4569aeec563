"""Figures checked by content: titles, axis labels and scales, legend entries, and that what is
drawn equals the records (not only that a PNG exists)."""
import math

import numpy as np
import pytest

import fastinit
from fastinit import theory
from fastinit.sweep import sweep

plt = pytest.importorskip("matplotlib.pyplot")
from fastinit import plot  # noqa: E402


def legend_texts(ax):
    legend = ax.get_legend()
    return [t.get_text() for t in legend.get_texts()] if legend else []


@pytest.fixture(scope="module")
def network():
    return fastinit.forward_prop([30] * 4, "xavier_normal", activation="tanh", batch=200,
                                 rng=3)


def test_classic_figure_draws_the_records(tmp_path, network):
    fig = plot.classic_figure(network, "xavier_normal, tanh", tmp_path / "c.png")
    assert (tmp_path / "c.png").stat().st_size > 0
    assert fig._suptitle.get_text() == "xavier_normal, tanh"
    mean_ax, std_ax, *hist_axes = fig.axes
    for ax, name in ((mean_ax, "mean"), (std_ax, "std")):
        assert ax.get_title() == f"layer {name}"
        assert ax.get_xlabel() == "layer" and ax.get_ylabel() == ""
        measured, predicted = ax.lines
        assert list(measured.get_xdata()) == [1, 2, 3, 4]
        assert list(measured.get_ydata()) == [getattr(s, name) for s in network.layers]
        assert list(predicted.get_ydata()) == [getattr(s, "predicted_" + name)
                                               for s in network.layers]
        assert legend_texts(ax) == ["measured", "mean-field prediction"]
    assert [ax.get_title() for ax in hist_axes] == ["layer 1", "layer 2", "layer 3", "layer 4"]
    for ax, layer in zip(hist_axes, network.layers):
        values, edges, _ = ax.patches[0].get_data()
        np.testing.assert_array_equal(values, layer.hist)
        np.testing.assert_array_equal(edges, layer.bin_edges)
        assert (edges[0], edges[-1]) == (-1.0, 1.0)  # tanh's range


def test_classic_figure_without_theory_has_no_prediction_line(tmp_path):
    # a callable initializer has no law, so no mean-field prediction
    result = fastinit.forward_prop([10] * 2, lambda fi, fo: np.full((fi, fo), 0.1), batch=20,
                                   rng=0)
    fig = plot.classic_figure(result, "t", tmp_path / "c.png")
    assert [len(ax.lines) for ax in fig.axes[:2]] == [1, 1]
    assert legend_texts(fig.axes[0]) == []


@pytest.fixture(scope="module")
def sweep_records():
    return sweep(init=["lecun_normal", "he_normal"], activation=["tanh", "relu"],
                          depth=3, width=[16, 24], batch=40, seeds=2).records


def test_sweep_overlay_draws_the_mean_over_seeds_and_widths(tmp_path, sweep_records):
    fig = plot.sweep_overlay(sweep_records, tmp_path / "o.png")
    ax, = fig.axes
    assert ax.get_xlabel() == "layer" and ax.get_ylabel() == "activation std"
    assert ax.get_yscale() == "log"
    assert "dots: measured, lines: mean-field prediction" in ax.get_title()
    labels = ["lecun_normal, tanh", "lecun_normal, relu", "he_normal, tanh", "he_normal, relu"]
    assert sorted(legend_texts(ax)) == sorted(labels)
    measured = {line.get_label(): line for line in ax.lines if not line.get_label()
                .startswith("_")}
    for label in labels:
        init, activation = label.split(", ")
        rows = [r for r in sweep_records if r["init"] == init and r["activation"] == activation]
        expected = [np.mean([r["std"] for r in rows if r["layer"] == layer])
                    for layer in (1, 2, 3)]
        line = measured[label]
        assert list(line.get_xdata()) == [1, 2, 3]
        np.testing.assert_allclose(line.get_ydata(), expected, rtol=1e-12)
        assert line.get_zorder() > 2  # dots above their prediction line


def test_sweep_heatmap_cells_are_the_last_layer_means(tmp_path, sweep_records):
    fig = plot.sweep_heatmap(sweep_records, tmp_path / "h.png", x="depth", y="width")
    ax, colorbar = fig.axes
    assert ax.get_xlabel() == "depth" and ax.get_ylabel() == "width"
    assert ax.get_title() == "std at the last layer"
    assert colorbar.get_ylabel() == "std"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["16", "24"]
    grid = ax.images[0].get_array()
    for row, width in enumerate((16, 24)):
        expected = np.mean([r["std"] for r in sweep_records
                            if r["width"] == width and r["layer"] == 3])
        assert grid[row][0] == pytest.approx(expected, rel=1e-12)


def test_phase_figure_plots_log_chi_over_the_grid(tmp_path):
    sw2, sb2 = np.meshgrid(np.linspace(0.5, 3.0, 6), np.linspace(0.0, 0.5, 4))
    chi = np.array([[theory.chi_1(a, b, "tanh") for a, b in zip(ra, rb)]
                    for ra, rb in zip(sw2, sb2)])
    fig = plot.phase_figure(sw2, sb2, chi, "tanh", tmp_path / "p.png")
    ax, colorbar = fig.axes
    assert ax.get_xlabel() == "sigma_w^2" and ax.get_ylabel() == "sigma_b^2"
    assert ax.get_title() == "tanh: order-to-chaos phase diagram"
    assert "log chi_1" in colorbar.get_ylabel()
    np.testing.assert_allclose(np.asarray(ax.collections[0].get_array()).ravel(),
                               np.log(chi).ravel())
    assert not math.isnan(float(np.log(chi).max()))

"""What forward_prop returns: per-layer statistics (LayerStats), the kept activations
(LayerOutputs) and the whole result (Propagation). Shared by the engine and the reference.

Layer numbers: a layer's ``layer`` number counts from 1 (the first hidden layer is layer 1),
in records, result files, reports, the CLI and figures. Python containers are indexed from 0
like any sequence: ``result.layers[i]`` and ``acts[i]`` are layer i + 1.
"""
import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, fields

import numpy as np

from fastinit._validation import user_stacklevel

# The statistics of a layer, in the order files and tables show them: the one list.
MEASURED = ("mean", "std", "min", "max", "saturated", "dead", "preact_std")
PREDICTED = ("predicted_mean", "predicted_std")
BACKWARD = ("grad_std", "weight_grad_norm", "weight_grad_std", "predicted_grad_std")
PERTURBED = ("distance", "correlation", "predicted_correlation")
STATISTICS = (*MEASURED, *PREDICTED, *BACKWARD, *PERTURBED)


@dataclass
class LayerStats:
    """What one layer's activations looked like (NaN where a statistic does not apply)."""
    layer: int  # counted from 1
    width: int
    activation: str
    mean: float
    std: float
    min: float
    max: float
    preact_std: float
    saturated: float  # the activation's saturation rule (fastinit.activations), else NaN
    dead: float       # fraction of exact zeros
    hist: np.ndarray = field(repr=False)
    bin_edges: np.ndarray = field(repr=False)
    # backward pass: std of dL/dH at this layer's output, dL/dW's norm and std
    grad_std: float = math.nan
    weight_grad_norm: float = math.nan
    weight_grad_std: float = math.nan
    # mean-field theory's prediction (fastinit.theory), NaN where it does not apply
    predicted_mean: float = math.nan
    predicted_std: float = math.nan
    predicted_grad_std: float = math.nan  # from the last layer's measured grad_std down
    # perturbation: mean squared distance between the outputs for X and for the second
    # input, their correlation sum(h1 h2) / sqrt(sum(h1^2) sum(h2^2)), and its prediction
    distance: float = math.nan
    correlation: float = math.nan
    predicted_correlation: float = math.nan

    def record(self):
        """Every field as a plain dict (arrays as lists)."""
        record = {f.name: getattr(self, f.name) for f in fields(self)}
        record["hist"], record["bin_edges"] = self.hist.tolist(), self.bin_edges.tolist()
        return record


def layer_stats(index, width, activation, stats, hist, edges):
    """The LayerStats of the layer at ``index`` (0-based): ``stats`` (the kernels' dict, see
    checked_stats) with its histogram."""
    stats = checked_stats(index, stats)
    return LayerStats(layer=index + 1, width=width, activation=activation,
                      **{k: float(stats[k]) for k in MEASURED},
                      hist=np.asarray(hist, np.int64), bin_edges=np.asarray(edges))


def checked_stats(index, stats):
    """The measured statistics of the layer at ``index`` (0-based) as reported. Where its
    activations overflowed (a value, their sum or their mean not finite), mean, std, min and
    max are NaN, engine and reference alike (their partial sums meet the infinities in
    different orders), with a warning; so is std alone where only their spread overflowed, and
    preact_std where the pre-activations' spread did (never inf beside NaN)."""
    isfinite = math.isfinite
    if not (isfinite(stats["mean"]) and isfinite(stats["min"]) and isfinite(stats["max"])):
        warnings.warn(f"layer {index + 1}'s activations overflowed (values or their sum not "
                      "finite): its mean, std, min and max are NaN", RuntimeWarning,
                      stacklevel=user_stacklevel())
        stats = {**stats, **dict.fromkeys(("mean", "std", "min", "max"), math.nan)}
    elif not isfinite(stats["std"]):  # the spread overflowed: NaN as preact_std's
        warnings.warn(f"layer {index + 1}'s activations' spread overflowed: its std is NaN",
                      RuntimeWarning, stacklevel=user_stacklevel())
        stats = {**stats, "std": math.nan}
    if not isfinite(stats["preact_std"]):  # inf or NaN, by the order infinities met
        stats = {**stats, "preact_std": math.nan}
    return stats


class LayerOutputs(Mapping):
    """The kept activations, as the classic notebook's dict ``{i: H_i}``: keys 0 .. n - 1
    (``acts[i]`` is layer i + 1), iteration yields the keys, ``.items()`` the pairs, and
    ``acts[-1]`` is the last layer. With ``keep_activations=False`` it is empty and indexing
    says why."""

    def __init__(self, arrays, depth):
        self._arrays, self._depth = list(arrays), depth

    def __getitem__(self, key):
        if isinstance(key, (bool, np.bool_)) or not isinstance(key, (int, np.integer)):
            raise KeyError(f"activations are indexed by layer position 0 .. {self._depth - 1} "
                           f"(or negative from the end), got {key!r}")
        if not self._arrays:
            raise KeyError("the activations were not kept: run forward_prop with "
                           "keep_activations=True")
        if not -self._depth <= key < self._depth:
            raise KeyError(f"layer position {key} out of range for {self._depth} layers")
        return self._arrays[key]

    def __iter__(self):
        return iter(range(len(self._arrays)))

    def __len__(self):
        return len(self._arrays)

    def __repr__(self):
        shapes = ", ".join(f"{i}: {a.shape}" for i, a in enumerate(self._arrays))
        return f"LayerOutputs({{{shapes}}})"


class Propagation:
    """The result of forward_prop; unpacks as ``acts, means, stds`` like the classic function.

    ``layers``: a LayerStats per layer; ``acts``: the kept activations (LayerOutputs)."""

    def __init__(self, layers, acts):
        self.layers = layers
        self.acts = acts if isinstance(acts, LayerOutputs) else LayerOutputs(acts, len(layers))

    @property
    def means(self):
        return [layer.mean for layer in self.layers]

    @property
    def stds(self):
        return [layer.std for layer in self.layers]

    def __iter__(self):
        return iter((self.acts, self.means, self.stds))

    def __len__(self):
        return len(self.layers)

    def to_records(self):
        """One dict per layer with every statistic."""
        return [layer.record() for layer in self.layers]

    def report(self):
        """The classic printout, "Hidden layer i had mean m and std s", with the mean-field
        prediction after it where the theory applies."""
        lines = []
        for s in self.layers:
            line = f"Hidden layer {s.layer} had mean {s.mean:.6g} and std {s.std:.6g}"
            if not math.isnan(s.predicted_std):
                line += (f" (predicted mean {s.predicted_mean:.6g} and std "
                         f"{s.predicted_std:.6g})")
            lines.append(line)
        return "\n".join(lines)

    def __repr__(self):
        return f"Propagation({len(self.layers)} layers)\n{self.report()}"

    def _repr_html_(self):
        """A notebook shows the result as a table: a row per layer, the statistics that apply
        (a column that is NaN in every layer is left out)."""
        records = self.to_records()
        columns = ["layer", "width", "activation"] + [
            k for k in STATISTICS if any(not _is_nan(r[k]) for r in records)]
        return html_table(records, columns,
                          caption=f"Propagation: {len(self.layers)} layers")

    def finding(self):
        """One line that says what happened to the signal, from the numbers (see finding)."""
        return finding(self.layers)

    def plot(self, title="", path=None):
        """The per-layer figure (fastinit.plot.classic_figure): mean, std and histograms,
        titled by ``title`` (default: the layers, e.g. "10 layers of 500 · tanh") over the
        finding. Returns the matplotlib Figure (a notebook displays it); writes it to ``path``
        if given."""
        from fastinit.plot import classic_figure
        return classic_figure(self, title or describe_layers(self.layers), path,
                              self.finding())


def describe_layers(layers):
    """"10 layers of 500 · tanh", or the widths and activations one by one where they differ."""
    widths = list(dict.fromkeys(layer.width for layer in layers))
    activations = list(dict.fromkeys(layer.activation for layer in layers))
    of = f"of {widths[0]}" if len(widths) == 1 else \
        "of widths " + ", ".join(str(layer.width) for layer in layers)
    return f"{len(layers)} layers {of} · {', '.join(activations)}"


def _field(layer, name):
    value = layer.get(name) if isinstance(layer, Mapping) else getattr(layer, name)
    return math.nan if value is None else float(value)


# what the finding calls a vanished (or exploded) signal or gradient
VANISHED, EXPLODED = 1e-3, 1e3


def finding(layers):
    """What happened to the signal, in one line computed from per-layer statistics (LayerStats
    or records with ``std``, ``saturated``, ``dead`` and, after a backward pass, ``grad_std``):
    the activations' std from the first layer to the last (collapse below 1e-3, decay, growth
    or steady), the saturated share from the first layer where it passes 50% (tanh: |a| >
    0.99), a ReLU's exact zeros when over 60%, and the gradient that reaches layer 1 relative
    to the unit gradient at the top (vanished below 1e-3, exploded above 1e3). E.g. "std 0.21
    at layer 1 collapses to 3e-07 by layer 10 (x0.19 per layer); gradient at layer 1:
    1.5e-06x the top's (vanishes)"."""
    if not layers:
        return ""
    std = [_field(layer, "std") for layer in layers]
    depth = len(layers)
    first, last = std[0], std[-1]
    if not all(math.isfinite(v) for v in (first, last)):
        return "the activations overflowed (std not finite)"
    if max(std) == 0:
        return ("every activation is exactly 0 at every layer: no signal passes, and the units "
                "of a layer all get the same gradient")
    parts = []
    per_layer = (last / first) ** (1 / (depth - 1)) if depth > 1 and first > 0 else math.nan
    rate = f" (x{per_layer:.2g} per layer)" if math.isfinite(per_layer) else ""
    if last < VANISHED:
        parts.append(f"std {first:.2g} at layer 1 collapses to {last:.1g} by layer {depth}{rate}")
    elif depth > 1 and last < first / 1.5:
        parts.append(f"std decays from {first:.2g} at layer 1 to {last:.2g} at layer "
                     f"{depth}{rate}")
    elif depth > 1 and last > 1.5 * first:
        parts.append(f"std grows from {first:.2g} at layer 1 to {last:.2g} at layer "
                     f"{depth}{rate}")
    else:
        parts.append(f"std steady near {last:.2g} (layer 1: {first:.2g})")
    saturated = [_field(layer, "saturated") for layer in layers]
    heavy = [i for i, v in enumerate(saturated) if v >= 0.5]
    if heavy:
        parts.append(f"{max(saturated):.0%} of values saturated from layer {heavy[0] + 1}")
    dead = _field(layers[-1], "dead")
    if math.isnan(saturated[-1]) and dead > 0.6:
        parts.append(f"{dead:.0%} of layer {depth}'s values exactly 0")
    grad = [_field(layer, "grad_std") for layer in layers]  # NaN without a backward pass
    if math.isfinite(grad[0]) and math.isfinite(grad[-1]) and grad[-1] > 0:
        ratio = grad[0] / grad[-1]
        verdict = " (vanishes)" if ratio < VANISHED else " (explodes)" if ratio > EXPLODED \
            else ""
        parts.append(f"gradient at layer 1: {ratio:.2g}x the top's{verdict}")
    return "; ".join(parts)


def _is_nan(value):
    return isinstance(value, float) and math.isnan(value)


def format_value(value):
    """A table cell: floats to 4 significant digits (1e-07 stays visible, unlike 0.000000)."""
    if value is None or _is_nan(value):
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def html_table(records, columns, caption=""):
    """Records as an HTML table (notebook reprs and the study report)."""
    from html import escape
    head = "".join(f"<th>{escape(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{escape(format_value(r.get(c)))}</td>"
                                    for c in columns) + "</tr>" for r in records)
    caption = f"<caption>{escape(caption)}</caption>" if caption else ""
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def nan_to_none(value):
    """NaN as None (JSON's null); anything else as it is."""
    return None if isinstance(value, float) and math.isnan(value) else value


def attach(layers, values):
    """Set per-layer values: ``values[i]`` a dict of LayerStats fields for ``layers[i]``."""
    for layer, update in zip(layers, values):
        for name, value in update.items():
            setattr(layer, name, value)

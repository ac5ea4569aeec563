"""The grid of a sweep: Config, one network's settings, and ``grid``, every combination of
the values given. Config's field defaults are a sweep's defaults, written once: ``grid``,
``sweep`` and the command line read them (``DEFAULTS``)."""
from __future__ import annotations

import itertools
from dataclasses import MISSING, dataclass, fields
from typing import Any, Sequence

from fastinit import text_specs as specs
from fastinit._docs import documented


@dataclass(frozen=True)
class Config:
    """One network of a sweep. ``init`` and ``bias`` are specs ("normal:std=0.01"; see
    fastinit.text_specs); ``bias`` may also be a constant."""
    init: str
    activation: str = "tanh"
    depth: int = 10
    width: int = 500
    batch: int = 1000
    dtype: str = "float64"
    seed: int = 0
    bias: object = 0.0

    @classmethod
    def from_record(cls, record):
        """The Config of a record read back from a file (CSV gives strings)."""
        values = {f.name: record[f.name] for f in fields(cls)}
        for name in ("depth", "width", "batch", "seed"):
            values[name] = int(values[name])
        values["bias"] = specs.bias(values["bias"])
        return cls(**values)

    @property
    def layer_flops(self):
        return 2.0 * self.batch * self.width * self.width


SEEDS = 1  # a grid's seeds: a count N (seeds 0..N-1) or a list
# A sweep's default for each grid key but ``init`` (which has none).
DEFAULTS = {**{f.name: f.default for f in fields(Config)
               if f.default is not MISSING and f.name != "seed"}, "seeds": SEEDS}
KEYS = ("init", *DEFAULTS)  # the grid's keys, in grid()'s order


def _as_list(value, name):
    if isinstance(value, (str, bytes, int, float)) or value is None:
        return [value]
    values = list(value)
    if not values:
        raise ValueError(f"{name} is empty: give at least one value")
    return values


# A sweep's parameters, described once (fastinit._docs.numpydoc builds grid's and sweep's
# docstrings from them). Each grid value is one value or a list of values.
PARAMETER_DOCS = {
    "init": """str or list of str
        Initializer specs ("lecun_normal", "normal:std=0.01"); a spec may list a parameter's
        alternatives ("normal:std=0.01|0.1|1" is three).""",
    "activation": 'str or list of str, default "tanh"\n        Activations.',
    "depth": "int or list of int, default 10\n        Layers per network.",
    "width": "int or list of int, default 500\n        Units per layer.",
    "batch": "int or list of int, default 1000\n        Rows of each network's input.",
    "dtype": 'str or list of str, default "float64"\n        float32 and/or float64.',
    "bias": """float, str or a list of them, default 0.0
        Constant biases or bias initializer specs ("normal:std=0.05").""",
    "seeds": """int or list of int, default 1
        A count N (seeds 0..N-1) or a list of seeds (ints in [0, 2**64) for Parquet).""",
}

OneOrMany = Any  # a value, or a list of values


@documented(PARAMETER_DOCS, """Returns
-------
list of Config
    Every combination, init slowest and seed fastest.""")
def grid(init: str | Sequence[str], *, activation: OneOrMany = Config.activation,
         depth: OneOrMany = Config.depth, width: OneOrMany = Config.width,
         batch: OneOrMany = Config.batch, dtype: OneOrMany = Config.dtype,
         bias: OneOrMany = Config.bias, seeds: OneOrMany = SEEDS) -> list[Config]:
    """Every combination of the given values, as a list of Config in a fixed order."""
    inits = [one for spec in _as_list(init, "init") for one in specs.expand(spec, "init")]
    biases = []
    for value in _as_list(bias, "bias"):
        value = specs.bias(value)
        biases.extend(specs.expand(value, "bias") if isinstance(value, str) else [value])
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ValueError(f"seeds must be a positive count or a list of seeds, got {seeds}")
        seeds = range(seeds)
    seeds = [specs.count(s, "seeds", minimum=0) for s in _as_list(seeds, "seeds")]
    activations = [specs.activation(a) for a in _as_list(activation, "activation")]
    depths = [specs.count(d, "depth") for d in _as_list(depth, "depth")]
    widths = [specs.count(w, "width") for w in _as_list(width, "width")]
    batches = [specs.count(b, "batch") for b in _as_list(batch, "batch")]
    dtypes = [specs.dtype_name(d) for d in _as_list(dtype, "dtype")]
    return [Config(i, a, d, w, b, t, s, bi) for i, a, d, w, b, t, bi, s in itertools.product(
        inits, activations, depths, widths, batches, dtypes, biases, seeds)]

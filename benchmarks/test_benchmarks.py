"""pytest-benchmark suite: ``pytest benchmarks --benchmark-enable`` (groups compare contenders
of one case; benchmarks/compare.py prints the ratios from one run)."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from cases import fill_cases, propagation_cases, sweep_cases  # noqa: E402

CASES = [(name, label, fn) for name, contenders in
         fill_cases() + propagation_cases((500,)) + sweep_cases(100)
         for label, fn in contenders.items()]


@pytest.mark.parametrize("name, label, fn", CASES, ids=[f"{n} | {l}" for n, l, _ in CASES])
def test_fill(benchmark, name, label, fn):
    benchmark.group = name
    benchmark.pedantic(fn, rounds=5, warmup_rounds=1)


def test_phase_diagram_64x64(benchmark):
    """Issue 5's target: a 64 x 64 chi_1 phase diagram in under a second."""
    import numpy as np

    from fastinit import theory
    benchmark.group = "theory"
    benchmark.pedantic(theory.phase_diagram, args=(np.linspace(0.5, 4, 64),
                                                   np.linspace(0, 0.5, 64), "tanh"), rounds=3)

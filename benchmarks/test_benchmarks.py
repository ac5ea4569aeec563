"""pytest-benchmark suite: ``pytest benchmarks --benchmark-enable`` (groups compare contenders
of one case; benchmarks/compare.py prints the ratios from one run)."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from cases import fill_cases, propagation_cases  # noqa: E402

CASES = [(name, label, fn) for name, contenders in fill_cases() + propagation_cases((500,))
         for label, fn in contenders.items()]


@pytest.mark.parametrize("name, label, fn", CASES, ids=[f"{n} | {l}" for n, l, _ in CASES])
def test_fill(benchmark, name, label, fn):
    benchmark.group = name
    benchmark.pedantic(fn, rounds=5, warmup_rounds=1)

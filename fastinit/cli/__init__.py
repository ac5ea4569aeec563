"""The application layer: the ``fastinit`` command line and what only it uses.

- ``commands``: ``main`` and one function per command (demo, run, sweep, report, phase, bench);
- ``parser``: the argparse parser, every option's help and default;
- ``report``: the HTML report of a sweep's result file;
- ``bench``: the benchmark timer and the plain NumPy baseline (``fastinit bench``,
  ``benchmarks/``).
"""
from fastinit.cli.commands import main

__all__ = ["main"]

"""Sweeps: many networks over a grid of configurations, one record per (configuration, layer).

- ``grid``: a sweep's configurations (``Config``, ``grid``) and their defaults;
- ``runner``: ``sweep`` and ``run_config``, in this process, on a pool or a Dask cluster;
- ``result_files``: the CSV, JSON-lines and Parquet formats, written as results arrive and
  resumed after a crash.

``fastinit.sweep.sweep(...)`` is the entry point; ``fastinit sweep`` the command line's.
"""
from fastinit.sweep.grid import Config, grid
from fastinit.sweep.result_files import read_records
from fastinit.sweep.runner import SweepResult, run_config, sweep

__all__ = ["Config", "SweepResult", "grid", "read_records", "run_config", "sweep"]

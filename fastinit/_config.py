"""What this build is and how it will run."""
from __future__ import annotations

import platform
import sys
from typing import TextIO

import numpy as np
import scipy

from fastinit._kernels import fill, openmp, threads
from fastinit.sources import STREAM_VERSION


def config():
    """The facts show_config prints, as a dict."""
    from fastinit._version import __version__
    try:
        from threadpoolctl import threadpool_info
        blas = [f"{i.get('internal_api')} {i.get('version')} ({i.get('num_threads')} threads)"
                for i in threadpool_info() if i.get("user_api") == "blas"]
    except ImportError:  # threadpoolctl is a dependency, but a bare build may lack it
        blas = []
    return {
        "fastinit": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "openmp": openmp.openmp_enabled(),
        "kernels": f"philox4x32-10 ({fill.philox_path()} path), stream version {STREAM_VERSION}",
        "threads": openmp.effective_num_threads(None),
        "waiting": threads.state(),
        "blas idle": threads.blas_idle_state(),
        "blas": ", ".join(blas) or "unknown",
    }


def show_config(file: TextIO | None = None) -> None:
    """Print the version, whether the kernels have OpenMP and how many threads they use, and
    what waiting threads and BLAS's idle threads do.

    Parameters
    ----------
    file : file object, optional
        Where to print (default: sys.stdout).

    Returns
    -------
    None
    """
    facts = config()
    lines = [f"fastinit {facts.pop('fastinit')}"]
    facts["openmp"] = "on" if facts["openmp"] else "off (single-threaded build)"
    lines += [f"  {key:<10}{value}" for key, value in facts.items()]
    print("\n".join(lines), file=file or sys.stdout)

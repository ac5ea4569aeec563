"""BLAS kept on one thread while the kernels run: they call it from every OpenMP thread, one
block of rows each, and BLAS's own threads would fight ours for the cores.

The limit is process-wide (BLAS has one thread count), so concurrent calls share it: the first
caller in sets it, the last one out restores exactly what was there before, whatever order the
calls end in. (threadpoolctl's limiter alone restores what it saw on entry: two overlapping
calls that exit out of order would leave BLAS on one thread for good.)
"""
import threading
from contextlib import contextmanager

_lock = threading.Lock()
_state = {"holders": 0, "limiter": None, "controller": None}


def _controller():
    # made once: finding the BLAS libraries costs milliseconds, limiting them microseconds
    if _state["controller"] is None:
        from threadpoolctl import ThreadpoolController
        _state["controller"] = ThreadpoolController()
    return _state["controller"]


@contextmanager
def blas_single_threaded():
    """BLAS on one thread inside the block, for every thread of this process; restored when
    the last block still open exits."""
    with _lock:
        if _state["holders"] == 0:
            _state["limiter"] = _controller().limit(limits=1, user_api="blas")
        _state["holders"] += 1
    try:
        yield
    finally:
        with _lock:
            _state["holders"] -= 1
            if _state["holders"] == 0:
                _state["limiter"].restore_original_limits()
                _state["limiter"] = None

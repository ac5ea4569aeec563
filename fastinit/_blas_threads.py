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
_state = {"holders": 0, "saved": None, "controller": None}


def _blas_libraries():
    # found once: finding the BLAS libraries costs milliseconds, setting their thread count
    # (a ctypes call) microseconds
    if _state["controller"] is None:
        from threadpoolctl import ThreadpoolController
        _state["controller"] = ThreadpoolController()
    return [lib for lib in _state["controller"].lib_controllers if lib.user_api == "blas"]


@contextmanager
def blas_single_threaded():
    """BLAS on one thread inside the block, for every thread of this process; restored when
    the last block still open exits."""
    with _lock:
        if _state["holders"] == 0:
            # a library already on one thread is left alone: nothing to set or restore
            _state["saved"] = [(lib, threads) for lib in _blas_libraries()
                               if (threads := lib.get_num_threads()) != 1]
            for lib, _ in _state["saved"]:
                lib.set_num_threads(1)
        _state["holders"] += 1
    try:
        yield
    finally:
        with _lock:
            _state["holders"] -= 1
            if _state["holders"] == 0:
                for lib, threads in _state["saved"]:
                    lib.set_num_threads(threads)
                _state["saved"] = None

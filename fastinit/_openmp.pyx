# cython: language_level=3
"""What OpenMP this build has, and how many threads a kernel call will use."""
import operator


def openmp_enabled():
    """True when the extensions were compiled with OpenMP."""
    return bool(FI_OPENMP_ENABLED)


def default_num_threads():
    """Threads a kernel uses when not told: OpenMP's default, which honours OMP_NUM_THREADS."""
    return omp_get_max_threads()


def effective_num_threads(num_threads=None):
    """The thread count a kernel will run with for ``num_threads``.

    ``None`` means OpenMP's default (``OMP_NUM_THREADS`` if set, else one per core); a positive
    int is taken as is. Without OpenMP every call runs on one thread.
    """
    if num_threads is None:
        n = omp_get_max_threads()
    else:
        if isinstance(num_threads, bool):
            raise TypeError(f"num_threads must be None or a positive int, got {num_threads!r}")
        try:
            n = operator.index(num_threads)
        except TypeError:
            raise TypeError(
                f"num_threads must be None or a positive int, got {num_threads!r}") from None
        if n < 1:
            raise ValueError(f"num_threads must be a positive int, got {n}")
    return n if FI_OPENMP_ENABLED else 1

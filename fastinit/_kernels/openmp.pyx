# cython: language_level=3
"""What OpenMP this build has, and how many threads a kernel call will use."""
from fastinit._kernels.threads import share_of_cores
from fastinit._validation import MAX_THREADS, num_threads as _checked_num_threads


def openmp_enabled():
    """True when the extensions were compiled with OpenMP."""
    return bool(FI_OPENMP_ENABLED)


def effective_num_threads(num_threads=None):
    """The thread count a kernel will run with for ``num_threads``.

    ``None`` means OpenMP's default (``OMP_NUM_THREADS`` if set, else one per core that other
    processes leave free: fastinit._kernels.threads.share_of_cores; never more than
    fastinit._validation.MAX_THREADS); an int in [1, MAX_THREADS] is taken as is,
    anything else is a TypeError/ValueError naming ``num_threads``. Without OpenMP every call
    runs on one thread.
    """
    n = _checked_num_threads(num_threads)
    if n is None:
        n = min(omp_get_max_threads(), MAX_THREADS)
        if FI_OPENMP_ENABLED and n > 1:
            n = share_of_cores(n)
    return n if FI_OPENMP_ENABLED else 1

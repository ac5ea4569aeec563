# Thin OpenMP shims that also compile without OpenMP (then: one thread, no parallelism).
cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    #define FI_OPENMP_ENABLED 1
    #else
    #define FI_OPENMP_ENABLED 0
    static inline int omp_get_max_threads(void) { return 1; }
    #endif
    """
    int FI_OPENMP_ENABLED
    int omp_get_max_threads() nogil

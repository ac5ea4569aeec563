# The C-level helpers the propagation kernels (propagate.pyx) and the backward kernels
# (backward.pyx) share: constants, the BLAS and LAPACK calls (shared.pyx), chunk reductions.
# cimported (``from fastinit._kernels.shared cimport ...``); the inline helpers and the
# reductions header are compiled into each module that uses them.
from cython cimport floating
from scipy.linalg.cython_blas cimport dgemm, sgemm

cdef enum:
    CHUNK_ELEMENTS = 4096  # one statistics chunk: fits in L1/L2 for the fused loops
    ITEM_ROWS = 128         # rows per OpenMP work item of the backward GEMMs
    # rows per work item of the forward pass (one GEMM call and its chunks' passes): BLAS packs
    # the whole weight matrix again for every call, so items are as large as four per batch
    # (two for a big weight matrix) allows, within these bounds. They depend on the batch
    # alone, never on the thread count (a GEMM's bits depend on how its rows are split into
    # calls).
    MIN_ITEM_ROWS = 128
    MAX_ITEM_ROWS = 512
    ITEMS_PER_BATCH = 4
    BIG_WEIGHTS = 1 << 20   # k * width from which a batch is cut in two items
    # activation codes: fastinit.activations.TABLE's (one branch per code below)
    LINEAR = 0
    TANH = 1
    RELU = 2
    LEAKY_RELU = 3
    SIGMOID = 4
    SELU = 5
    ELU = 6
    GELU = 7


# The activations' constants, one C definition (verbatim in every module that cimports them);
# shared.pyx exports them so that a test holds them against fastinit.activations.
cdef extern from *:
    """
    #define FI_SELU_SCALE 1.0507009873554804934193349852946
    #define FI_SELU_ALPHA 1.6732632423543772848170429916717
    #define FI_SQRT1_2 0.70710678118654752440
    """
    const double SELU_SCALE "FI_SELU_SCALE"
    const double SELU_ALPHA "FI_SELU_ALPHA"
    const double SQRT1_2 "FI_SQRT1_2"


cdef void gemm(const char* transa, const char* transb, int m, int n, int k,
               const floating* a, int lda, const floating* b, int ldb, floating beta,
               floating* c, int ldc) noexcept nogil


# orthogonal weights in the kernels (fastinit.structured.orthogonal's QR, same calls, same bits)
cdef Py_ssize_t orthonormal_work(Py_ssize_t rows, Py_ssize_t cols) noexcept nogil
cdef int orthonormalize(floating* w, Py_ssize_t rows, Py_ssize_t cols, double gain,
                        floating* work) noexcept nogil


cdef inline void gemm_rows(const floating* a, int lda, const floating* b, floating* c, int m,
                           int k, int n, floating beta) noexcept nogil:
    """c = a @ b + beta * c for m rows, row-major (BLAS sees the transposes)."""
    gemm(b"N", b"N", n, m, k, b, n, a, lda, beta, c, n)


cdef extern from "reductions.h" nogil:
    double fi_sum_d(const double* x, size_t n)
    double fi_sum_f(const float* x, size_t n)
    double fi_sqdev_d(const double* x, size_t n, double mean)
    double fi_sqdev_f(const float* x, size_t n, double mean)
    void fi_range_d(const double* x, size_t n, double* lo, double* hi)
    void fi_range_f(const float* x, size_t n, double* lo, double* hi)
    void fi_count_d(const double* x, size_t n, double below, double above, long long* zeros,
                    long long* outside)
    void fi_count_f(const float* x, size_t n, float below, float above, long long* zeros,
                    long long* outside)
    void fi_histogram_fast_d(const double* x, size_t n, const double* edges, int bins,
                             double scale, double step, long long* hist)
    void fi_histogram_fast_f(const float* x, size_t n, const double* edges, int bins,
                             double scale, double step, long long* hist)


cdef inline double chunk_sum(const floating* x, Py_ssize_t n) noexcept nogil:
    if floating is double:
        return fi_sum_d(x, n)
    return fi_sum_f(x, n)


cdef inline double chunk_sqdev(const floating* x, Py_ssize_t n, double mean) noexcept nogil:
    if floating is double:
        return fi_sqdev_d(x, n, mean)
    return fi_sqdev_f(x, n, mean)

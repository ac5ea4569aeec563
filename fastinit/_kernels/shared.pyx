# cython: language_level=3
"""The kernels' shared C-level helpers (declared in shared.pxd): the one place BLAS is called,
the QR of orthogonal weights (LAPACK), and the activation codes and constants the kernels use,
for the test that holds them against fastinit.activations.TABLE."""


cdef void gemm(const char* transa, const char* transb, int m, int n, int k,
               const floating* a, int lda, const floating* b, int ldb, floating beta,
               floating* c, int ldc) noexcept nogil:
    """Column-major c (m x n) = op(a) @ op(b) + beta * c: the one place BLAS is called."""
    cdef floating one = 1
    if floating is double:
        dgemm(<char*>transa, <char*>transb, &m, &n, &k, &one, <double*>a, &lda, <double*>b,
              &ldb, &beta, c, &ldc)
    else:
        sgemm(<char*>transa, <char*>transb, &m, &n, &k, &one, <float*>a, &lda, <float*>b,
              &ldb, &beta, c, &ldc)

from libc.string cimport memcpy
from scipy.linalg.cython_lapack cimport dgeqrf, dorgqr, sgeqrf, sorgqr


cdef Py_ssize_t orthonormal_work(Py_ssize_t rows, Py_ssize_t cols) noexcept nogil:
    """How many items of scratch orthonormalize needs for a (rows, cols) weight: tau, signs
    and LAPACK's workspace (66 per column of the QR), and a tall weight's transposed copy."""
    return 66 * min(rows, cols) + (rows * cols if cols < rows else 0)


cdef int orthonormalize(floating* w, Py_ssize_t rows, Py_ssize_t cols, double gain,
                        floating* work) noexcept nogil:
    """Turn the standard normal draws in w (a (rows, cols) weight, C order) into
    fastinit.structured.orthogonal's weight: gain * Q * sign(diag R), where QR factors the
    draws seen as a column-major m x n matrix, m = max(rows, cols), n = min(rows, cols) (for
    a wide or square weight the transpose of w; for a tall one the draws as orthogonal lays
    them out, (cols, rows) in C order). For n up to structured.QR_PANEL these are that
    function's LAPACK calls with its workspace sizes (geqrf's default 3 n, orgqr's 64 n), so
    the bits are the same. ``work``: orthonormal_work(rows, cols) items. Returns LAPACK's
    info (0)."""
    cdef int m = <int>max(rows, cols), n = <int>min(rows, cols), lwork, info = 0, i, j
    cdef floating* tau = work
    cdef floating* signs = work + n
    cdef floating* scratch = work + 2 * n
    cdef floating* copy = work + 66 * n
    lwork = 3 * n
    if floating is double:
        dgeqrf(&m, &n, w, &m, tau, scratch, &lwork, &info)
    else:
        sgeqrf(&m, &n, w, &m, tau, scratch, &lwork, &info)
    if info:
        return info
    for j in range(n):  # R's diagonal, before orgqr overwrites it
        signs[j] = <floating>(-gain) if w[j + <Py_ssize_t>j * m] < 0 else <floating>gain
    lwork = 64 * n
    if floating is double:
        dorgqr(&m, &n, &n, w, &m, tau, scratch, &lwork, &info)
    else:
        sorgqr(&m, &n, &n, w, &m, tau, scratch, &lwork, &info)
    for j in range(n):
        for i in range(m):
            w[i + <Py_ssize_t>j * m] = w[i + <Py_ssize_t>j * m] * signs[j]
    if cols < rows:  # tall: w[i, j] is Q's (i, j), column-major in memory: transpose
        for i in range(rows):
            for j in range(cols):
                copy[i * cols + j] = w[i + j * rows]
        memcpy(w, copy, rows * cols * sizeof(floating))
    return info


def activation_constants():
    """The kernels' activation codes (name -> code) and constants, as compiled."""
    codes = {"linear": LINEAR, "tanh": TANH, "relu": RELU, "leaky_relu": LEAKY_RELU,
             "sigmoid": SIGMOID, "selu": SELU, "elu": ELU, "gelu": GELU}
    return codes, {"selu_scale": SELU_SCALE, "selu_alpha": SELU_ALPHA, "sqrt1_2": SQRT1_2}

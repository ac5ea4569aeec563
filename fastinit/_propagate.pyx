# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Propagation kernels: the GEMM (BLAS through scipy.linalg.cython_blas) and the fused pass that
adds the bias, applies the activation in place and measures the layer, all with the GIL released.

The fused pass splits the output into fixed chunks of whole rows. Each chunk's partial
statistics (count, mean and M2 by Chan et al.'s pairwise update, min, max, counts, histogram)
land in their own slot and are merged in chunk order afterwards, so every number is identical
for any thread count. Inputs are validated by fastinit.propagation; nothing here checks them.
"""
from libc.math cimport erf, expm1, fabs, INFINITY, NAN
from libc.string cimport memset
from cython cimport floating
from cython.parallel cimport prange
from scipy.linalg.cython_blas cimport dgemm, sgemm

import numpy as np

cdef enum:
    CHUNK_ELEMENTS = 4096  # one statistics chunk: fits in L1/L2 for the fused loops
    ITEM_ROWS = 128         # rows per OpenMP work item (one GEMM call each)
    # activations
    LINEAR = 0
    TANH = 1
    RELU = 2
    LEAKY_RELU = 3
    SIGMOID = 4
    SELU = 5
    ELU = 6
    GELU = 7
    # saturation tests
    SATURATION_NONE = 0
    SATURATION_SYMMETRIC = 1   # |h| > 0.99 (tanh)
    SATURATION_UNIT = 2        # h < 0.01 or h > 0.99 (sigmoid)

ACTIVATION_CODES = {"linear": LINEAR, "tanh": TANH, "relu": RELU, "leaky_relu": LEAKY_RELU,
                    "sigmoid": SIGMOID, "selu": SELU, "elu": ELU, "gelu": GELU}
SATURATION_CODES = {"tanh": SATURATION_SYMMETRIC, "sigmoid": SATURATION_UNIT}

# saturated: |h| > 0.99 (tanh), h < 0.01 or h > 0.99 (sigmoid), as (below, above) per mode. The
# float32 bounds are the float32 values that make v < below and v > above the same tests as in
# double: the nearest float32 on the side away from the saturated region.
cdef double SATURATION_BOUNDS64[6]
cdef float SATURATION_BOUNDS32[6]
SATURATION_BOUNDS64[:] = [-INFINITY, INFINITY, -0.99, 0.99, 0.01, 0.99]
for _i, _bound in enumerate([-np.inf, np.inf, -0.99, 0.99, 0.01, 0.99]):
    _f = np.float32(_bound)
    if _i % 2 == 0 and _f < _bound:    # below: the smallest float32 >= bound
        _f = np.nextafter(_f, np.float32(np.inf))
    elif _i % 2 == 1 and _f > _bound:  # above: the largest float32 <= bound
        _f = np.nextafter(_f, np.float32(-np.inf))
    SATURATION_BOUNDS32[_i] = _f

cdef double SELU_SCALE = 1.0507009873554804934193349852946
cdef double SELU_ALPHA = 1.6732632423543772848170429916717
cdef double SQRT1_2 = 0.70710678118654752440


cdef void gemm_rows(const floating* a, int lda, const floating* b, floating* c, int m, int k,
                    int n, floating beta) noexcept nogil:
    """c = a @ b + beta * c for m rows, row-major (BLAS sees the transposes)."""
    cdef floating one = 1
    if floating is double:
        dgemm(b"N", b"N", &n, &m, &k, &one, <double*>b, &n, <double*>a, &lda, &beta, c, &n)
    else:
        sgemm(b"N", b"N", &n, &m, &k, &one, <float*>b, &n, <float*>a, &lda, &beta, c, &n)


cdef extern from "_reductions.h" nogil:
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
    void fi_histogram_d(const double* x, size_t n, const double* edges, int bins, double scale,
                        long long* hist)
    void fi_histogram_f(const float* x, size_t n, const double* edges, int bins, double scale,
                        long long* hist)


cdef inline double chunk_sum(const floating* x, Py_ssize_t n) noexcept nogil:
    if floating is double:
        return fi_sum_d(x, n)
    return fi_sum_f(x, n)


cdef inline double chunk_sqdev(const floating* x, Py_ssize_t n, double mean) noexcept nogil:
    if floating is double:
        return fi_sqdev_d(x, n, mean)
    return fi_sqdev_f(x, n, mean)


cdef inline void chunk_histogram(const floating* x, Py_ssize_t n, const double* edges, int bins,
                                 double scale, long long* hist) noexcept nogil:
    if floating is double:
        fi_histogram_d(x, n, edges, bins, scale, hist)
    else:
        fi_histogram_f(x, n, edges, bins, scale, hist)


cdef extern from "_activations.h" nogil:
    void fi_tanh_d(double* h, size_t n)
    void fi_tanh_f(float* h, size_t n)
    void fi_sigmoid_d(double* h, size_t n)
    void fi_sigmoid_f(float* h, size_t n)


cdef void activate(floating* h, Py_ssize_t n, int kind, double slope) noexcept nogil:
    """h = activation(h) in place; one loop per activation so that the common ones vectorise."""
    cdef Py_ssize_t i
    if kind == TANH:
        if floating is double:
            fi_tanh_d(h, n)
        else:
            fi_tanh_f(h, n)
    elif kind == RELU:
        for i in range(n):
            h[i] = h[i] if h[i] > 0 else 0
    elif kind == LEAKY_RELU:
        for i in range(n):
            h[i] = h[i] if h[i] > 0 else <floating>(slope * h[i])
    elif kind == SIGMOID:
        if floating is double:
            fi_sigmoid_d(h, n)
        else:
            fi_sigmoid_f(h, n)
    elif kind == SELU:
        for i in range(n):
            h[i] = <floating>(SELU_SCALE * (h[i] if h[i] > 0 else SELU_ALPHA * expm1(h[i])))
    elif kind == ELU:
        for i in range(n):
            h[i] = h[i] if h[i] > 0 else <floating>expm1(h[i])
    elif kind == GELU:
        for i in range(n):
            h[i] = <floating>(0.5 * h[i] * (1.0 + erf(h[i] * SQRT1_2)))


cdef void chunk_pass(floating* h, Py_ssize_t rows, Py_ssize_t width, const floating* bias,
                     double bias_value, int kind, double slope, int saturation, int bins,
                     const double* edges, double scale, double* part, long long* hist) noexcept nogil:
    # part: mean_z, m2_z, mean_h, m2_h, min, max, saturated, zeros. A chunk fits in L2, so the
    # few tight loops over it cost about one pass over memory.
    cdef Py_ssize_t i, j, n = rows * width
    cdef double mean
    cdef long long n_saturated = 0, n_zero = 0
    cdef floating* row
    for i in range(rows):
        row = h + i * width
        if bias != NULL:
            for j in range(width):
                row[j] = row[j] + bias[j]
        elif bias_value != 0:
            for j in range(width):
                row[j] = row[j] + <floating>bias_value
    mean = chunk_sum(h, n) / n
    part[0] = mean
    part[1] = chunk_sqdev(h, n, mean)
    activate(h, n, kind, slope)
    mean = chunk_sum(h, n) / n
    part[2] = mean
    part[3] = chunk_sqdev(h, n, mean)
    if floating is double:
        fi_range_d(h, n, &part[4], &part[5])
        fi_count_d(h, n, SATURATION_BOUNDS64[2 * saturation],
                   SATURATION_BOUNDS64[2 * saturation + 1], &n_zero, &n_saturated)
    else:
        fi_range_f(h, n, &part[4], &part[5])
        fi_count_f(h, n, SATURATION_BOUNDS32[2 * saturation],
                   SATURATION_BOUNDS32[2 * saturation + 1], &n_zero, &n_saturated)
    if bins > 0:
        chunk_histogram(h, n, edges, bins, scale, hist)
    part[6] = <double>n_saturated
    part[7] = <double>n_zero


cdef inline void merge(double* total, double n_total, const double* part, double n_part) noexcept nogil:
    """Chan et al.: the (mean, M2) of two groups from each group's (mean, M2)."""
    cdef double n = n_total + n_part, delta
    cdef int k
    for k in range(0, 4, 2):
        delta = part[k] - total[k]
        total[k + 1] += part[k + 1] + delta * delta * n_total * n_part / n
        total[k] += delta * n_part / n
    total[4] = part[4] if part[4] < total[4] else total[4]
    total[5] = part[5] if part[5] > total[5] else total[5]
    total[6] += part[6]
    total[7] += part[7]


def forward_layer(const floating[:, :] x, const floating[:, ::1] w, floating[:, ::1] out,
                  double beta, bint finish, floating[::1] bias, double bias_value,
                  str activation, double slope, str saturation, const double[::1] edges,
                  int num_threads):
    """out = x @ w + beta * out; then, if ``finish``, out = activation(out + bias) measured.

    One OpenMP loop over blocks of rows: each block's GEMM (BLAS must run one thread per call:
    the caller pins it) and, while the block is still in cache, its fused pass. Returns (stats
    dict, histogram counts) when finishing, else None. ``x`` may be a column slice (a row
    block of a larger weight multiplies it); ``bias`` may be None, then ``bias_value`` is added
    everywhere; empty ``edges``: no histogram in this pass.
    """
    cdef Py_ssize_t rows = out.shape[0], width = out.shape[1], k = x.shape[1]
    cdef Py_ssize_t rows_per_chunk = max(1, CHUNK_ELEMENTS // max(width, 1))
    cdef Py_ssize_t nchunks = (rows + rows_per_chunk - 1) // rows_per_chunk
    cdef Py_ssize_t chunks_per_item = (ITEM_ROWS + rows_per_chunk - 1) // rows_per_chunk
    cdef Py_ssize_t nitems = (nchunks + chunks_per_item - 1) // chunks_per_item
    cdef Py_ssize_t item, c, r0, r1, c0, c1
    cdef int lda = <int>(x.strides[0] // sizeof(floating))
    cdef int kind = ACTIVATION_CODES[activation]
    cdef int sat = SATURATION_CODES.get(saturation, SATURATION_NONE)
    cdef int bins = max(<int>edges.shape[0] - 1, 0)
    cdef double scale = bins / (edges[bins] - edges[0]) if bins > 0 else 0.0
    cdef const floating* bias_ptr = &bias[0] if bias is not None else NULL
    cdef const double* edges_ptr = &edges[0] if bins > 0 else NULL
    cdef double[:, ::1] parts = np.zeros((max(nchunks, 1), 8))
    cdef long long[:, ::1] hists = np.zeros((max(nchunks, 1), max(bins, 1)), dtype=np.int64)
    cdef double total[8]
    cdef double count = 0, n_part
    if rows == 0 or width == 0 or k == 0 or x.shape[0] != rows or w.shape[0] != k \
            or w.shape[1] != width:
        raise ValueError("forward_layer needs non-empty matrices of matching shapes")
    if x.strides[1] != sizeof(floating) and k > 1:
        raise ValueError("forward_layer needs x with contiguous rows")
    with nogil:
        for item in prange(nitems, num_threads=num_threads, schedule="static"):
            c0 = item * chunks_per_item
            c1 = min(c0 + chunks_per_item, nchunks)
            r0 = c0 * rows_per_chunk
            r1 = min(c1 * rows_per_chunk, rows)
            gemm_rows(&x[r0, 0], lda, &w[0, 0], &out[r0, 0], <int>(r1 - r0), <int>k,
                      <int>width, <floating>beta)
            if finish:
                for c in range(c0, c1):
                    chunk_pass(&out[0, 0] + c * rows_per_chunk * width,
                               min(rows_per_chunk, rows - c * rows_per_chunk), width, bias_ptr,
                               bias_value, kind, slope, sat, bins, edges_ptr, scale,
                               &parts[c, 0], &hists[c, 0])
        memset(total, 0, sizeof(total))
        total[4] = INFINITY
        total[5] = -INFINITY
        for c in range(nchunks):
            n_part = <double>(min(rows_per_chunk, rows - c * rows_per_chunk) * width)
            merge(total, count, &parts[c, 0], n_part)
            count += n_part
    if not finish:
        return None
    n = rows * width
    stats = {
        "preact_mean": total[0], "preact_std": (total[1] / n) ** 0.5,
        "mean": total[2], "std": (total[3] / n) ** 0.5, "min": total[4], "max": total[5],
        "saturated": total[6] / n if sat != SATURATION_NONE else NAN,
        "dead": total[7] / n,
    }
    return stats, np.asarray(hists).sum(axis=0)[:bins]


def histogram(const floating[:, ::1] h, const double[::1] edges, int num_threads):
    """np.histogram(h, edges) for equal-width edges, by chunks merged in order."""
    cdef Py_ssize_t n = h.shape[0] * h.shape[1]
    cdef Py_ssize_t nchunks = (n + CHUNK_ELEMENTS - 1) // CHUNK_ELEMENTS, c, end
    cdef int bins = <int>edges.shape[0] - 1
    cdef double scale = bins / (edges[bins] - edges[0])
    cdef long long[:, ::1] hists = np.zeros((max(nchunks, 1), bins), dtype=np.int64)
    cdef const floating* data = &h[0, 0]
    with nogil:
        for c in prange(nchunks, num_threads=num_threads, schedule="static"):
            end = min((c + 1) * CHUNK_ELEMENTS, n)
            chunk_histogram(data + c * CHUNK_ELEMENTS, end - c * CHUNK_ELEMENTS, &edges[0], bins,
                            scale, &hists[c, 0])
    return np.asarray(hists).sum(axis=0)

# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Propagation kernels: the GEMM (BLAS through scipy.linalg.cython_blas) and the fused pass that
adds the bias, applies the activation in place and measures the layer, all with the GIL released.

The fused pass splits the output into fixed chunks of whole rows. Each chunk's partial
statistics (count, mean and M2 by Chan et al.'s pairwise update, min, max, counts, histogram)
land in their own slot and are merged in chunk order afterwards, so every number is identical
for any thread count. Inputs are validated by fastinit.propagation; nothing here checks them.
"""
from libc.math cimport erf, exp, expm1, fabs, tanh, tanhf, INFINITY, NAN
from libc.string cimport memset
from cython cimport floating
from cython.parallel cimport prange
from scipy.linalg.cython_blas cimport dgemm, sgemm

import numpy as np

cdef enum:
    CHUNK_ELEMENTS = 4096
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

cdef double SELU_SCALE = 1.0507009873554804934193349852946
cdef double SELU_ALPHA = 1.6732632423543772848170429916717
cdef double SQRT1_2 = 0.70710678118654752440


def gemm(const floating[:, :] a, const floating[:, ::1] b, floating[:, ::1] c, double alpha,
         double beta):
    """c = alpha * a @ b + beta * c, row-major (BLAS sees the transposes); ``a`` may be a column
    slice of a larger C-ordered matrix (unit stride along its rows)."""
    cdef int m = a.shape[0], k = a.shape[1], n = b.shape[1]
    cdef int lda = <int>(a.strides[0] // sizeof(floating))
    cdef floating alpha_ = <floating>alpha, beta_ = <floating>beta
    if a.strides[1] != sizeof(floating) and k > 1:
        raise ValueError("gemm needs a matrix with contiguous rows")
    if m == 0 or n == 0:
        return
    with nogil:
        if floating is double:
            dgemm(b"N", b"N", &n, &m, &k, &alpha_, <double*>&b[0, 0], &n, <double*>&a[0, 0],
                  &lda, &beta_, &c[0, 0], &n)
        else:
            sgemm(b"N", b"N", &n, &m, &k, &alpha_, <float*>&b[0, 0], &n, <float*>&a[0, 0],
                  &lda, &beta_, &c[0, 0], &n)


cdef inline floating activate(floating z, int kind, double slope) noexcept nogil:
    if kind == TANH:
        if floating is float:
            return tanhf(z)
        return tanh(z)
    if kind == RELU:
        return z if z > 0 else 0
    if kind == LEAKY_RELU:
        return z if z > 0 else <floating>(slope * z)
    if kind == SIGMOID:
        return <floating>(1.0 / (1.0 + exp(-<double>z)))
    if kind == SELU:
        return <floating>(SELU_SCALE * (z if z > 0 else SELU_ALPHA * expm1(z)))
    if kind == ELU:
        return z if z > 0 else <floating>expm1(z)
    if kind == GELU:
        return <floating>(0.5 * z * (1.0 + erf(z * SQRT1_2)))
    return z


cdef inline int saturated(double h, int mode) noexcept nogil:
    if mode == SATURATION_SYMMETRIC:
        return fabs(h) > 0.99
    if mode == SATURATION_UNIT:
        return h < 0.01 or h > 0.99
    return 0


cdef inline Py_ssize_t bin_of(double h, const double* edges, int bins, double scale) noexcept nogil:
    """np.histogram's bin of h (last bin closed), or -1 outside [edges[0], edges[bins]]."""
    cdef Py_ssize_t i
    if not (edges[0] <= h <= edges[bins]):
        return -1
    i = <Py_ssize_t>((h - edges[0]) * scale)
    if i >= bins:
        i = bins - 1
    if h < edges[i]:
        i -= 1
    elif i != bins - 1 and h >= edges[i + 1]:
        i += 1
    return i


cdef void chunk_pass(floating* h, Py_ssize_t rows, Py_ssize_t width, const floating* bias,
                     double bias_value, int kind, double slope, int saturation, int bins,
                     const double* edges, double scale, double* part, long long* hist) noexcept nogil:
    # part: mean_z, m2_z, mean_h, m2_h, min, max, saturated, zeros
    cdef Py_ssize_t i, j, n = rows * width, b
    cdef double z, v, sum_z = 0, m2_z = 0, sum_h = 0, m2_h = 0, mean, lo = INFINITY, hi = -INFINITY
    cdef long long n_saturated = 0, n_zero = 0
    cdef floating* row
    for i in range(rows):
        row = h + i * width
        for j in range(width):
            row[j] = row[j] + (bias[j] if bias != NULL else <floating>bias_value)
            sum_z += row[j]
    mean = sum_z / n
    for i in range(n):
        z = h[i]
        m2_z += (z - mean) * (z - mean)
        h[i] = activate(h[i], kind, slope)
        v = h[i]
        sum_h += v
        lo = v if v < lo else lo
        hi = v if v > hi else hi
        n_saturated += saturated(v, saturation)
        n_zero += v == 0
        if bins > 0:
            b = bin_of(v, edges, bins, scale)
            if b >= 0:
                hist[b] += 1
    part[0] = mean
    part[1] = m2_z
    mean = sum_h / n
    for i in range(n):
        m2_h += (h[i] - mean) * (h[i] - mean)
    part[2] = mean
    part[3] = m2_h
    part[4] = lo
    part[5] = hi
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


def layer_pass(floating[:, ::1] h, floating[::1] bias, double bias_value, str activation,
               double slope, str saturation, const double[::1] edges, int num_threads):
    """In place: h = activation(h + bias); returns (stats dict, histogram counts).

    ``bias`` (one per column) may be None, then ``bias_value`` is added everywhere. ``edges``
    are the histogram's bin edges (empty: no histogram in this pass).
    """
    cdef Py_ssize_t rows = h.shape[0], width = h.shape[1]
    cdef Py_ssize_t rows_per_chunk = max(1, CHUNK_ELEMENTS // max(width, 1))
    cdef Py_ssize_t nchunks = (rows + rows_per_chunk - 1) // rows_per_chunk, c, r0, k
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
    if rows == 0 or width == 0:
        raise ValueError("layer_pass needs a non-empty layer")
    with nogil:
        for c in prange(nchunks, num_threads=num_threads, schedule="static"):
            r0 = c * rows_per_chunk
            chunk_pass(&h[0, 0] + r0 * width, min(rows_per_chunk, rows - r0), width, bias_ptr,
                       bias_value, kind, slope, sat, bins, edges_ptr, scale, &parts[c, 0],
                       &hists[c, 0])
        memset(total, 0, sizeof(total))
        total[4] = INFINITY
        total[5] = -INFINITY
        for c in range(nchunks):
            n_part = <double>(min(rows_per_chunk, rows - c * rows_per_chunk) * width)
            merge(total, count, &parts[c, 0], n_part)
            count += n_part
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
    cdef Py_ssize_t nchunks = (n + CHUNK_ELEMENTS - 1) // CHUNK_ELEMENTS, c, i, b, end
    cdef int bins = <int>edges.shape[0] - 1
    cdef double scale = bins / (edges[bins] - edges[0])
    cdef long long[:, ::1] hists = np.zeros((max(nchunks, 1), bins), dtype=np.int64)
    cdef const floating* data = &h[0, 0]
    with nogil:
        for c in prange(nchunks, num_threads=num_threads, schedule="static"):
            end = min((c + 1) * CHUNK_ELEMENTS, n)
            for i in range(c * CHUNK_ELEMENTS, end):
                b = bin_of(data[i], &edges[0], bins, scale)
                if b >= 0:
                    hists[c, b] += 1
    return np.asarray(hists).sum(axis=0)

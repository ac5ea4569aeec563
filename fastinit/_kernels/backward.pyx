# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Backward kernels: one layer of the backward pass (fastinit.gradients.backward_pass without
the GIL) and the plain parallel product it needs. Inputs are validated by fastinit.propagation.
"""
from cython cimport floating
from cython.parallel cimport parallel, prange

from fastinit._kernels.interrupt cimport fi_interrupt, fi_interrupt_init, fi_interrupt_poll, raise_pending

import numpy as np

from fastinit._kernels.shared cimport (
    BIG_WEIGHTS, CHUNK_ELEMENTS, ELU, GELU, ITEM_ROWS, ITEMS_PER_BATCH, LEAKY_RELU, LINEAR,
    MAX_ITEM_ROWS, MIN_ITEM_ROWS, RELU, SELU, SELU_ALPHA, SELU_SCALE, SIGMOID, SQRT1_2, TANH,
    chunk_sqdev, chunk_sum, fi_count_d, fi_count_f, fi_histogram_fast_d, fi_histogram_fast_f,
    fi_range_d, fi_range_f, gemm, gemm_rows,
)

include "simd_switch.pxi"


def matmul(const floating[:, ::1] a, const floating[:, ::1] b, floating[:, ::1] out,
           int num_threads=1):
    """out = a @ b, rows split over threads as in forward_layer (BLAS one thread per call)."""
    cdef Py_ssize_t rows = a.shape[0], k = a.shape[1], width = b.shape[1]
    cdef Py_ssize_t item, nitems = (rows + ITEM_ROWS - 1) // ITEM_ROWS, r0, r1
    cdef fi_interrupt interrupt
    if b.shape[0] != k or out.shape[0] != rows or out.shape[1] != width:
        raise ValueError("matmul needs matching shapes")
    if rows == 0 or width == 0:
        return
    if k == 0:
        out[...] = 0
        return
    fi_interrupt_init(&interrupt)
    with nogil:
        for item in prange(nitems, num_threads=num_threads, schedule="static"):
            if fi_interrupt_poll(&interrupt):
                continue
            r0 = item * ITEM_ROWS
            r1 = min(r0 + ITEM_ROWS, rows)
            gemm_rows(&a[0, 0] + r0 * k, <int>k, &b[0, 0], &out[0, 0] + r0 * width,
                      <int>(r1 - r0), <int>k, <int>width, 0)
    if interrupt.stop:
        raise_pending()


cdef void derivative_times(floating* g, const floating* h, Py_ssize_t n, int kind,
                           floating slope) noexcept nogil:
    """g *= phi'(z), phi' read from the output h = phi(z) (fastinit.gradients.derivative, in
    the same dtype arithmetic)."""
    cdef Py_ssize_t i
    cdef floating one = 1, zero = 0
    cdef floating selu_scale = <floating>SELU_SCALE
    cdef floating selu_offset = <floating>(SELU_SCALE * SELU_ALPHA)
    if kind == TANH:
        for i in range(n):
            g[i] = g[i] * (one - h[i] * h[i])
    elif kind == SIGMOID:
        for i in range(n):
            g[i] = g[i] * (h[i] * (one - h[i]))
    elif kind == RELU:
        for i in range(n):
            g[i] = g[i] * (one if h[i] > 0 else zero)
    elif kind == LEAKY_RELU:
        for i in range(n):
            g[i] = g[i] * (one if h[i] > 0 else slope)
    elif kind == ELU:
        for i in range(n):
            g[i] = g[i] * (one if h[i] > 0 else h[i] + one)
    elif kind == SELU:
        for i in range(n):
            g[i] = g[i] * (selu_scale if h[i] > 0 else h[i] + selu_offset)


cdef void moments_in_order(const floating* x, Py_ssize_t n, double* parts, double* out,
                           int num_threads) noexcept nogil:
    """(mean, M2) of x by chunks of CHUNK_ELEMENTS merged in order: any thread count, same
    bits."""
    cdef Py_ssize_t nchunks = (n + CHUNK_ELEMENTS - 1) // CHUNK_ELEMENTS, c, m
    cdef double count = 0, n_part, delta
    for c in prange(nchunks, num_threads=num_threads, schedule="static"):
        m = min(<Py_ssize_t>CHUNK_ELEMENTS, n - c * CHUNK_ELEMENTS)
        parts[2 * c] = chunk_sum(x + c * CHUNK_ELEMENTS, m) / m
        parts[2 * c + 1] = chunk_sqdev(x + c * CHUNK_ELEMENTS, m, parts[2 * c])
    out[0] = 0
    out[1] = 0
    for c in range(nchunks):
        n_part = <double>min(<Py_ssize_t>CHUNK_ELEMENTS, n - c * CHUNK_ELEMENTS)
        delta = parts[2 * c] - out[0]
        out[1] += parts[2 * c + 1] + delta * delta * count * n_part / (count + n_part)
        out[0] += delta * n_part / (count + n_part)
        count += n_part


def backward_layer(floating[:, ::1] g, const floating[:, ::1] h_out,
                   const floating[:, ::1] h_in, const floating[:, ::1] w,
                   floating[:, ::1] g_prev, floating[:, ::1] dw, int kind, double slope,
                   int num_threads):
    """One layer of the backward pass (fastinit.gradients.backward_pass, without the GIL):
    measure g = dL/dH_l, turn it into D = g * phi'(Z_l) in place, dw = h_in^T D and, if g_prev
    is given, g_prev = D w^T. Returns (mean, M2) of g and of dw, each merged in chunk order.
    ``kind``: the activation's code. Not for activations whose derivative needs Z (gelu)."""
    cdef Py_ssize_t batch = g.shape[0], width = g.shape[1], fan_in = h_in.shape[1]
    cdef Py_ssize_t n = batch * width, c, r0, r1, blocks
    cdef double[::1] parts = np.empty(2 * ((max(n, fan_in * width) + CHUNK_ELEMENTS - 1)
                                           // CHUNK_ELEMENTS + 1))
    cdef double g_moments[2]
    cdef double w_moments[2]
    cdef int ld_in = <int>fan_in, ld_w = <int>width
    cdef fi_interrupt interrupt
    if kind == GELU or h_out.shape[0] != batch or h_out.shape[1] != width or \
            h_in.shape[0] != batch or w.shape[0] != fan_in or w.shape[1] != width or \
            dw.shape[0] != fan_in or dw.shape[1] != width or (g_prev is not None and (
                g_prev.shape[0] != batch or g_prev.shape[1] != fan_in)):
        raise ValueError("backward_layer needs matching shapes and an activation other than gelu")
    fi_interrupt_init(&interrupt)
    with nogil:
        moments_in_order(&g[0, 0], n, &parts[0], g_moments, num_threads)
        for c in prange((n + CHUNK_ELEMENTS - 1) // CHUNK_ELEMENTS, num_threads=num_threads,
                        schedule="static"):
            derivative_times(&g[0, 0] + c * CHUNK_ELEMENTS, &h_out[0, 0] + c * CHUNK_ELEMENTS,
                             min(<Py_ssize_t>CHUNK_ELEMENTS, n - c * CHUNK_ELEMENTS), kind,
                             <floating>slope)
        # dw[r0:r1] = h_in[:, r0:r1]^T D: BLAS (column-major) sees dw^T = D^T h_in
        blocks = (fan_in + ITEM_ROWS - 1) // ITEM_ROWS
        for c in prange(blocks, num_threads=num_threads, schedule="static"):
            if fi_interrupt_poll(&interrupt):
                continue
            r0 = c * ITEM_ROWS
            r1 = min(r0 + ITEM_ROWS, fan_in)
            gemm(b"N", b"T", <int>width, <int>(r1 - r0), <int>batch, &g[0, 0], ld_w,
                 &h_in[0, 0] + r0, ld_in, 0, &dw[0, 0] + r0 * width, ld_w)
        moments_in_order(&dw[0, 0], fan_in * width, &parts[0], w_moments, num_threads)
        if g_prev is not None:
            # g_prev[r0:r1] = D[r0:r1] w^T: BLAS sees g_prev^T = w (width x fan_in)^T D^T
            blocks = (batch + ITEM_ROWS - 1) // ITEM_ROWS
            for c in prange(blocks, num_threads=num_threads, schedule="static"):
                if fi_interrupt_poll(&interrupt):
                    continue
                r0 = c * ITEM_ROWS
                r1 = min(r0 + ITEM_ROWS, batch)
                gemm(b"T", b"N", <int>fan_in, <int>(r1 - r0), <int>width, &w[0, 0], ld_w,
                     &g[0, 0] + r0 * width, ld_w, 0, &g_prev[0, 0] + r0 * fan_in, ld_in)
    if interrupt.stop:  # Ctrl-C: the gradients are incomplete, and the call raises
        raise_pending()
    return (g_moments[0], g_moments[1]), (w_moments[0], w_moments[1])


cdef enum:
    BLOCK = 256  # rows or columns of a weight per work item of dense_backward_update


def dense_backward_update(floating[:, ::1] g, const floating[:, ::1] h_out,
                          const floating[:, ::1] h_in, floating[:, ::1] w,
                          floating[:, ::1] velocity_w, floating[::1] b,
                          floating[::1] velocity_b, floating[:, ::1] g_prev,
                          floating[:, ::1] dw, double lr, double momentum, int kind,
                          double slope, int num_threads):
    """One layer of the trainer's step, in one parallel region: g = dL/dH becomes
    D = g * phi'(Z) in place; g_prev = D w^T (given: not for the first layer) with w as it
    was; then dw = h_in^T D and the SGD step with momentum on w and b (db = D summed over the
    batch, row after row as NumPy sums), block by block while each is in cache: v = m v + g,
    then w = w - lr v, each product and sum rounded in the dtype as NumPy's ``v *= m; v += g;
    w -= lr * v`` rounds them. Work items depend on the shapes alone: the same bits on any
    thread count."""
    cdef Py_ssize_t batch = g.shape[0], width = g.shape[1], fan_in = h_in.shape[1]
    cdef Py_ssize_t i, j, blk, r0, r1, n = batch * width
    cdef Py_ssize_t row_blocks = (fan_in + BLOCK - 1) // BLOCK
    cdef Py_ssize_t col_blocks = (width + BLOCK - 1) // BLOCK
    cdef Py_ssize_t chunks = (n + CHUNK_ELEMENTS - 1) // CHUNK_ELEMENTS
    cdef floating mu = <floating>momentum, rate = <floating>lr, s
    cdef bint has_prev = g_prev is not None
    cdef floating* prev = NULL
    cdef floating* pw
    cdef floating* pv
    cdef const floating* pd
    if kind == GELU or h_out.shape[0] != batch or h_out.shape[1] != width or \
            h_in.shape[0] != batch or w.shape[0] != fan_in or w.shape[1] != width or \
            velocity_w.shape[0] != fan_in or velocity_w.shape[1] != width or \
            dw.shape[0] != fan_in or dw.shape[1] != width or b.shape[0] != width or \
            velocity_b.shape[0] != width or batch == 0 or (has_prev and (
                g_prev.shape[0] != batch or g_prev.shape[1] != fan_in)):
        raise ValueError("dense_backward_update needs matching shapes and an activation "
                         "other than gelu")
    if has_prev:
        prev = &g_prev[0, 0]
    pw, pv, pd = &w[0, 0], &velocity_w[0, 0], &dw[0, 0]
    with nogil, parallel(num_threads=num_threads):
        for blk in prange(chunks, schedule="static"):
            derivative_times(&g[0, 0] + blk * CHUNK_ELEMENTS,
                             &h_out[0, 0] + blk * CHUNK_ELEMENTS,
                             min(<Py_ssize_t>CHUNK_ELEMENTS, n - blk * CHUNK_ELEMENTS), kind,
                             <floating>slope)
        # one work item per block of w's rows (g_prev's columns for those rows, from w as it
        # was, then dw's rows and the step on them: the rows stay in cache, and w is read
        # before it is written in the same item) and one per block of the bias: no barrier
        # between them; each item writes its own slots, so any thread may run any item
        for blk in prange(row_blocks + col_blocks, schedule="dynamic", chunksize=1):
            if blk < row_blocks:
                r0 = blk * BLOCK
                r1 = min(r0 + BLOCK, fan_in)
                if has_prev:
                    # g_prev[:, r0:r1] = D w[r0:r1]^T: column-major g_prev^T[r0:r1] =
                    # w[r0:r1] D^T
                    gemm(b"T", b"N", <int>(r1 - r0), <int>batch, <int>width,
                         &w[0, 0] + r0 * width, <int>width, &g[0, 0], <int>width, 0,
                         prev + r0, <int>fan_in)
                # dw[r0:r1] = h_in[:, r0:r1]^T D: BLAS (column-major) sees dw^T = D^T h_in
                gemm(b"N", b"T", <int>width, <int>(r1 - r0), <int>batch, &g[0, 0], <int>width,
                     &h_in[0, 0] + r0, <int>fan_in, 0, &dw[0, 0] + r0 * width, <int>width)
                for i in range(r0 * width, r1 * width):
                    pv[i] = mu * pv[i] + pd[i]
                    pw[i] = pw[i] - rate * pv[i]
            else:
                for j in range((blk - row_blocks) * BLOCK,
                               min((blk - row_blocks + 1) * BLOCK, width)):
                    s = 0
                    for i in range(batch):
                        s = s + g[i, j]
                    velocity_b[j] = mu * velocity_b[j] + s
                    b[j] = b[j] - rate * velocity_b[j]

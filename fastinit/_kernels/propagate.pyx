# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Propagation kernels: the GEMM (BLAS through scipy.linalg.cython_blas) and the fused pass that
adds the bias, applies the activation in place and measures the layer, all with the GIL released.

The fused pass splits the output into fixed chunks of whole rows. Each chunk's partial
statistics (count, mean and M2 by Chan et al.'s pairwise update, min, max, counts, histogram)
land in their own slot and are merged in chunk order afterwards, so every number is identical
for any thread count. Inputs are validated by fastinit.propagation; nothing here checks them.
"""
from libc.math cimport erf, expm1, fabs, INFINITY, NAN
from cpython.buffer cimport PyBUF_C_CONTIGUOUS, PyBUF_WRITABLE, PyBuffer_Release, PyObject_GetBuffer
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memset
from cython cimport floating
from cython.parallel cimport parallel, prange
from libc.stdint cimport uint32_t, uint64_t

from fastinit._kernels.fill cimport fill_range
from fastinit._kernels.interrupt cimport fi_interrupt, fi_interrupt_init, fi_interrupt_poll, raise_pending

import numpy as np

cdef class LayerPass:
    """What the fused pass does to one layer's output: add the bias, apply the activation
    (its fastinit.activations code and negative slope), count saturated values (h < sat_below
    or h > sat_above, bounds already rounded for the layer's dtype) and bin a histogram over
    ``edges`` (float64; empty: none). Built by fastinit.propagation.layer_pass."""
    cdef public object bias           # (width,) array of the layer's dtype, or None
    cdef public double bias_value     # added everywhere when bias is None
    cdef public int code
    cdef public double slope
    cdef public double sat_below, sat_above
    cdef public bint counts_saturation
    cdef public object edges

    def __init__(self, int code, double slope=0.0, bias=None, double bias_value=0.0,
                 saturation=(-INFINITY, INFINITY, False), edges=None):
        self.code, self.slope, self.bias, self.bias_value = code, slope, bias, bias_value
        self.sat_below, self.sat_above, self.counts_saturation = saturation
        self.edges = np.empty(0) if edges is None else np.ascontiguousarray(edges, np.float64)


from fastinit._kernels.shared cimport (
    BIG_WEIGHTS, CHUNK_ELEMENTS, ELU, GELU, ITEM_ROWS, ITEMS_PER_BATCH, LEAKY_RELU, LINEAR,
    MAX_ITEM_ROWS, MIN_ITEM_ROWS, RELU, SELU, SELU_ALPHA, SELU_SCALE, SIGMOID, SQRT1_2, TANH,
    chunk_sqdev, chunk_sum, fi_count_d, fi_count_f, fi_histogram_fast_d, fi_histogram_fast_f,
    fi_range_d, fi_range_f, gemm, gemm_rows, orthonormal_work, orthonormalize,
)

include "simd_switch.pxi"


cdef inline void chunk_histogram(const floating* x, Py_ssize_t n, const double* edges, int bins,
                                 double scale, double step, long long* hist) noexcept nogil:
    # step > 0: the edges are linspace's, i * step + edges[0] (see linear_step)
    if floating is double:
        fi_histogram_fast_d(x, n, edges, bins, scale, step, hist)
    else:
        fi_histogram_fast_f(x, n, edges, bins, scale, step, hist)


_STEPS = {}  # id(edges) -> (edges, step): the edges of bounded activations are shared arrays


def linear_step(edges):
    """step when edges[i] == i * step + edges[0] for every inner edge, as np.linspace makes
    them (the kernels then recompute edges instead of loading them), else 0. Remembered for
    read-only edge arrays (fastinit.network caches and freezes the ones it makes)."""
    cached = _STEPS.get(id(edges))
    if cached is not None and cached[0] is edges:
        return cached[1]
    step = _linear_step(edges)
    if isinstance(edges, np.ndarray) and not edges.flags.writeable:
        if len(_STEPS) > 1024:
            _STEPS.clear()
        _STEPS[id(edges)] = (edges, step)
    return step


def _linear_step(const double[::1] edges):
    cdef Py_ssize_t bins = edges.shape[0] - 1
    if bins < 1:
        return 0.0
    step = (edges[bins] - edges[0]) / bins
    inner = np.arange(bins) * step + edges[0]
    return step if step > 0 and np.array_equal(inner, np.asarray(edges)[:bins]) else 0.0


cdef extern from "activations.h" nogil:
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
                     double bias_value, int kind, double slope, double sat_below,
                     double sat_above, int bins, const double* edges, double scale, double step,
                     double* part, long long* hist) noexcept nogil:
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
        fi_count_d(h, n, sat_below, sat_above, &n_zero, &n_saturated)
    else:
        fi_range_f(h, n, &part[4], &part[5])
        fi_count_f(h, n, <float>sat_below, <float>sat_above, &n_zero, &n_saturated)
    if bins > 0:
        chunk_histogram(h, n, edges, bins, scale, step, hist)
    part[6] = <double>n_saturated
    part[7] = <double>n_zero


cdef inline void merge(double* total, double n_total, const double* part, double n_part) noexcept nogil:
    """Chan et al.: the (mean, M2) of two groups from each group's (mean, M2)."""
    cdef double n = n_total + n_part, delta
    cdef int k
    if n_total == 0:
        # the first part is the total (the update below gives the same bits for finite parts,
        # but a mean so large that its square overflows would turn 0 * inf into NaN)
        for k in range(8):
            total[k] = part[k]
        return
    for k in range(0, 4, 2):
        delta = part[k] - total[k]
        total[k + 1] += part[k + 1] + delta * delta * n_total * n_part / n
        total[k] += delta * n_part / n
    total[4] = part[4] if part[4] < total[4] else total[4]
    total[5] = part[5] if part[5] > total[5] else total[5]
    total[6] += part[6]
    total[7] += part[7]


cdef struct ItemPlan:
    # how a layer's rows are cut: statistics chunks of whole rows, and OpenMP work items of
    # whole chunks (one GEMM call each). Both depend on the batch and width alone: never on
    # the thread count (a GEMM's bits depend on how its rows are split into calls).
    Py_ssize_t rows_per_chunk, nchunks, chunks_per_item, nitems


cdef inline ItemPlan item_plan(Py_ssize_t rows, Py_ssize_t width,
                               Py_ssize_t k) noexcept nogil:
    # each item's GEMM call packs the whole k x width weight matrix again: where it is large
    # (packing it costs as much as the fused pass of a few hundred rows), two items a batch
    cdef Py_ssize_t per_batch = 2 if k * width >= BIG_WEIGHTS else ITEMS_PER_BATCH
    cdef ItemPlan plan
    cdef Py_ssize_t item_rows = min(max((rows + per_batch - 1) // per_batch,
                                        <Py_ssize_t>MIN_ITEM_ROWS), <Py_ssize_t>MAX_ITEM_ROWS)
    plan.rows_per_chunk = max(1, CHUNK_ELEMENTS // max(width, 1))
    plan.nchunks = (rows + plan.rows_per_chunk - 1) // plan.rows_per_chunk
    plan.chunks_per_item = (item_rows + plan.rows_per_chunk - 1) // plan.rows_per_chunk
    plan.nitems = (plan.nchunks + plan.chunks_per_item - 1) // plan.chunks_per_item
    return plan


cdef void layer_item(const ItemPlan* plan, Py_ssize_t item, const floating* x, int lda,
                     Py_ssize_t rows, Py_ssize_t k, const floating* w, floating* out,
                     Py_ssize_t width, floating beta, bint finish, const floating* bias,
                     double bias_value, int kind, double slope, double sat_below,
                     double sat_above, int bins, const double* edges, double scale,
                     double step, double* parts, long long* hists,
                     Py_ssize_t hist_stride) noexcept nogil:
    """One work item: its rows' GEMM and, while they are still in cache, their chunks' fused
    passes (partials into the chunks' own slots of parts and hists)."""
    cdef Py_ssize_t c, rpc = plan.rows_per_chunk
    cdef Py_ssize_t c0 = item * plan.chunks_per_item
    cdef Py_ssize_t c1 = min(c0 + plan.chunks_per_item, plan.nchunks)
    cdef Py_ssize_t r0 = c0 * rpc, r1 = min(c1 * rpc, rows)
    gemm_rows(x + r0 * lda, lda, w, out + r0 * width, <int>(r1 - r0), <int>k, <int>width, beta)
    if finish:
        for c in range(c0, c1):
            chunk_pass(out + c * rpc * width, min(rpc, rows - c * rpc), width, bias,
                       bias_value, kind, slope, sat_below, sat_above, bins, edges, scale,
                       step, parts + 8 * c, hists + hist_stride * c)


cdef void merge_parts(const ItemPlan* plan, Py_ssize_t rows, Py_ssize_t width,
                      const double* parts, double* total) noexcept nogil:
    """The chunks' partials merged in chunk order into total (the same bits on any thread
    count)."""
    cdef Py_ssize_t c, rpc = plan.rows_per_chunk
    cdef double count = 0, n_part
    memset(total, 0, 8 * sizeof(double))
    total[4] = INFINITY
    total[5] = -INFINITY
    for c in range(plan.nchunks):
        n_part = <double>(min(rpc, rows - c * rpc) * width)
        merge(total, count, parts + 8 * c, n_part)
        count += n_part


cdef void layer_kernel(const floating* x, int lda, Py_ssize_t rows, Py_ssize_t k,
                       const floating* w, floating* out, Py_ssize_t width, floating beta,
                       bint finish, const floating* bias, double bias_value, int kind,
                       double slope, double sat_below, double sat_above, int bins,
                       const double* edges, double scale, double step, double* parts,
                       long long* hists, Py_ssize_t hist_stride, double* total,
                       int num_threads, fi_interrupt* interrupt) noexcept nogil:
    """out = x @ w + beta * out, then (finish) the fused pass, one OpenMP loop over work
    items; the chunks' partials (parts, hists: zeroed by the caller) merge in chunk order into
    total. See forward_layer."""
    cdef ItemPlan plan = item_plan(rows, width, k)
    cdef Py_ssize_t item
    # dynamic: a core busy elsewhere holds no thread back; every item writes its own slots,
    # so the schedule changes no bit
    if plan.nitems == 1:  # one work item: no thread team to wake
        num_threads = 1
    for item in prange(plan.nitems, num_threads=num_threads, schedule="dynamic"):
        if fi_interrupt_poll(interrupt):
            continue
        layer_item(&plan, item, x, lda, rows, k, w, out, width, beta, finish, bias,
                   bias_value, kind, slope, sat_below, sat_above, bins, edges, scale, step,
                   parts, hists, hist_stride)
    if finish:
        merge_parts(&plan, rows, width, parts, total)


cdef Py_ssize_t chunk_count(Py_ssize_t rows, Py_ssize_t width) noexcept nogil:
    return item_plan(rows, width, 1).nchunks  # chunks do not depend on k


def _root_mean(m2, n):
    """sqrt(M2 / n); NaN for a NaN or negative M2 (values that overflowed to inf)."""
    return (m2 / n) ** 0.5 if m2 >= 0 else NAN


def layer_statistics(const double[::1] total, Py_ssize_t n, bint counts_saturation):
    """The statistics dict of a merged total (see chunk_pass for its layout)."""
    return {
        "preact_std": _root_mean(total[1], n),
        "mean": total[2], "std": _root_mean(total[3], n), "min": total[4], "max": total[5],
        "saturated": total[6] / n if counts_saturation else NAN,
        "dead": total[7] / n,
    }


def forward_layer(const floating[:, :] x, const floating[:, ::1] w, floating[:, ::1] out,
                  LayerPass layer, double beta=0.0, bint finish=True, int num_threads=1):
    """out = x @ w + beta * out; then, if ``finish``, the fused pass ``layer`` on out.

    One OpenMP loop over blocks of rows: each block's GEMM (BLAS must run one thread per call:
    the caller pins it) and, while the block is still in cache, its fused pass. Returns (stats
    dict, histogram counts) when finishing, else None. ``x`` may be a column slice (a row
    block of a larger weight multiplies it).
    """
    cdef Py_ssize_t rows = out.shape[0], width = out.shape[1], k = x.shape[1]
    cdef Py_ssize_t nchunks = chunk_count(rows, width)
    cdef int lda = <int>(x.strides[0] // sizeof(floating))
    cdef const double[::1] edges = layer.edges
    cdef int bins = max(<int>edges.shape[0] - 1, 0)
    cdef double scale = bins / (edges[bins] - edges[0]) if bins > 0 else 0.0
    cdef double step = linear_step(layer.edges) if bins > 0 else 0.0
    cdef floating[::1] bias = layer.bias
    cdef const floating* bias_ptr = &bias[0] if bias is not None else NULL
    cdef const double* edges_ptr = &edges[0] if bins > 0 else NULL
    cdef double[:, ::1] parts = np.zeros((max(nchunks, 1), 8))
    cdef long long[:, ::1] hists = np.zeros((max(nchunks, 1), max(bins, 1)), dtype=np.int64)
    cdef double[::1] total = np.empty(8)
    cdef fi_interrupt interrupt
    if rows == 0 or width == 0 or k == 0 or x.shape[0] != rows or w.shape[0] != k \
            or w.shape[1] != width or (bias is not None and bias.shape[0] != width):
        raise ValueError("forward_layer needs non-empty matrices of matching shapes")
    if x.strides[1] != sizeof(floating) and k > 1:
        raise ValueError("forward_layer needs x with contiguous rows")
    fi_interrupt_init(&interrupt)
    with nogil:
        layer_kernel(&x[0, 0], lda, rows, k, &w[0, 0], &out[0, 0], width, <floating>beta,
                     finish, bias_ptr, layer.bias_value, layer.code, layer.slope,
                     layer.sat_below, layer.sat_above, bins, edges_ptr, scale, step,
                     &parts[0, 0], &hists[0, 0], hists.shape[1], &total[0], num_threads,
                     &interrupt)
    if interrupt.stop:  # Ctrl-C: out is incomplete, and the call raises
        raise_pending()
    if not finish:
        return None
    return (layer_statistics(total, rows * width, layer.counts_saturation),
            np.asarray(hists).sum(axis=0)[:bins])


cdef struct LayoutView:
    # a NetworkLayout's arrays as pointers, for code without the GIL
    Py_ssize_t depth, input_dim, max_width, max_weights, params_stride
    int bins
    const Py_ssize_t* widths
    const int* law_kinds
    const double* law_params  # depth x params_stride
    const int* codes
    const double* numbers     # depth x 5: slope, saturation bounds, constant bias, step
    const double* edges       # depth x (bins + 1)
    const void* bias          # depth x max_width of the layout's dtype
    const double* gains       # depth: an orthogonal layer's gain (its QR), NaN for a law's
    Py_ssize_t qr_work        # items of QR scratch per thread (0: no orthogonal layer)


cdef class NetworkLayout:
    """What forward_network needs of a network apart from its input and its keys, laid out
    once (a repeated call or a sweep's seeds reuse it): per layer the width, the fill kernel's
    law (kind and parameters), the fused pass's numbers, bias vector and histogram edges.
    Their memoryviews are taken here, once: taking one costs about a microsecond, as much as
    a tiny network's whole layer.

    widths: (depth,) widths; law_kinds, law_params: the fill kernel's kind and parameters per
    layer; layers: a LayerPass per layer, whose edges all have ``bins`` bins (or none);
    gains: per layer NaN, or an orthogonal layer's gain: its weights, drawn standard normal,
    are then orthonormalized (shared.orthonormalize) before its GEMMs."""
    cdef readonly object dtype
    cdef readonly Py_ssize_t input_dim, depth, max_width, max_weights
    cdef readonly int bins
    cdef const Py_ssize_t[::1] widths
    cdef const int[::1] law_kinds, codes
    cdef const double[:, ::1] law_params, numbers, edges
    cdef const double[::1] gains
    cdef object bias_vectors
    cdef LayoutView view

    def __init__(self, Py_ssize_t input_dim, widths, law_kinds, law_params, list layers,
                 int bins, dtype, gains=None):
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float64, np.float32):
            raise TypeError("NetworkLayout's dtype must be float64 or float32")
        widths = np.ascontiguousarray(widths, np.intp)
        law_kinds = np.ascontiguousarray(law_kinds, np.intc)
        law_params = np.ascontiguousarray(law_params, np.float64)
        depth = widths.shape[0]
        if not depth or len(layers) != depth or law_kinds.shape[0] != depth \
                or law_params.shape[0] != depth or bins < 0:
            raise ValueError("NetworkLayout needs one width, law and LayerPass per layer")
        self.input_dim, self.bins, self.depth = input_dim, bins, depth
        self.max_width = max(widths)
        fan_ins = [input_dim] + [int(w) for w in widths[:depth - 1]]
        self.max_weights = max(f * w for f, w in zip(fan_ins, widths))
        self.widths, self.law_kinds, self.law_params = widths, law_kinds, law_params
        gains = np.full(depth, NAN) if gains is None else np.ascontiguousarray(gains, np.float64)
        if gains.shape != (depth,):
            raise ValueError("NetworkLayout needs one gain (or NaN) per layer")
        self.gains = gains
        qr_work = max([orthonormal_work(f, w) for f, w, g in zip(fan_ins, widths, gains)
                       if g == g] or [0])
        self.codes = np.array([p.code for p in layers], np.intc)
        self.numbers = np.array(
            [(p.slope, p.sat_below, p.sat_above, p.bias_value if p.bias is None else NAN,
              linear_step(p.edges) if bins > 0 else 0.0) for p in layers])
        self.bias_vectors = np.zeros((depth, self.max_width), self.dtype)
        edges = np.zeros((depth, bins + 1))
        for layer, p in enumerate(layers):
            if p.bias is not None:
                self.bias_vectors[layer, :widths[layer]] = p.bias
            if bins > 0:
                edges[layer] = p.edges
        self.edges = edges
        cdef const unsigned char[::1] bias_bytes = self.bias_vectors.reshape(-1).view(np.uint8)
        self.view = LayoutView(
            depth=depth, input_dim=input_dim, max_width=self.max_width,
            max_weights=self.max_weights, params_stride=self.law_params.shape[1], bins=bins,
            widths=&self.widths[0], law_kinds=&self.law_kinds[0],
            law_params=&self.law_params[0, 0], codes=&self.codes[0],
            numbers=&self.numbers[0, 0], edges=&self.edges[0, 0], bias=&bias_bytes[0],
            gains=&self.gains[0], qr_work=qr_work)

    def max_chunks(self, Py_ssize_t batch):
        """The most fused-pass chunks a layer of this network has for ``batch`` rows."""
        return max(chunk_count(batch, w) for w in self.widths)


cdef enum:
    FILL_ITEM = 16384  # weights per fill work item of a network's stage (4 fill chunks)
    # multiply-adds below which a network runs on one thread: ~0.1 ms of work, about what
    # waking a sleeping thread costs (in a VM, more)
    PARALLEL_WORK = 1 << 22


cdef struct NetworkScratch:
    # what one network's run needs beside its layout: the weights of two layers (a stage
    # draws the next layer's while the current one's GEMMs read the other; one buffer, the
    # same for both, on one thread), and the chunks' partials of two layers (parts: 8 per
    # chunk, hists: hist_stride per chunk, zeroed), max_chunks chunks each
    void* weights[2]
    void* qr  # an orthogonal layer's QR scratch (LayoutView.qr_work items), or NULL
    double* parts
    long long* hists
    Py_ssize_t max_chunks


cdef inline const floating* layer_input(const LayoutView* L, Py_ssize_t layer,
                                        const floating* x0, Py_ssize_t batch, floating** kept,
                                        floating* turns) noexcept nogil:
    if layer == 0:
        return x0
    return kept[layer - 1] if kept != NULL else turns + ((layer - 1) % 2) * batch * L.max_width


cdef inline Py_ssize_t fan_in_of(const LayoutView* L, Py_ssize_t layer) noexcept nogil:
    return L.input_dim if layer == 0 else L.widths[layer - 1]


cdef void stage_task(const LayoutView* L, Py_ssize_t stage, Py_ssize_t task,
                     const floating* x0, Py_ssize_t batch, const uint32_t* keys,
                     floating** kept, floating* turns, NetworkScratch* S, double* totals,
                     long long* hist_out, fi_interrupt* interrupt) noexcept nogil:
    """Task ``task`` of stage ``stage`` of a network: first the work items of layer stage - 1
    (GEMM and fused pass), then the merge of layer stage - 2's partials, then the fill work
    items of layer stage's weights. Tasks of one stage touch disjoint memory, so any thread
    may run any of them; a stage starts when the previous one has ended."""
    cdef Py_ssize_t layer = stage - 1, hist_stride = max(L.bins, 1), width, fan_in, c, b
    cdef Py_ssize_t slot_parts, slot_hists, start, n
    cdef ItemPlan plan
    cdef const double* numbers
    cdef const double* edges
    cdef const floating* bias
    cdef int bins = L.bins
    if 0 <= layer < L.depth:
        width = L.widths[layer]
        plan = item_plan(batch, width, fan_in_of(L, layer))
        if task < plan.nitems:
            fan_in = fan_in_of(L, layer)
            numbers = L.numbers + 5 * layer
            edges = L.edges + (bins + 1) * layer
            # a NaN bias value: the layer adds its bias vector
            bias = <const floating*>L.bias + layer * L.max_width \
                if numbers[3] != numbers[3] else NULL
            layer_item(&plan, task, layer_input(L, layer, x0, batch, kept, turns),
                       <int>fan_in, batch, fan_in, <const floating*>S.weights[layer % 2],
                       kept[layer] if kept != NULL else turns + (layer % 2) * batch * L.max_width,
                       width, 0, True, bias, 0.0 if bias != NULL else numbers[3],
                       L.codes[layer], numbers[0], numbers[1], numbers[2], bins,
                       edges if bins > 0 else NULL,
                       bins / (edges[bins] - edges[0]) if bins > 0 else 0.0, numbers[4],
                       S.parts + (layer % 2) * S.max_chunks * 8,
                       S.hists + (layer % 2) * S.max_chunks * hist_stride, hist_stride)
            return
        task -= plan.nitems
    if layer >= 1:
        if task == 0:
            layer -= 1
            plan = item_plan(batch, L.widths[layer], fan_in_of(L, layer))
            slot_parts = (layer % 2) * S.max_chunks * 8
            slot_hists = (layer % 2) * S.max_chunks * hist_stride
            merge_parts(&plan, batch, L.widths[layer], S.parts + slot_parts, totals + 8 * layer)
            for c in range(plan.nchunks):
                for b in range(bins):
                    hist_out[layer * hist_stride + b] += S.hists[slot_hists + c * hist_stride + b]
            if bins > 0:
                memset(S.hists + slot_hists, 0, plan.nchunks * hist_stride * sizeof(long long))
            return
        task -= 1
    if stage < L.depth:
        n = fan_in_of(L, stage) * L.widths[stage]
        start = task * FILL_ITEM
        fill_range(<floating*>S.weights[stage % 2] + start, min(<Py_ssize_t>FILL_ITEM, n - start),
                   start, keys + 2 * stage, L.law_kinds[stage],
                   L.law_params + stage * L.params_stride, 1, interrupt, 0)


cdef Py_ssize_t stage_tasks(const LayoutView* L, Py_ssize_t stage,
                            Py_ssize_t batch) noexcept nogil:
    """How many tasks stage ``stage`` has (see stage_task)."""
    cdef Py_ssize_t count = 0
    if 1 <= stage <= L.depth:
        count += item_plan(batch, L.widths[stage - 1], fan_in_of(L, stage - 1)).nitems
    if stage >= 2:
        count += 1
    if stage < L.depth:
        count += (fan_in_of(L, stage) * L.widths[stage] + FILL_ITEM - 1) // FILL_ITEM
    return count


cdef inline bint has_qr(const LayoutView* L, Py_ssize_t stage) noexcept nogil:
    return stage < L.depth and L.gains[stage] == L.gains[stage]


cdef void orthogonal_task(const LayoutView* L, Py_ssize_t stage, floating* weights,
                          floating* qr) noexcept nogil:
    """After stage ``stage``'s draws: layer ``stage``'s standard normal weights made
    orthogonal when it is an orthogonal layer (its QR, shared.orthonormalize)."""
    if has_qr(L, stage):
        orthonormalize(weights, fan_in_of(L, stage), L.widths[stage], L.gains[stage], qr)


cdef void run_layers(const LayoutView* L, const floating* x0, Py_ssize_t batch,
                     const uint32_t* keys, floating** kept, floating* turns,
                     NetworkScratch* S, double* totals, long long* hist_out,
                     int num_threads, fi_interrupt* interrupt) noexcept nogil:
    """One network through every layer of L: per layer the weights drawn from keys[2 l ..]
    (fill_range), the GEMM and the fused pass into kept[l] (or, kept NULL, the two halves of
    ``turns`` in turn); totals (depth x 8) and hist_out (depth x max(bins, 1), zeroed by the
    caller) get each layer's statistics.

    In depth + 1 stages (see stage_task), so that a layer's GEMMs and the next layer's draws
    share one stage: with threads, one parallel region for the whole network and one barrier
    per stage, not a region per layer (a waiting thread sleeps, and waking it costs)."""
    cdef Py_ssize_t stage, task, ntasks, most = 0
    cdef Py_ssize_t stages = L.depth + 1
    cdef double work = 0
    for stage in range(L.depth):
        work += <double>batch * fan_in_of(L, stage) * L.widths[stage]
    for stage in range(stages):
        most = max(most, stage_tasks(L, stage, batch))
    if most < 2 or work < PARALLEL_WORK:  # waking a team would cost more than it saves
        num_threads = 1
    if num_threads == 1:
        for stage in range(stages):
            for task in range(stage_tasks(L, stage, batch)):
                if fi_interrupt_poll(interrupt):
                    return
                stage_task(L, stage, task, x0, batch, keys, kept, turns, S, totals, hist_out,
                           interrupt)
            orthogonal_task(L, stage, <floating*>S.weights[stage % 2], <floating*>S.qr)
    else:
        with parallel(num_threads=num_threads):
            for stage in range(stages):
                ntasks = stage_tasks(L, stage, batch)
                for task in prange(ntasks, schedule="dynamic"):
                    if fi_interrupt_poll(interrupt):
                        continue
                    stage_task(L, stage, task, x0, batch, keys, kept, turns, S, totals,
                               hist_out, interrupt)
                # an orthogonal layer's QR: one task, once all its draws are in
                for task in prange(1 if has_qr(L, stage) else 0, schedule="static"):
                    orthogonal_task(L, stage, <floating*>S.weights[stage % 2],
                                    <floating*>S.qr)
    if interrupt.stop:
        return
    # the last layer's merge (stage depth + 1 would hold nothing else)
    stage_task(L, stages, 0, x0, batch, keys, kept, turns, S, totals, hist_out, interrupt)


cdef int scratch_init(NetworkScratch* S, const LayoutView* L, Py_ssize_t batch,
                      Py_ssize_t max_chunks, Py_ssize_t itemsize, int num_threads) noexcept nogil:
    """Allocate S for networks of L (two weight buffers only for threads); 0, or -1 when
    memory ran out (S is then freed)."""
    cdef Py_ssize_t hist_stride = max(L.bins, 1)
    S.max_chunks = max_chunks
    S.weights[0] = malloc(L.max_weights * itemsize)
    S.weights[1] = malloc(L.max_weights * itemsize) if num_threads > 1 else S.weights[0]
    S.parts = <double*>malloc(2 * max_chunks * 8 * sizeof(double))
    S.hists = <long long*>calloc(2 * max_chunks * hist_stride, sizeof(long long))
    S.qr = malloc(L.qr_work * itemsize) if L.qr_work > 0 else NULL
    if S.weights[0] == NULL or S.weights[1] == NULL or S.parts == NULL or S.hists == NULL \
            or (L.qr_work > 0 and S.qr == NULL):
        scratch_free(S)
        return -1
    return 0


cdef void scratch_free(NetworkScratch* S) noexcept nogil:
    if S.weights[1] != S.weights[0]:
        free(S.weights[1])
    free(S.weights[0])
    free(S.parts)
    free(S.hists)
    free(S.qr)
    S.qr = NULL
    S.weights[0] = S.weights[1] = NULL
    S.parts = NULL
    S.hists = NULL


cdef void* writable_block(object array, Py_ssize_t count, Py_ssize_t itemsize) except NULL:
    """The address of ``array``'s data when it is a writable C-contiguous buffer of ``count``
    items of ``itemsize`` bytes (read through the buffer protocol: no memoryview object)."""
    cdef Py_buffer view
    PyObject_GetBuffer(array, &view, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE)
    cdef void* data = view.buf
    cdef bint fits = view.len == count * itemsize and view.itemsize == itemsize
    PyBuffer_Release(&view)
    if not fits:
        raise ValueError("forward_network's outputs must be (batch, width) per layer")
    return data


cdef check_layout_dtype(NetworkLayout layout, object dtype):
    if layout.dtype != dtype:
        raise TypeError(f"the input's dtype ({np.dtype(dtype)}) is not the layout's "
                        f"({layout.dtype})")


def forward_network(const floating[:, ::1] x0, NetworkLayout layout,
                    const uint32_t[:, ::1] keys, int num_threads, list outputs=None):
    """A whole network in one call without the GIL: per layer, the weights drawn in place
    (fastinit._kernels.fill.fill_range from the layer's key and law), the GEMM and the fused pass,
    exactly as forward_layer on a whole weight matrix does. One weight buffer serves every
    layer.

    layout: the network (a NetworkLayout of x0's dtype); keys: (depth, 2) Philox keys;
    outputs: a C-contiguous (batch, width) array of x0's dtype per layer to keep each layer's
    activations in (else two buffers take turns). Returns (totals (depth, 8), histograms
    (depth, bins)).
    """
    cdef Py_ssize_t depth = layout.depth, batch = x0.shape[0], layer
    cdef int hist_stride = max(layout.bins, 1)
    check_layout_dtype(layout, np.float64 if floating is double else np.float32)
    if x0.shape[1] != layout.input_dim or keys.shape[0] != depth or keys.shape[1] != 2:
        raise ValueError("forward_network: x0 or keys do not fit the layout")
    if outputs is not None and len(outputs) != depth:
        raise ValueError("forward_network needs one output array per layer")
    cdef Py_ssize_t max_chunks = layout.max_chunks(batch)
    totals_array = np.empty((depth, 8))
    hist_array = np.zeros((depth, hist_stride), np.int64)
    cdef double[:, ::1] totals = totals_array
    cdef long long[:, ::1] hist_out = hist_array
    # scratch: the weights, the chunks' partials and (when nothing is kept) two activations
    cdef size_t turns = 0 if outputs is not None else <size_t>(2 * batch * layout.max_width)
    cdef NetworkScratch scratch
    cdef floating* buffers = <floating*>malloc(max(turns, 1) * sizeof(floating))
    cdef floating** kept = NULL
    if outputs is not None:
        kept = <floating**>malloc(depth * sizeof(floating*))
    if scratch_init(&scratch, &layout.view, batch, max_chunks, sizeof(floating),
                    num_threads) != 0 or buffers == NULL or (outputs is not None and kept == NULL):
        scratch_free(&scratch); free(buffers); free(kept)
        raise MemoryError("forward_network: no memory for its scratch buffers")
    try:
        for layer in range(depth if outputs is not None else 0):
            if np.dtype(outputs[layer].dtype) != layout.dtype:
                raise ValueError("forward_network's outputs must have x0's dtype")
            kept[layer] = <floating*>writable_block(outputs[layer],
                                                    batch * layout.widths[layer],
                                                    sizeof(floating))
            if outputs[layer].shape != (batch, layout.widths[layer]):
                raise ValueError("forward_network's outputs must be (batch, width) per layer")
    except BaseException:
        scratch_free(&scratch); free(buffers); free(kept)
        raise
    cdef fi_interrupt interrupt
    fi_interrupt_init(&interrupt)
    with nogil:
        run_layers(&layout.view, &x0[0, 0], batch, &keys[0, 0], kept, buffers, &scratch,
                   &totals[0, 0], &hist_out[0, 0], num_threads, &interrupt)
    scratch_free(&scratch); free(buffers); free(kept)
    if interrupt.stop:  # Ctrl-C: nothing is returned
        raise_pending()
    return totals_array, hist_array[:, :layout.bins]


def forward_networks(NetworkLayout layout, Py_ssize_t batch, const uint32_t[:, :, ::1] keys,
                     const double[::1] input_params, int input_kind, int num_threads):
    """Many networks of one layout in one call without the GIL, one network per thread at a
    time: network i draws its (batch, input_dim) input from keys[i, 0] (the fill kernel's
    ``input_kind`` law with ``input_params``) and layer l's weights from keys[i, l + 1], then
    runs exactly as forward_network does on one thread (so its numbers are that call's, on any
    thread count). Returns (totals (n, depth, 8), histograms (n, depth, bins))."""
    cdef Py_ssize_t n = keys.shape[0], depth = layout.depth, i
    cdef int hist_stride = max(layout.bins, 1)
    if keys.shape[1] != depth + 1 or keys.shape[2] != 2 or batch <= 0:
        raise ValueError("forward_networks needs keys of shape (n, depth + 1, 2) and a batch")
    totals_array = np.empty((n, depth, 8))
    hist_array = np.zeros((n, depth, hist_stride), np.int64)
    cdef double[:, :, ::1] totals = totals_array
    cdef long long[:, :, ::1] hist_out = hist_array
    cdef fi_interrupt interrupt
    fi_interrupt_init(&interrupt)
    cdef int failed = 0
    cdef Py_ssize_t max_chunks = layout.max_chunks(batch)
    if layout.dtype == np.float64:
        with nogil:
            failed = many_networks[double](&layout.view, batch, &keys[0, 0, 0], n,
                                           &input_params[0], input_kind, max_chunks,
                                           &totals[0, 0, 0], &hist_out[0, 0, 0], num_threads,
                                           &interrupt, <double>0)
    else:
        with nogil:
            failed = many_networks[float](&layout.view, batch, &keys[0, 0, 0], n,
                                          &input_params[0], input_kind, max_chunks,
                                          &totals[0, 0, 0], &hist_out[0, 0, 0], num_threads,
                                          &interrupt, <float>0)
    if interrupt.stop:
        raise_pending()
    if failed:
        raise MemoryError("forward_networks: no memory for a thread's scratch buffers")
    return totals_array, hist_array[:, :, :layout.bins]


cdef int many_networks(const LayoutView* L, Py_ssize_t batch, const uint32_t* keys,
                       Py_ssize_t n, const double* input_params, int input_kind,
                       Py_ssize_t max_chunks, double* totals, long long* hist_out,
                       int num_threads, fi_interrupt* interrupt, floating kind) noexcept nogil:
    # each thread its own scratch; networks handed out one at a time (their costs are equal,
    # but a thread may be slowed by another process)
    cdef Py_ssize_t i, stride = (L.depth + 1) * 2, hist_stride = max(L.bins, 1)
    cdef floating* x
    cdef floating* turns
    cdef NetworkScratch* scratch  # a pointer assigned in the parallel block: one per thread
    cdef int failed = 0
    cdef int* shared_failed = &failed  # assigned in the parallel block, a name is private
    with parallel(num_threads=num_threads):
        x = <floating*>malloc(batch * L.input_dim * sizeof(floating))
        turns = <floating*>malloc(2 * batch * L.max_width * sizeof(floating))
        scratch = <NetworkScratch*>calloc(1, sizeof(NetworkScratch))
        if x == NULL or turns == NULL or scratch == NULL or \
                scratch_init(scratch, L, batch, max_chunks, sizeof(floating), 1) != 0:
            shared_failed[0] = 1
        else:
            for i in prange(n, schedule="dynamic"):
                if interrupt.stop or shared_failed[0]:
                    continue
                fill_range(x, batch * L.input_dim, 0, keys + i * stride, input_kind,
                           input_params, 1, interrupt, 0)
                run_layers(L, x, batch, keys + i * stride + 2, NULL, turns, scratch,
                           totals + i * L.depth * 8, hist_out + i * L.depth * hist_stride, 1,
                           interrupt)
        if scratch != NULL:
            scratch_free(scratch)
        free(scratch); free(x); free(turns)
    return failed


def histogram(const floating[:, ::1] h, const double[::1] edges, int num_threads):
    """np.histogram(h, edges) for equal-width edges, by chunks merged in order."""
    cdef Py_ssize_t n = h.shape[0] * h.shape[1]
    cdef Py_ssize_t nchunks = (n + CHUNK_ELEMENTS - 1) // CHUNK_ELEMENTS, c, end
    cdef int bins = <int>edges.shape[0] - 1
    cdef double scale = bins / (edges[bins] - edges[0])
    cdef double step = linear_step(edges)
    cdef long long[:, ::1] hists = np.zeros((max(nchunks, 1), bins), dtype=np.int64)
    cdef const floating* data = &h[0, 0]
    with nogil:
        for c in prange(nchunks, num_threads=num_threads, schedule="static"):
            end = min((c + 1) * CHUNK_ELEMENTS, n)
            chunk_histogram(data + c * CHUNK_ELEMENTS, end - c * CHUNK_ELEMENTS, &edges[0], bins,
                            scale, step, &hists[c, 0])
    return np.asarray(hists).sum(axis=0)


cdef enum:
    COLUMN_BLOCK = 128  # output columns per work item of dense_forward (a small batch's GEMM)


def dense_forward(const floating[:, ::1] x, const floating[:, ::1] w, const floating[::1] b,
                  floating[:, ::1] out, int code, double slope, int num_threads):
    """out = activation(x @ w + b), for the trainer's small batches: the output's columns in
    blocks of COLUMN_BLOCK, each block's GEMM then its bias and activation while in cache, on
    any thread (the blocks depend on the shape alone: the same bits on any thread count). No
    statistics: forward_layer measures."""
    cdef Py_ssize_t rows = out.shape[0], width = out.shape[1], k = x.shape[1], i, j, blk
    cdef Py_ssize_t nblocks = (width + COLUMN_BLOCK - 1) // COLUMN_BLOCK, c0, c1
    cdef floating* h
    if x.shape[0] != rows or w.shape[0] != k or w.shape[1] != width or b.shape[0] != width \
            or rows == 0 or k == 0:
        raise ValueError("dense_forward needs non-empty matrices of matching shapes")
    with nogil:
        for blk in prange(nblocks, num_threads=num_threads, schedule="static"):
            c0 = blk * COLUMN_BLOCK
            c1 = min(c0 + COLUMN_BLOCK, width)
            # column-major: out^T[c0:c1] = (w^T)[c0:c1] x^T
            gemm(b"N", b"N", <int>(c1 - c0), <int>rows, <int>k, &w[0, 0] + c0, <int>width,
                 &x[0, 0], <int>k, 0, &out[0, 0] + c0, <int>width)
            for i in range(rows):
                h = &out[0, 0] + i * width + c0
                for j in range(c1 - c0):
                    h[j] = h[j] + b[c0 + j]
                activate(h, c1 - c0, code, slope)

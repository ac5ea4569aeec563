# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Fill kernels: uniform, normal and truncated normal from the Philox4x32-10 stream, in place.

Element ``i`` of a fill at ``offset`` is a pure function of (key, offset + i): a float32 element
at position ``p = offset + i`` uses the stream's 32-bit word ``p``; a float64 element uses the
64-bit word made of 32-bit words ``2p`` (low half) and ``2p + 1`` (high half). Every call is split into fixed chunks run by OpenMP threads in
any order, so neither the thread count nor the way a buffer is split into calls changes a bit.

Inputs are validated by fastinit.streams before they get here; nothing below checks them.
"""
from libc.math cimport exp, log, log1p, NAN
from libc.stdint cimport int32_t, int64_t, uint16_t, uint32_t, uint64_t
from cython cimport floating
from cython.parallel cimport prange
from scipy.special.cython_special cimport ndtri_exp

from fastinit._kernels.interrupt cimport fi_interrupt, fi_interrupt_init, fi_interrupt_poll, raise_pending
from fastinit._kernels.openmp cimport omp_get_max_threads

import numpy as np
from fastinit import _ziggurat

cdef extern from "philox.h" nogil:
    void fi_philox_block(const uint32_t* key, uint32_t c0, uint32_t c1, uint32_t c2,
                         uint32_t c3, uint32_t* out)
    void fi_philox_words32(const uint32_t* key, uint64_t first, size_t n, uint32_t* out,
                           uint32_t* scratch)
    void fi_philox_counters(const uint32_t* key, const uint32_t* ctr, size_t n, uint32_t* out)

cdef extern from "simd.h" nogil:
    int fi_simd_path()

cdef extern from "uniform.h" nogil:
    void fi_uniform_d(const uint64_t* words, size_t n, double shift, double scale, double lo,
                      double hi, double* out, int nt)
    void fi_uniform_f(const uint32_t* words, size_t n, double shift, double scale, float lo,
                      float hi, float* out, int nt)
    void fi_uniform_stream_f(const uint32_t* key, uint64_t first, size_t n, double shift,
                             double scale, float lo, float hi, float* out, int nt,
                             uint32_t* words, uint32_t* scratch)
    size_t fi_truncate_map_d(double* z, size_t n, const double* q, uint32_t* idx)
    size_t fi_truncate_map_f(float* z, size_t n, const double* q, uint32_t* idx)

cdef extern from "normal.h" nogil:
    size_t fi_normal_d(const uint64_t* words, size_t n, const uint64_t* K, const double* W,
                       double shift, double scale, double* out, uint32_t* rejects)
    size_t fi_normal_f(const uint32_t* halves, size_t n, const uint32_t* K, const float* W,
                       const uint64_t* KW, double shift, double scale, float* out,
                       uint32_t* rejects)


cdef extern from "seed_sequence.h" nogil:
    enum: FI_SS_MAX_POOL
    void fi_seed_sequence_key(const uint32_t* head, size_t n_head, const uint32_t* tail,
                              size_t n_tail, int pool_size, uint32_t* key)

cdef extern from "half.h" nogil:
    void fi_store_bfloat16(const float* values, uint16_t* out, size_t n, int nt)
    void fi_store_float16(const float* values, uint16_t* out, size_t n, int nt)

include "simd_switch.pxi"


cdef enum:
    STREAM_BYTES = 1 << 25  # fills this large (32 MiB) write with streaming stores
    CHUNK = 4096          # elements per OpenMP work item
    # values below which a fill runs on the calling thread: ~0.1 ms of work, about what
    # waking a sleeping thread costs (an init_module of many small tensors ran slower on two
    # threads than on one)
    PARALLEL_FILL = 1 << 18
    UNIFORM = 0
    NORMAL = 1
    TRUNCATED_NORMAL = 2
    # counter word 2 of an element's extra regions (the main stream has 0 there): 1 finishes
    # its ziggurat draw, 2 feeds truncated-normal redraws, 3 + j finishes redraw j's ziggurat
    ZIGGURAT_REGION = 1
    TRUNCATION_REGION = 2
    REDRAW_REGION = 3
    MAX_REDRAWS = 64

KINDS = {"uniform": UNIFORM, "normal": NORMAL, "truncated_normal": TRUNCATED_NORMAL}

# signs by table lookup: a branch on a random bit mispredicts half the time
cdef double SIGN64[2]
cdef float SIGN32[2]
SIGN64[:] = [1.0, -1.0]
SIGN32[:] = [1.0, -1.0]
cdef double TWO_M53 = 1.0 / 9007199254740992.0
cdef uint64_t MASK52 = _ziggurat.MASK52
cdef uint32_t MASK23 = _ziggurat.MASK23
cdef double ZIG_R = _ziggurat.R
cdef double ZIG_INV_R = _ziggurat.INV_R

cdef uint64_t K64[256]
cdef double W64[256]
cdef double F[256]
cdef uint32_t K32[256]
cdef float W32[256]
cdef uint64_t KW32[256]
for _i in range(256):
    K64[_i] = _ziggurat.K64[_i]
    W64[_i] = _ziggurat.W64[_i]
    F[_i] = _ziggurat.F[_i]
    K32[_i] = _ziggurat.K32[_i]
    W32[_i] = _ziggurat.W32[_i]
    KW32[_i] = _ziggurat.KW32[_i]


cdef struct ExtraWords:
    # the blocks of counters (element_lo, element_hi, block, region), block = 0, 1, ...: an
    # element's own supply for the rare draws that need more than its main-stream word, taken
    # as 64-bit words (low 32-bit word first)
    const uint32_t* key
    uint64_t element
    uint32_t region
    uint32_t block
    int used
    uint32_t buf[4]


cdef inline void extra_init(ExtraWords* e, const uint32_t* key, uint64_t element,
                            uint64_t region) noexcept nogil:
    e.key = key
    e.element = element
    e.region = <uint32_t>region
    e.block = 0
    e.used = 2


cdef inline uint64_t extra_next(ExtraWords* e) noexcept nogil:
    if e.used == 2:
        fi_philox_block(e.key, <uint32_t>e.element, <uint32_t>(e.element >> 32), e.block,
                        e.region, e.buf)
        e.block += 1
        e.used = 0
    e.used += 1
    return <uint64_t>e.buf[2 * e.used - 2] | (<uint64_t>e.buf[2 * e.used - 1] << 32)


cdef inline double extra_uniform(ExtraWords* e) noexcept nogil:
    return <double><int64_t>(extra_next(e) >> 11) * TWO_M53


cdef double ziggurat_slow(uint64_t idx, double x, uint64_t negative,
                          ExtraWords* e) noexcept nogil:
    """Finish a ziggurat draw whose fast test failed: tail, wedge, or a fresh double draw, from
    the element's extra words ``e``."""
    cdef double xx, yy
    cdef uint64_t w, rabs
    while True:
        if idx == 0:
            while True:
                xx = -ZIG_INV_R * log1p(-extra_uniform(e))
                yy = -log1p(-extra_uniform(e))
                if yy + yy > xx * xx:
                    return -(ZIG_R + xx) if negative else ZIG_R + xx
        if F[idx] + extra_uniform(e) * (F[idx - 1] - F[idx]) < exp(-0.5 * x * x):
            return x
        w = extra_next(e)
        idx = w & 0xff
        negative = (w >> 8) & 1
        rabs = (w >> 9) & MASK52
        x = <double><int64_t>rabs * W64[idx] * SIGN64[negative]
        if rabs < K64[idx]:
            return x


cdef inline double normal64_from(uint64_t w, ExtraWords* e) noexcept nogil:
    """The float64 ziggurat normal of main word ``w``, finished from ``e`` if it must be."""
    cdef uint64_t idx = w & 0xff
    cdef uint64_t negative = (w >> 8) & 1
    cdef uint64_t rabs = (w >> 9) & MASK52
    # int64 casts: rabs < 2^52, and signed conversion is one instruction where unsigned is not
    cdef double x = <double><int64_t>rabs * W64[idx] * SIGN64[negative]
    if rabs < K64[idx]:
        return x
    return ziggurat_slow(idx, x, negative, e)


cdef inline float normal32_from(uint32_t h, ExtraWords* e) noexcept nogil:
    cdef uint32_t idx = h & 0xff
    cdef uint32_t negative = (h >> 8) & 1
    cdef uint32_t rabs = (h >> 9) & MASK23
    cdef float x = <float><int32_t>rabs * W32[idx] * SIGN32[negative]
    if rabs < K32[idx]:
        return x
    return <float>ziggurat_slow(idx, x, negative, e)


cdef inline double normal64(uint64_t w, const uint32_t* key, uint64_t element,
                            uint64_t region) noexcept nogil:
    cdef ExtraWords e
    extra_init(&e, key, element, region)
    return normal64_from(w, &e)


cdef inline float normal32(uint32_t h, const uint32_t* key, uint64_t element) noexcept nogil:
    cdef ExtraWords e
    extra_init(&e, key, element, ZIGGURAT_REGION)
    return normal32_from(h, &e)


cdef enum:
    BATCH = 512  # elements whose first extra block is made at once


cdef void first_blocks(const uint32_t* key, uint64_t pos, const uint32_t* elements,
                       Py_ssize_t count, uint32_t region, uint32_t* blocks) noexcept nogil:
    """The first extra block (block 0 of ``region``) of elements pos + elements[i], i < count
    <= BATCH, made together on the vector path, into blocks[4i .. 4i + 4)."""
    cdef uint32_t ctr[4 * BATCH]
    cdef uint64_t element
    cdef Py_ssize_t i
    for i in range(count):
        element = pos + elements[i]
        ctr[4 * i] = <uint32_t>element
        ctr[4 * i + 1] = <uint32_t>(element >> 32)
        ctr[4 * i + 2] = 0
        ctr[4 * i + 3] = region
    fi_philox_counters(key, ctr, count, blocks)


cdef inline void extra_from_block(ExtraWords* e, const uint32_t* key, uint64_t element,
                                  uint32_t region, const uint32_t* block) noexcept nogil:
    """``e`` as extra_init makes it, its first block already made (``block``)."""
    extra_init(e, key, element, region)
    e.block = 1
    e.used = 0
    e.buf[0] = block[0]
    e.buf[1] = block[1]
    e.buf[2] = block[2]
    e.buf[3] = block[3]


cdef inline double truncated_standard(double z, const uint32_t* key, uint64_t element,
                                      const double* p) noexcept nogil:
    """Standard normal z truncated to [alpha, beta]: keep z if inside, else redraw, else invert.

    p: alpha, beta, redraw (1.0 for wide intervals, where redrawing is cheap), flip, log_hi,
    exp_d, one_minus_exp_d; see fastinit/laws.py for the constants of the inversion.
    Each stage returns a draw of the exact truncated law, so the mixture is exact too.
    """
    cdef ExtraWords e
    extra_init(&e, key, element, TRUNCATION_REGION)
    return truncated_from(z, &e, key, element, p)


cdef double truncated_from(double z, ExtraWords* e_, const uint32_t* key, uint64_t element,
                           const double* p) noexcept nogil:
    """truncated_standard with the element's truncation words from ``e_`` (whose first block
    may already be made)."""
    cdef ExtraWords e = e_[0]
    cdef double u
    cdef int j
    if p[2] != 0.0:
        if p[0] <= z <= p[1]:
            return z
        for j in range(MAX_REDRAWS):
            z = normal64(extra_next(&e), key, element, REDRAW_REGION + j)
            if p[0] <= z <= p[1]:
                return z
    u = (<double><int64_t>(extra_next(&e) >> 11) + 0.5) * TWO_M53
    z = ndtri_exp(p[4] + log(p[5] + u * p[6]))
    return -z if p[3] != 0.0 else z


cdef inline double clamp(double x, double lo, double hi) noexcept nogil:
    return lo if x < lo else (hi if x > hi else x)


cdef void fill_chunk(floating* out, Py_ssize_t n, uint64_t pos, const uint32_t* key, int kind,
                     const double* p, int nt) noexcept nogil:
    # p[0], p[1]: shift and scale of the law (low and high - low, or mean and std). One loop per
    # law, so that the common ones stay tight and the uniform one vectorises.
    cdef uint64_t words[CHUNK]
    cdef uint32_t scratch[2 * CHUNK + 8]
    cdef uint32_t* halves = <uint32_t*>words  # float32: one 32-bit word per element
    cdef uint32_t rejects[CHUNK]
    cdef Py_ssize_t k, r, nrej
    cdef double z, shift = p[0], scale = p[1]
    cdef double q[6]
    if floating is float and kind == UNIFORM:  # words straight from registers where it can
        fi_uniform_stream_f(key, pos, n, shift, scale, <float>p[2], <float>p[3], out, nt,
                            halves, scratch)
        return
    if floating is double:  # two 32-bit words per element, read as one little-endian word
        fi_philox_words32(key, 2 * pos, 2 * n, <uint32_t*>words, scratch)
    else:
        fi_philox_words32(key, pos, n, halves, scratch)
    if kind == UNIFORM:
        # p[2], p[3]: the first and last dtype values in [low, high), where rounding may not go
        if floating is double:
            fi_uniform_d(words, n, shift, scale, p[2], p[3], out, nt)
        else:
            fi_uniform_f(halves, n, shift, scale, <float>p[2], <float>p[3], out, nt)
    elif kind == NORMAL:
        standard_normals(out, words, halves, n, pos, key, shift, scale, rejects)
    elif p[6] != 0.0:
        # a wide interval: most standard normals already lie in [alpha, beta]; out holds them
        # exactly (float32: the float candidate, as normal32 makes it) until each is mapped
        standard_normals(out, words, halves, n, pos, key, 0.0, 1.0, rejects)
        q[0], q[1], q[2], q[3], q[4], q[5] = p[4], p[5], shift, scale, p[2], p[3]
        if floating is double:
            nrej = fi_truncate_map_d(out, n, q, rejects)
        else:
            nrej = fi_truncate_map_f(out, n, q, rejects)
        redraw_outside(out, rejects, nrej, pos, key, p)
    else:
        for k in range(n):
            if floating is double:
                z = normal64(words[k], key, pos + k, ZIGGURAT_REGION)
            else:
                z = normal32(halves[k], key, pos + k)
            z = truncated_standard(z, key, pos + k, p + 4)
            out[k] = <floating>clamp(shift + scale * z, p[2], p[3])


cdef void redraw_outside(floating* out, const uint32_t* outside, Py_ssize_t m, uint64_t pos,
                         const uint32_t* key, const double* p) noexcept nogil:
    """The elements ``outside`` (their standard normal fell outside [alpha, beta]) drawn again
    from the truncated law and mapped, as truncated_standard would (the same bits). Their first
    truncation blocks are made together, and so are the first redraws' fast ziggurat
    candidates; only an element whose first redraw fails (~6%) finishes one by one."""
    cdef Py_ssize_t k, i, j, b = 0, count, nfailed
    cdef uint32_t blocks[4 * BATCH]
    cdef uint64_t first_words[BATCH]
    cdef double first[BATCH]
    cdef uint32_t failed[BATCH]
    cdef ExtraWords e
    cdef double z
    while b < m:
        count = min(<Py_ssize_t>BATCH, m - b)
        first_blocks(key, pos, outside + b, count, TRUNCATION_REGION, blocks)
        for i in range(count):  # the first redraw's word: the truncation region's first
            first_words[i] = <uint64_t>blocks[4 * i] | (<uint64_t>blocks[4 * i + 1] << 32)
        # shift -0.0: -0.0 + x is x for every x, signed zeros included
        nfailed = fi_normal_d(first_words, count, K64, W64, -0.0, 1.0, first, failed)
        for j in range(nfailed):  # candidates that need the slow ziggurat path
            first[failed[j]] = NAN
        for i in range(count):
            k = outside[b + i]
            z = first[i]
            if not (p[6] != 0.0 and p[4] <= z <= p[5]):
                extra_from_block(&e, key, pos + k, TRUNCATION_REGION, blocks + 4 * i)
                # nan: the element's own z is outside, and the redraws never read it
                z = truncated_from(NAN, &e, key, pos + k, p + 4)
            out[k] = <floating>clamp(p[0] + p[1] * z, p[2], p[3])
        b += count


cdef inline void standard_normals(floating* out, const uint64_t* words, const uint32_t* halves,
                                  Py_ssize_t n, uint64_t pos, const uint32_t* key, double shift,
                                  double scale, uint32_t* rejects) noexcept nogil:
    """out = shift + scale * z for the chunk's ziggurat normals: every candidate at once, then
    the few that failed the fast test, finished one by one."""
    cdef Py_ssize_t r, k, nrej
    cdef double z
    if floating is double:
        nrej = fi_normal_d(words, n, K64, W64, shift, scale, out, rejects)
    else:
        nrej = fi_normal_f(halves, n, K32, W32, KW32, shift, scale, out, rejects)
    cdef uint32_t blocks[4 * BATCH]
    cdef ExtraWords e
    cdef Py_ssize_t b = 0, count
    while b < nrej:  # every failed candidate reads at least its first extra block
        count = min(<Py_ssize_t>BATCH, nrej - b)
        first_blocks(key, pos, rejects + b, count, ZIGGURAT_REGION, blocks)
        for r in range(count):
            k = rejects[b + r]
            extra_from_block(&e, key, pos + k, ZIGGURAT_REGION, blocks + 4 * r)
            if floating is double:
                z = normal64_from(words[k], &e)
            else:
                z = normal32_from(halves[k], &e)
            out[k] = <floating>(shift + scale * z)
        b += count


def fill(floating[::1] out, const uint32_t[::1] key, uint64_t offset, int kind,
         const double[::1] params, int num_threads):
    """Fill ``out`` with stream elements offset .. offset + len(out) - 1 of law ``kind``.

    params: uniform (low, high - low, first, last value of the dtype in [low, high)); normal
    (mean, std); truncated_normal (mean, std, lo, hi,
    alpha, beta, normal_first, flip, log_hi, exp_d, one_minus_exp_d), lo/hi being the bounds
    as values of out's dtype.
    """
    cdef Py_ssize_t n = out.shape[0]
    cdef fi_interrupt interrupt
    if n == 0:
        return
    if num_threads < 1:
        num_threads = omp_get_max_threads()
    fi_interrupt_init(&interrupt)
    with nogil:
        fill_range(&out[0], n, offset, &key[0], kind, &params[0], num_threads, &interrupt,
                   n * sizeof(floating) >= STREAM_BYTES)
    if interrupt.stop:  # Ctrl-C: out is partly filled, and the call raises
        raise_pending()


ctypedef fused stored:  # what a fill writes: float32/float64 values, or 16-bit float words
    float
    double
    uint16_t


def fill_rows(stored[:, ::1] out, const uint32_t[::1] key, uint64_t offset,
              uint64_t row_stride, int kind, const double[::1] params, int num_threads,
              bint bfloat16=False):
    """Fill row i of ``out`` with stream elements offset + i * row_stride onwards: a block of a
    larger tensor whose rows are ``row_stride`` elements apart (fastinit.regions). Each row is
    cut into the same work items as fill()'s, all rows' items shared by the threads.

    uint16 ``out`` holds float16 (or, with ``bfloat16``, bfloat16) words: each work item is
    drawn in float32 and rounded to nearest even (src/half.h); ``params`` then carry the bounds
    as values of the 16-bit type, so that rounding never leaves them."""
    cdef Py_ssize_t rows = out.shape[0], cols = out.shape[1]
    cdef Py_ssize_t per_row = (cols + CHUNK - 1) // CHUNK
    cdef Py_ssize_t t, r, c
    cdef fi_interrupt interrupt
    cdef int nt = rows * cols * sizeof(stored) >= STREAM_BYTES
    if rows == 0 or cols == 0:
        return
    if num_threads < 1:
        num_threads = omp_get_max_threads()
    fi_interrupt_init(&interrupt)
    with nogil:
        if rows * per_row == 1:  # one work item: no thread team to wake
            rows_chunk(&out[0, 0], cols, offset, &key[0], kind, &params[0], nt, bfloat16)
        else:
            for t in prange(rows * per_row, num_threads=num_threads, schedule="static"):
                if fi_interrupt_poll(&interrupt):
                    continue
                r = t // per_row
                c = (t - r * per_row) * CHUNK
                rows_chunk(&out[r, c], min(<Py_ssize_t>CHUNK, cols - c),
                           offset + r * row_stride + c, &key[0], kind, &params[0], nt,
                           bfloat16)
    if interrupt.stop:
        raise_pending()


cdef inline void rows_chunk(stored* out, Py_ssize_t n, uint64_t pos, const uint32_t* key,
                            int kind, const double* params, int nt,
                            bint bfloat16) noexcept nogil:
    cdef float values[CHUNK]
    if stored is uint16_t:
        fill_chunk(values, n, pos, key, kind, params, 0)
        if bfloat16:
            fi_store_bfloat16(values, out, n, nt)
        else:
            fi_store_float16(values, out, n, nt)
    else:
        fill_chunk(out, n, pos, key, kind, params, nt)


def round_to_half(const float[::1] values, uint16_t[::1] out, bint bfloat16):
    """``values`` rounded to nearest even into float16 (or bfloat16) words: the kernels'
    rounding, exposed for its tests."""
    if out.shape[0] != values.shape[0]:
        raise ValueError("values and out must have the same length")
    if values.shape[0] == 0:
        return
    with nogil:
        if bfloat16:
            fi_store_bfloat16(&values[0], &out[0], values.shape[0], 0)
        else:
            fi_store_float16(&values[0], &out[0], values.shape[0], 0)


cdef void fill_range(floating* out, Py_ssize_t n, uint64_t offset, const uint32_t* key,
                     int kind, const double* params, int num_threads,
                     fi_interrupt* interrupt, int nt) noexcept nogil:
    """fill() without the GIL or any check, for other kernels: elements offset .. offset+n-1.
    Stops early, with interrupt.stop set, when a signal handler raises. ``nt``: write with
    streaming stores (for buffers far larger than the caches: see src/uniform.h)."""
    cdef Py_ssize_t nchunks = (n + CHUNK - 1) // CHUNK
    cdef Py_ssize_t c
    if nchunks == 1:  # one work item: no thread team to wake
        fill_chunk(out, n, offset, key, kind, params, nt)
        return
    if n < PARALLEL_FILL:  # less work than waking a sleeping thread costs: in order, here
        for c in range(nchunks):
            if fi_interrupt_poll(interrupt):
                return
            fill_chunk(out + c * CHUNK, min(<Py_ssize_t>CHUNK, n - c * CHUNK), offset + c * CHUNK,
                       key, kind, params, nt)
        return
    for c in prange(nchunks, num_threads=num_threads, schedule="static"):
        if fi_interrupt_poll(interrupt):
            continue
        fill_chunk(out + c * CHUNK, min(<Py_ssize_t>CHUNK, n - c * CHUNK), offset + c * CHUNK,
                   key, kind, params, nt)


def child_keys(const uint32_t[::1] head, const uint64_t[::1] children,
               const uint32_t[::1] suffix, int pool_size, uint32_t[:, ::1] keys):
    """keys[i] = the Philox key of the SeedSequence whose assembled entropy words are ``head``,
    then ``children[i]``'s (one word below 2**32, else two), then ``suffix``: for a head made
    by fastinit.seeding.child_keys, the key of ``child(ss, children[i])`` (and its children
    ``suffix``). NumPy's mixing, in C (src/seed_sequence.h)."""
    if not 4 <= pool_size <= FI_SS_MAX_POOL or suffix.shape[0] > 30:
        raise ValueError("pool_size must be in [4, 64] and the suffix at most 30 words")
    if keys.shape[0] != children.shape[0] or keys.shape[1] != 2:
        raise ValueError("keys must have shape (len(children), 2)")
    cdef uint32_t tail[32]
    cdef Py_ssize_t i, j, n_suffix = suffix.shape[0]
    cdef size_t n_tail
    cdef uint64_t c
    with nogil:
        for i in range(children.shape[0]):
            c = children[i]
            tail[0] = <uint32_t>c
            n_tail = 1
            if c >> 32:
                tail[1] = <uint32_t>(c >> 32)
                n_tail = 2
            for j in range(n_suffix):
                tail[n_tail + j] = suffix[j]
            fi_seed_sequence_key(&head[0] if head.shape[0] else NULL, head.shape[0], tail,
                                 n_tail + n_suffix, pool_size, &keys[i, 0])
    return keys


def seed_child_keys(const uint64_t[::1] seeds, uint32_t[:, :, ::1] keys):
    """keys[i, j] = the Philox key of ``child(SeedSequence(seeds[i]), j)`` for every seed below
    2**64 and j < keys.shape[1] (< 2**32): a sweep's networks keyed in one call."""
    cdef Py_ssize_t i, j
    cdef uint32_t head[4]
    cdef uint32_t tail[1]
    if keys.shape[0] != seeds.shape[0] or keys.shape[2] != 2:
        raise ValueError("keys must have shape (len(seeds), children, 2)")
    with nogil:
        for i in range(seeds.shape[0]):
            # the run entropy's words, padded with zeros to the pool (4 words)
            head[0] = <uint32_t>seeds[i]
            head[1] = <uint32_t>(seeds[i] >> 32)
            head[2] = 0
            head[3] = 0
            for j in range(keys.shape[1]):
                tail[0] = <uint32_t>j
                fi_seed_sequence_key(head, 4, tail, 1, 4, &keys[i, j, 0])
    return keys


def raw_words(uint32_t[::1] out, const uint32_t[::1] key, uint64_t first):
    """Main-stream 32-bit words first .. first + len(out) - 1 (for tests and documentation)."""
    cdef uint32_t[::1] scratch = np.empty(out.shape[0] + 8, np.uint32)
    if out.shape[0]:
        with nogil:
            fi_philox_words32(&key[0], first, out.shape[0], &out[0], &scratch[0])


def extra_words(const uint32_t[::1] key, uint64_t element, uint64_t region, Py_ssize_t n):
    """The first ``n`` 64-bit extra words of ``element`` in ``region`` (for tests)."""
    cdef ExtraWords e
    out = np.empty(n, np.uint64)
    extra_init(&e, &key[0], element, region)
    for i in range(n):
        out[i] = extra_next(&e)
    return out


def philox_path():
    """The Philox path the fills run on here: "avx512", "avx2" or "portable"."""
    return ("portable", "avx2", "avx512")[fi_simd_path()]

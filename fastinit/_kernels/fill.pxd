# The fill kernel for other kernels (the fused network pass draws each layer's weights with it).
from libc.stdint cimport uint32_t, uint64_t
from cython cimport floating
from fastinit._kernels.interrupt cimport fi_interrupt

cdef void fill_range(floating* out, Py_ssize_t n, uint64_t offset, const uint32_t* key,
                     int kind, const double* params, int num_threads,
                     fi_interrupt* interrupt, int nt) noexcept nogil

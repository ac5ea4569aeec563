"""The compiled layer: Cython kernels on OpenMP threads, their C in ``src/``.

- ``fill``: the counter-based stream (Philox4x32-10) and every law's fill, in place;
- ``propagate``: a layer's GEMM and fused pass, whole networks in one nogil call;
- ``backward``: the backward pass;
- ``shared``: the C-level helpers propagate and backward cimport (BLAS, constants, reductions);
- ``openmp``: what OpenMP this build has; ``threads``: how the kernels share the cores.

Nothing here validates arguments: the Python layer above does, before any buffer is touched.
"""

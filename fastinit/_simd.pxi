# Included by every extension module that includes _simd.h: the switch for its own copy of the
# hand-written AVX2 paths (fi_simd_enabled is static to each module).
cdef extern from "_simd.h":
    int fi_simd_enabled


def use_simd(bint enabled):
    """Switch this module's hand-written AVX2 paths on or off; returns the previous setting.
    For tests: both paths must give the same bits."""
    global fi_simd_enabled
    previous = bool(fi_simd_enabled)
    fi_simd_enabled = enabled
    return previous

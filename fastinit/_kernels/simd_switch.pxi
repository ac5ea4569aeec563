# Included by each kernel module (fill, propagate, backward): the switch for its own copy of the
# hand-written vector paths (fi_simd_level in src/simd.h is static to each module).
cdef extern from "simd.h":
    int fi_simd_level


def simd_level(level=None):
    """This module's vector paths: 2 allows AVX-512, 1 AVX2 at most, 0 portable C only (each
    path runs only where the CPU has it). Returns the previous level; with no argument, only
    reads it. For tests: every path must give the same bits."""
    global fi_simd_level
    previous = fi_simd_level
    if level is not None:
        if level not in (0, 1, 2):
            raise ValueError(f"level must be 0, 1 or 2, got {level!r}")
        fi_simd_level = level
    return previous


def use_simd(bint enabled):
    """All vector paths on (the fastest the CPU has) or off; returns whether they were on."""
    return bool(simd_level(2 if enabled else 0))

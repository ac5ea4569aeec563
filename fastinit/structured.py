"""The structured schemes: orthogonal, identity, dirac and sparse. Each takes the arguments
every scheme takes (see fastinit.initializers) and has no single law: under the LAWS backend
they return None, and the engine draws them in Python."""
from __future__ import annotations

from fractions import Fraction
import math
from typing import Any

import numpy as np
import scipy.linalg.lapack

from fastinit._typing import Array, DType, RNG, Shape
from fastinit._validation import integer, real
from fastinit.backends import Backend, Call, serial_blas
from fastinit.fans import IN_OUT, split_axes
from fastinit.laws import Normal, representable

# The QR runs as LAPACK calls on panels of QR_PANEL columns, each applied to at most QR_COLUMNS
# columns at a time, and to fewer when the panel is tall: no call does more than QR_CALL_WORK
# multiply-adds (~0.1 s on one loaded core), so Ctrl-C is answered between calls whatever the
# shape (an 8192 x 4096 weight took 4 s per call with 1024 columns), and blocks this size keep
# LAPACK's blocked updates at full speed.
QR_PANEL = 256
QR_COLUMNS = 1024
QR_CALL_WORK = 1 << 28


def _matrix_shape(shape, layout):
    """(rows, cols) of an N-d weight seen as a matrix: in_out flattens the leading dims into
    rows (Keras), out_in the trailing ones into cols (PyTorch)."""
    kernel, fan_in, fan_out = split_axes(shape, layout)
    if layout == IN_OUT:
        return math.prod(kernel) * fan_in, fan_out
    return fan_out, fan_in * math.prod(kernel)


def orthogonal(shape: Shape | None = None, *, gain: float = 1.0, layout: str = "in_out",
               rng: RNG = None, seed: RNG = None, region: Any = None, dtype: DType = None,
               out: Any = None, num_threads: int | None = None,
               backend: Backend | None = None) -> Array:
    """Saxe et al. (2014): W = gain * Q, Q from the QR decomposition of a standard Gaussian
    matrix, columns signed by sign(diag R) so that Q is Haar-distributed. Orthonormal rows or
    columns, whichever are fewer. N-d shapes are seen as matrices by ``layout``.

    >>> w = fastinit.orthogonal((64, 64), rng=0)
    >>> bool(np.allclose(w.T @ w, np.eye(64)))
    True
    """
    call = Call(shape, out, dtype, rng, num_threads, backend)
    gain = real(gain, "gain")
    rows, cols = _matrix_shape(call.shape, layout)
    if call.law_only:
        return None  # type: ignore[return-value]  # LAWS: a structured scheme has no law
    out = call.out
    representable(gain, out.dtype, "gain")  # |Q| <= 1: gain * Q fits when gain does
    if out.size == 0:
        return out
    # LAPACK wants Fortran order. Square and wide weights are factorised in place, as the
    # Fortran-ordered transpose of out's memory; a tall one through a Fortran-ordered copy.
    if cols >= rows:
        matrix = out.reshape(rows, cols).T
        call.draw(Normal())
    else:
        matrix = call.source.fill(np.empty((cols, rows), out.dtype), Normal(),
                                  num_threads=call.num_threads).T
    with serial_blas():  # the same bytes whatever BLAS's thread count
        diagonal = _orthonormalize(matrix)
    signs = np.where(diagonal < 0, -gain, gain).astype(out.dtype)
    matrix *= signs
    if cols < rows:
        out.reshape(rows, cols)[...] = matrix
    return out


def kernel_gain(shape: tuple[int, ...], params: dict[str, Any], dtype: DType) -> float | None:
    """The gain with which the kernels' QR (fastinit._kernels.shared.orthonormalize, on
    standard normal draws from the same counters) gives orthogonal(shape, **params)'s bits: a
    2-D weight whose smaller side fits one QR panel and whose QR is one short call (the LAPACK
    calls _orthonormalize makes, with the same sizes). None for any other weight, which
    orthogonal factorises here."""
    if len(shape) != 2 or set(params) - {"gain"}:
        return None
    n, m = sorted(shape)
    if not 0 < n <= QR_PANEL or m * n * n > QR_CALL_WORK:
        return None
    gain = real(params.get("gain", 1.0), "gain")
    representable(gain, np.dtype(dtype), "gain")
    return gain


def _orthonormalize(matrix):
    """Replace a tall (or square) Fortran-ordered matrix in place by the Q of its QR
    decomposition; returns the diagonal of R.

    Householder QR as LAPACK blocks it, one panel of QR_PANEL columns per call: geqrf factors
    the panel, ormqr applies its reflectors to the columns right of it; then Q is formed from
    the last panel to the first (orgqr on each panel, ormqr onto the columns already formed).
    Python regains control between calls, so a long QR answers Ctrl-C."""
    m, n = matrix.shape
    geqrf, ormqr, orgqr = scipy.linalg.lapack.get_lapack_funcs(("geqrf", "ormqr", "orgqr"),
                                                                (matrix,))
    starts = range(0, n, QR_PANEL)
    taus = {}
    for j in starts:
        b = min(QR_PANEL, n - j)
        panel, taus[j], _, info = geqrf(matrix[j:, j:j + b])
        _lapack_ok("geqrf", info)
        matrix[j:, j:j + b] = panel
        if j + b < n:
            _apply_reflectors(ormqr, "T", panel, taus[j], matrix[j:, j + b:])
    diagonal = np.diagonal(matrix).copy()
    for j in reversed(starts):
        b = min(QR_PANEL, n - j)
        panel = np.array(matrix[j:, j:j + b], order="F")
        if j + b < n:
            matrix[j:j + b, j + b:] = 0.0  # R's entries: Q's columns right of here start below
            _apply_reflectors(ormqr, "N", panel, taus[j], matrix[j:, j + b:])
        q, _, info = orgqr(panel, taus[j], lwork=max(1, 64 * b), overwrite_a=1)
        _lapack_ok("orgqr", info)
        matrix[j:, j:j + b] = q
        matrix[:j, j:j + b] = 0.0
    return diagonal


def _apply_reflectors(ormqr, trans, panel, tau, target):
    """target = Q_panel^T target (trans "T") or Q_panel target ("N"), in place, QR_COLUMNS
    columns per call (so that no call runs long enough to delay Ctrl-C)."""
    columns = max(16, min(QR_COLUMNS, QR_CALL_WORK // max(1, panel.shape[0] * panel.shape[1])))
    for c in range(0, target.shape[1], columns):
        block = target[:, c:c + columns]
        result, _, info = ormqr("L", trans, panel, tau, block, max(1, 64 * block.shape[1]))
        _lapack_ok("ormqr", info)
        block[...] = result


def _lapack_ok(name, info):
    if info:
        raise RuntimeError(f"LAPACK {name} failed with info {info}")


def identity(shape: Shape | None = None, *, gain: float = 1.0, rng: RNG = None, seed: RNG = None,
             region: Any = None, dtype: DType = None, out: Any = None,
             num_threads: int | None = None, backend: Backend | None = None) -> Array:
    """W = gain * I (2-D; ones on the main diagonal of a non-square matrix)."""
    call = Call(shape, out, dtype, rng, num_threads, backend)
    gain = real(gain, "gain")
    if len(call.shape) != 2:
        raise ValueError(f"identity needs a 2-D shape, got {call.shape}")
    if call.law_only:
        return None  # type: ignore[return-value]  # LAWS: a structured scheme has no law
    representable(gain, call.out.dtype, "gain")
    call.out.fill(0.0)
    np.fill_diagonal(call.out, gain)
    return call.out


def dirac(shape: Shape | None = None, *, groups: int = 1, layout: str = "in_out", rng: RNG = None,
          seed: RNG = None, region: Any = None, dtype: DType = None, out: Any = None,
          num_threads: int | None = None, backend: Backend | None = None) -> Array:
    """The Dirac delta of a 3-, 4- or 5-D convolution kernel: W[center, i, i] = 1 within each of
    ``groups`` groups, so that a convolution with W copies its input channels (as many as
    min(out / groups, in)). Layout (*kernel, in, out) or, with out_in, (out, in, *kernel)."""
    call = Call(shape, out, dtype, rng, num_threads, backend)
    groups = integer(groups, "groups")
    if len(call.shape) not in (3, 4, 5):
        raise ValueError(f"dirac needs a 3-, 4- or 5-D shape, got {call.shape}")
    kernel, in_ch, out_ch = split_axes(call.shape, layout)
    if groups < 1 or out_ch % groups:
        raise ValueError(f"groups must be a positive divisor of the {out_ch} output channels,"
                         f" got {groups}")
    if call.law_only:
        return None  # type: ignore[return-value]  # LAWS: a structured scheme has no law
    out = call.out
    out.fill(0.0)
    if out.size == 0:
        return out
    per_group = out_ch // groups
    center = tuple(k // 2 for k in kernel)
    for g in range(groups):
        for d in range(min(per_group, in_ch)):
            if layout == IN_OUT:
                out[center + (d, g * per_group + d)] = 1.0
            else:
                out[(g * per_group + d, d) + center] = 1.0
    return out


def sparse(shape: Shape | None = None, *, sparsity: float, std: float = 0.01,
           layout: str = "in_out", rng: RNG = None, seed: RNG = None, region: Any = None,
           dtype: DType = None, out: Any = None, num_threads: int | None = None,
           backend: Backend | None = None) -> Array:
    """Martens (2010), with torch.nn.init.sparse_'s counts: W ~ N(0, std^2), then each input
    unit keeps all but ceil(sparsity * fan_out) of its outgoing weights.

    In PyTorch's (out, in) layout (``layout="out_in"``) that is torch's rule: ceil(sparsity *
    rows) zeros in every column. In the default (in, out) layout it is the same pattern
    transposed: ceil(sparsity * cols) zeros in every row. ``sparsity`` counts as the decimal
    written (0.3 of 10 is 3 zeros, where torch's float product 0.3 * 10 gives 4). The zero
    positions come from ``rng`` too (values from its stream, positions from child 0's, or both
    from the same Generator)."""
    call = Call(shape, out, dtype, rng, num_threads, backend)
    sparsity = real(sparsity, "sparsity")
    if not 0.0 <= sparsity <= 1.0:
        raise ValueError(f"sparsity must be in [0, 1], got {sparsity}")
    if len(call.shape) != 2:
        raise ValueError(f"sparse needs a 2-D shape, got {call.shape}")
    split_axes(call.shape, layout)  # checks the layout
    law = Normal(0.0, std)
    if call.law_only:
        return None  # type: ignore[return-value]  # LAWS: a structured scheme has no law
    out = call.draw(law)
    inputs_first = out if layout == IN_OUT else out.T  # (fan_in, fan_out) view
    # the decimal the user wrote, exactly: 0.3 of 10 is 3 zeros, not ceil(3.0000000000000004)
    num_zeros = math.ceil(Fraction(repr(sparsity)) * inputs_first.shape[1])
    keys = call.source.uniform_keys(inputs_first.shape)
    columns = np.argsort(keys, axis=1, kind="stable")[:, :num_zeros]
    np.put_along_axis(inputs_first, columns, 0.0, axis=1)
    return out

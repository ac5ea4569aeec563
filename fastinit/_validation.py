"""The one place arguments are checked: every public entry point goes through these before any
buffer is written, so a bad argument is a ValueError/TypeError naming it, never a crash."""
import math
import numbers
import operator
import os
import re
import sys

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_MAX_BYTES = np.iinfo(np.intp).max
# The most threads a kernel call may ask for: OpenMP would start every one of them (100000
# threads exhaust the address space and crash), and more threads than this only oversubscribe.
MAX_THREADS = max(64, 4 * (os.cpu_count() or 1))


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def user_stacklevel():
    """The ``stacklevel`` for a ``warnings.warn`` in the calling function that points at the
    first frame outside fastinit: the user's line, however deep the engine's path to it."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level


def float_dtype(dtype, name="dtype"):
    """float32 or float64 as a numpy dtype; None means float64."""
    if dtype is None:
        return np.dtype(np.float64)
    try:
        dt = np.dtype(dtype)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be float32 or float64, got {dtype!r}") from None
    # compare by identity of kind and size: `np.dtype("float64") == None` is True, so a failed
    # conversion must never reach a `in FLOAT_DTYPES` test
    if not any(dt == valid for valid in FLOAT_DTYPES):
        raise TypeError(f"{name} must be float32 or float64, got {dtype!r}")
    return dt


def half_dtypes():
    """The 16-bit float types a fill can write (drawn in float32, rounded to nearest even):
    float16, and bfloat16 where ml_dtypes (NumPy's bfloat16, as JAX uses) is installed."""
    types = [np.dtype(np.float16)]
    try:
        import ml_dtypes
    except ImportError:
        return types
    return types + [np.dtype(ml_dtypes.bfloat16)]


def weight_dtype(dtype, name="dtype"):
    """The dtype of a fill's output: float32 or float64 (None: float64), or float16/bfloat16."""
    if isinstance(dtype, str) and dtype == "bfloat16" and len(half_dtypes()) == 1:
        raise TypeError(f"{name} bfloat16 needs ml_dtypes: pip install ml_dtypes")
    try:
        dt = None if dtype is None else np.dtype(dtype)
    except (TypeError, ValueError):
        dt = None
    if dt is not None and any(dt == half for half in half_dtypes()):
        return dt
    try:
        return float_dtype(dtype, name)
    except TypeError:
        raise TypeError(f"{name} must be float32 or float64 (or float16/bfloat16 for a fill), "
                        f"got {dtype!r}") from None


def num_threads(value, name="num_threads"):
    """The thread count a kernel is asked for: None (OpenMP's default) or an int in
    [1, MAX_THREADS]. Returns the int, or None."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be None or a positive int, got {value!r}")
    try:
        n = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be None or a positive int, got {value!r}") from None
    if not 1 <= n <= MAX_THREADS:
        raise ValueError(f"{name} must be in [1, {MAX_THREADS}] (at most 4 per CPU, or 64), "
                         f"got {n}")
    return n


def integer(value, name):
    """A Python int from an int-like (bools are refused: True is not a size)."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {value!r}") from None


def as_shape(shape, name="shape"):
    """A tuple of non-negative ints whose element count fits in memory addresses."""
    if isinstance(shape, np.ndarray) and shape.ndim > 0:
        raise TypeError(f"{name} must be a tuple of ints, got an array of shape {shape.shape}; "
                        "to fill an existing array in place, pass it as out=...")
    if isinstance(shape, (list, tuple)):
        dims = tuple(integer(d, name) for d in shape)
    else:
        dims = (integer(shape, name),)
    if any(d < 0 for d in dims):
        raise ValueError(f"{name} must have non-negative sizes, got {dims}")
    if math.prod(dims) * 8 > _MAX_BYTES:
        raise ValueError(f"{name} {dims} has too many elements to address")
    return dims


def output(shape, out, dtype):
    """The array to fill: ``out`` checked, or a new array of ``shape`` and ``dtype``."""
    if out is None:
        if shape is None:
            raise TypeError("give a shape or an out array")
        return np.empty(as_shape(shape), weight_dtype(dtype))
    checked_out(out, half=True)
    if dtype is not None and weight_dtype(dtype) != out.dtype:
        raise TypeError(f"dtype {dtype!r} does not match out.dtype {out.dtype}")
    if shape is not None and as_shape(shape) != out.shape:
        raise ValueError(f"shape {as_shape(shape)} does not match out.shape {out.shape}")
    return out


def checked_out(out, name="out", half=False):
    """``out`` if it is a writeable, C-contiguous float32/float64 ndarray (a plain one: a
    subclass such as np.matrix or a masked array reshapes and indexes by its own rules)."""
    if type(out) is not np.ndarray:
        if isinstance(out, np.ndarray):
            raise TypeError(f"{name} must be a plain numpy.ndarray, got the subclass "
                            f"{type(out).__name__}; pass np.asarray(out)")
        hint = ""
        if hasattr(out, "detach") and hasattr(out, "numpy"):
            hint = " (a torch tensor: pass it as out= to a scheme, or fastinit.kaiming_normal_)"
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(out).__name__}{hint}")
    if out.dtype not in FLOAT_DTYPES and not (half and out.dtype in half_dtypes()):
        also = " (or float16/bfloat16)" if half else ""
        raise TypeError(f"{name} must have dtype float32 or float64{also}, got {out.dtype}")
    if not out.flags.c_contiguous:
        raise ValueError(f"{name} must be C-contiguous")
    if not out.flags.writeable:
        raise ValueError(f"{name} is read-only")
    return out


def real(value, name, *, finite=True, positive=False, nonnegative=False):
    """A Python float from a real number, with the asked-for range checks."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if math.isnan(value) or (finite and math.isinf(value)):
        raise ValueError(f"{name} must be finite, got {value}")
    if positive and not value > 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    if nonnegative and not value >= 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def in_words(error, words):
    """``error`` again, of the same class, with fastinit's argument names replaced by the ones
    the caller's API uses (``words``: {fastinit's name: the peer's}, e.g. Keras's "std" ->
    "stddev"): the one place the torch, Keras and JAX front ends translate errors."""
    if not words:
        return error
    pattern = r"\b(" + "|".join(map(re.escape, words)) + r")\b"
    return type(error)(re.sub(pattern, lambda m: words[m.group(1)], str(error)))


def choice(value, name, valid):
    """``value`` if it is one of ``valid`` (a ValueError listing them if not)."""
    if not isinstance(value, str) or value not in valid:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, valid))}; got {value!r}")
    return value

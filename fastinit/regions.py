"""Region fills: a block of a logical tensor, with exactly the values that block holds in the
whole tensor, without making the whole.

``fastinit.he_normal((4096, 4096), region=(slice(512, 1024),), rng=0)`` is the (512, 4096)
array equal to ``fastinit.he_normal((4096, 4096), rng=0)[512:1024]``: the law comes from the
logical shape (its fans), and element ``i`` of the logical tensor is stream position ``i`` of
the seed's counter-based stream, so any shard can be drawn on its own, on any machine, in any
order, and shards assembled equal the whole. The structured schemes (orthogonal, identity,
dirac, sparse) depend on the whole tensor and have no region fills; neither has compat mode (a
Generator draws in sequence).

>>> whole = fastinit.he_normal((64, 32), rng=0)
>>> top = fastinit.he_normal((64, 32), rng=0, region=(slice(0, 8),))
>>> block = fastinit.he_normal((64, 32), rng=0, region=((8, 64), (0, 32)))
>>> bool((np.concatenate([top, block]) == whole).all())
True
"""
import itertools
import math

from fastinit._validation import as_shape, integer, num_threads as checked_num_threads, output
from fastinit.backends import ENGINE, LAWS
from fastinit.sources import GeneratorSource


def block_bounds(region, shape):
    """``region`` (a slice or (start, stop) pair per leading dimension; the dimensions it does
    not name are whole) as [(start, stop)] for every dimension of ``shape``. Slices follow
    Python's rules (negative indices count from the end, bounds are clipped); pairs must lie
    within the dimension."""
    if not isinstance(region, (tuple, list)):
        region = (region,)
    if len(region) > len(shape):
        raise ValueError(f"region has {len(region)} dimensions, the tensor {shape} has "
                         f"{len(shape)}")
    bounds = []
    for axis, (part, size) in enumerate(zip(region, shape)):
        if isinstance(part, slice):
            if part.step not in (None, 1):
                raise ValueError(f"region's slices must be contiguous (step 1), got {part}")
            start, stop, _ = part.indices(size)
        elif isinstance(part, (tuple, list)) and len(part) == 2:
            start, stop = (integer(v, "region") for v in part)
        else:
            raise TypeError(f"region[{axis}] must be a slice or a (start, stop) pair, got "
                            f"{part!r}")
        if not 0 <= start <= stop <= size:
            raise ValueError(f"region[{axis}] = ({start}, {stop}) is outside 0..{size}")
        bounds.append((start, stop))
    return bounds + [(0, size) for size in shape[len(bounds):]]


def row_groups(bounds, shape):
    """The block's contiguous runs in C order, grouped as [(offsets, run length, row stride)]:
    one run when the block is whole rows of the tensor; otherwise runs an equal stride apart
    form one group (every run of a 2-D block), filled by one kernel call."""
    inner = len(shape)
    while inner > 0 and bounds[inner - 1] == (0, shape[inner - 1]):
        inner -= 1  # dimensions from `inner` on are whole
    if inner == 0:
        return [(range(0, 1), math.prod(shape), 1)]
    strides = [math.prod(shape[axis + 1:]) for axis in range(len(shape))]
    start, stop = bounds[inner - 1]
    length = (stop - start) * strides[inner - 1]
    if inner == 1:
        return [(range(start * strides[0], start * strides[0] + 1), length, 1)]
    # the innermost partial dimension's neighbour (axis inner - 2) steps the runs evenly
    outer = [range(*bounds[axis]) for axis in range(inner - 2)]
    step = strides[inner - 2]
    first, last = bounds[inner - 2]
    groups = []
    for index in itertools.product(*outer):
        base = sum(i * strides[axis] for axis, i in enumerate(index)) + start * strides[inner - 1]
        groups.append((range(base + first * step, base + last * step, step), length, step))
    return groups


def fill_region(scheme, shape=None, *, region, out=None, dtype=None, rng=None, num_threads=None,
                backend=None, **params):
    """The block ``region`` of ``scheme``'s tensor of logical ``shape`` (into ``out``, of the
    block's shape, if given)."""
    if shape is None:
        raise TypeError("a region fill needs the logical tensor's shape: shape=..., with out= "
                        "the block")
    shape = as_shape(shape)
    bounds = block_bounds(region, shape)
    law = scheme(shape, backend=LAWS, **params)  # from the logical shape: its fans
    if law is None:
        raise ValueError(f"{scheme.__name__} depends on the whole tensor: it has no region "
                         "fills (draw the whole and slice it)")
    block = output(tuple(stop - start for start, stop in bounds), out, dtype)
    source = (ENGINE if backend is None else backend).source(rng)
    if isinstance(source, GeneratorSource):
        raise ValueError("region fills need the counter-based stream (rng an int or a "
                         "SeedSequence), not a Generator, which draws in sequence")
    threads = checked_num_threads(num_threads)
    flat, done = block.reshape(-1), 0
    for offsets, length, step in row_groups(bounds, shape):
        count = len(offsets)
        if count:
            rows = flat[done:done + count * length].reshape(count, length)
            source.fill_rows(rows, law, offset=offsets[0], row_stride=step,
                             num_threads=threads)
        done += count * length
    return block

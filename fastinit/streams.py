"""The engine's stream: Philox4x32-10 fills on the Cython/OpenMP kernels, the GIL released, and
child streams' keys mixed in C. Validation, laws and the stream layout are in fastinit.sources;
seeds and child streams in fastinit.seeding."""
import numpy as np

from fastinit._kernels import fill as _fill, openmp as _openmp
from fastinit._validation import integer
from fastinit.seeding import assembled_head, entropy_words, seed_sequence
from fastinit.sources import StreamBase


class Stream(StreamBase):
    """The engine's stream: Cython/OpenMP kernels, GIL released."""

    def _fill(self, flat, law, kind, params, offset, threads):
        if flat.itemsize == 2:
            self._fill_rows(flat.reshape(1, -1), law, kind, params, offset, flat.size, threads)
            return
        _fill.fill(flat, self.key, offset, _fill.KINDS[kind], params,
                   _openmp.effective_num_threads(threads))

    def _fill_rows(self, out, law, kind, params, offset, row_stride, threads):
        threads = _openmp.effective_num_threads(threads)
        if out.itemsize == 2:  # float16 or bfloat16: drawn in float32, rounded in the kernel
            _fill.fill_rows(out.view(np.uint16), self.key, offset, row_stride,
                            _fill.KINDS[kind], params, threads, out.dtype.name == "bfloat16")
            return
        _fill.fill_rows(out, self.key, offset, row_stride, _fill.KINDS[kind], params, threads)

    def _raw(self, n, offset):
        words = np.empty(n, np.uint32)
        _fill.raw_words(words, self.key, offset)
        return words


def child_keys(ss, indices, suffix=()):
    """The Philox keys (n, 2) of ``child(ss, i)`` for every ``i`` in ``indices`` (of each one's
    descendant ``suffix`` when given: ``suffix=(1,)`` is ``child(child(ss, i), 1)``), all mixed
    in one C call (fastinit/_kernels/src/seed_sequence.h) instead of a SeedSequence object per child.
    ``ss``: a SeedSequence or an int standing for one."""
    if type(ss) is int and ss >= 0:
        head = assembled_head(ss, (), 4)
        pool_size = 4
    else:
        ss = seed_sequence(ss, "ss")
        pool_size = ss.pool_size
        try:
            head = assembled_head(ss.entropy, tuple(ss.spawn_key), pool_size)
        except TypeError:  # entropy given as a list: nothing to remember it by
            head = assembled_head.__wrapped__(ss.entropy, tuple(ss.spawn_key), pool_size)
    children = np.asarray(indices, np.uint64).reshape(-1)
    tail = _NO_WORDS if not suffix else np.array(entropy_words(suffix), np.uint32)
    return _fill.child_keys(head, children, tail, pool_size,
                            np.empty((children.size, 2), np.uint32))


def seeds_child_keys(seeds, children):
    """The Philox keys (len(seeds), children, 2) of ``child(SeedSequence(s), j)`` for every
    int seed ``s`` in [0, 2**64) and j < children: a sweep's networks keyed in one C call."""
    seeds = [integer(s, "seeds") for s in seeds]
    if any(not 0 <= s < 2**64 for s in seeds):
        raise ValueError("seeds must be in [0, 2**64)")
    return _fill.seed_child_keys(np.array(seeds, np.uint64),
                                 np.empty((len(seeds), children, 2), np.uint32))


_NO_WORDS = np.empty(0, np.uint32)

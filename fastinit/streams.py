"""The engine's stream: Philox4x32-10 fills on the Cython/OpenMP kernels, the GIL released.
Validation, laws and the stream layout are in fastinit.sources."""
import numpy as np

from fastinit import _fill, _openmp
from fastinit.sources import StreamBase


class Stream(StreamBase):
    """The engine's stream: Cython/OpenMP kernels, GIL released."""

    def _fill(self, flat, law, kind, params, offset, threads):
        _fill.fill(flat, self.key, offset, _fill.KINDS[kind], params,
                   _openmp.effective_num_threads(threads))

    def _fill_rows(self, out, law, kind, params, offset, row_stride, threads):
        _fill.fill_rows(out, self.key, offset, row_stride, _fill.KINDS[kind], params,
                        _openmp.effective_num_threads(threads))

    def _raw(self, n, offset):
        words = np.empty(n, np.uint32)
        _fill.raw_words(words, self.key, offset)
        return words

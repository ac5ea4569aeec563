"""The engine's stream: Philox4x32-10 fills on the Cython/OpenMP kernels, the GIL released.
Validation, laws and the stream layout are in fastinit.sources."""
import numpy as np

from fastinit import _fill, _openmp
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

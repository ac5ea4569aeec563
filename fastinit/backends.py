"""Backends: where a scheme's draws happen, and the checked arguments every scheme takes.

``ENGINE`` fills on the Cython/OpenMP kernels (fastinit.streams), ``REFERENCE`` in NumPy
(fastinit.reference); each stream type is imported when first needed, so the reference never
loads a compiled module. ``LAWS`` draws nothing: a scheme called with it returns the law it
would draw from (or None for the structured schemes), which is how the propagation engine
fuses a layer's draw into its kernel.
"""
from __future__ import annotations

import importlib
from typing import Any

from fastinit import sources
from fastinit.laws import kernel_params
from fastinit._validation import as_shape, num_threads as checked_num_threads, output


class Backend:
    """A stream implementation, named. ``source(rng)`` is what a scheme draws from."""

    def __init__(self, name, module):
        self.name, self._module = name, module

    def __repr__(self):
        return f"<fastinit backend {self.name!r}>"

    @property
    def stream_type(self):
        return importlib.import_module(self._module).Stream

    def source(self, rng):
        if sources.is_compat(rng):  # a Generator needs no stream (nor the kernels)
            return sources.GeneratorSource(rng)
        return sources.source(rng, self.stream_type)


def serial_blas() -> Any:
    """A context in which BLAS runs on one thread (the thread policy's blas_single_threaded,
    pure Python: no compiled module loads). A scheme factorises matrices inside it (orthogonal's
    QR): OpenBLAS's threaded calls round differently for different thread counts, and a
    weight must be the same bytes on every machine and for every ``num_threads``."""
    return importlib.import_module("fastinit._kernels.threads").blas_single_threaded()


ENGINE = Backend("engine", "fastinit.streams")
REFERENCE = Backend("reference", "fastinit.reference._stream")
LAWS = Backend("laws", None)


class Call:
    """The arguments every scheme takes (shape or out, dtype, rng, num_threads, backend),
    checked before anything is drawn or written. ``draw(law)`` fills the output from the
    law (or, under LAWS, returns the law)."""

    out: Any  # the array being filled (None under LAWS)
    shape: tuple[int, ...]

    def __init__(self, shape: Any, out: Any, dtype: Any, rng: Any, num_threads: Any,
                 backend: Any) -> None:
        self.backend = ENGINE if backend is None else backend
        if not isinstance(self.backend, Backend):
            raise TypeError(f"backend must be a fastinit.backends.Backend, got {backend!r}")
        if self.law_only:
            self.shape, self.out = as_shape(shape), None
            return
        self.out = output(shape, out, dtype)
        self.shape = self.out.shape
        self.source = self.backend.source(rng)
        self.num_threads = checked_num_threads(num_threads)

    @property
    def law_only(self):
        return self.backend is LAWS

    def draw(self, law: Any, because: str | None = None) -> Any:
        """Fill the output from ``law``. ``because`` names the user's argument the law's
        parameters come from ("gain=1e+300"): a law the dtype cannot hold is then a ValueError
        that names it first."""
        if self.law_only:
            return law
        if because is not None:
            try:
                kernel_params(law, self.out.dtype)
            except ValueError as error:
                raise ValueError(f"{because} is too large for {self.out.dtype.name}: "
                                 f"{error}") from None
        return self.source.fill(self.out, law, num_threads=self.num_threads)

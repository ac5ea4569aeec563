"""The NumPy reference: fastinit's API in plain NumPy, giving the same numbers for the same int
or SeedSequence (bit-identical for uniform-based and constant schemes, within a few ulps for
normal-based ones). Read fastinit/reference/_stream.py for the exact sampling algorithms."""
from fastinit import initializers as _initializers
from fastinit.fans import calculate_gain, compute_fans
from fastinit.initializers import Initializer
from fastinit.reference._propagation import forward_prop
from fastinit.reference._stream import Stream

globals().update(_initializers.namespace(Stream))

__all__ = [*_initializers.PUBLIC_NAMES, "Initializer", "Stream", "calculate_gain", "compute_fans",
           "forward_prop"]

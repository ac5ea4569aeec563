"""fastinit: neural-network weight initializers on counter-based parallel RNG kernels.

Every scheme fills a float32/float64 buffer in place from Philox4x64-10 on all cores; the same
seed gives the same bytes on any thread count. ``fastinit.reference`` is the same API in plain
NumPy, giving the same numbers: the executable spec.
"""
from fastinit import initializers as _initializers
from fastinit._config import show_config
from fastinit.fans import calculate_gain, compute_fans
from fastinit.initializers import Initializer
from fastinit.laws import Constant, Normal, TruncatedNormal, Uniform
from fastinit.propagation import ACTIVATIONS, Propagation, forward_prop
from fastinit.seeding import child
from fastinit.streams import Stream

__version__ = "0.1.0"

globals().update(_initializers.namespace(Stream))

__all__ = [
    *_initializers.PUBLIC_NAMES, "Initializer", "Stream", "calculate_gain", "compute_fans",
    "child", "show_config", "forward_prop", "Propagation", "ACTIVATIONS", "Constant", "Uniform", "Normal", "TruncatedNormal",
]

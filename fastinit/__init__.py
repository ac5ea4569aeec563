"""fastinit: neural-network weight initializers on counter-based parallel RNG kernels.

Every scheme fills a float64, float32, float16 or bfloat16 buffer in place from Philox4x32-10
on all cores; the same seed gives the same bytes on any thread count. ``fastinit.reference``
is the same API in plain NumPy, giving the same numbers: the executable spec.

The engine's compiled modules are imported when first used (``forward_prop``,
``jacobian_spectrum``, ``train``, ``Stream``, ``show_config``), so that ``fastinit.reference`` works in a
tree without them.
"""
from fastinit._kernels import threads as _thread_policy

_thread_policy.apply()  # before anything loads the kernels (and with them libgomp)

from fastinit._version import __version__  # noqa: E402
from fastinit.activations import NAMES as ACTIVATIONS
from fastinit.fans import calculate_gain, compute_fans
from fastinit.initializers import (
    Initializer, constant, dirac, get_initializer, glorot_normal, glorot_uniform, he_normal,
    he_uniform, identity, kaiming_normal, kaiming_uniform, lecun_normal, lecun_uniform, normal,
    ones, orthogonal, sparse, truncated_normal, uniform, variance_scaling, xavier_normal,
    xavier_uniform, zeros,
)
from fastinit import keras
from fastinit.laws import Constant, Normal, TruncatedNormal, Uniform
from fastinit.results import LayerStats, Propagation
from fastinit.seeding import child
from fastinit.sources import STREAM_VERSION
from fastinit.torch_style import (
    constant_, dirac_, eye_, kaiming_normal_, kaiming_uniform_, normal_, ones_, orthogonal_,
    sparse_, trunc_normal_, uniform_, xavier_normal_, xavier_uniform_, zeros_,
)

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported on first use at run time (__getattr__); type checkers see them
    from fastinit._config import show_config
    from fastinit.isometry import jacobian_spectrum
    from fastinit.propagation import forward_prop
    from fastinit.streams import Stream
    from fastinit.training import train

_ENGINE = {"forward_prop": "fastinit.propagation", "Stream": "fastinit.streams",
           "show_config": "fastinit._config", "jacobian_spectrum": "fastinit.isometry",
           "train": "fastinit.training"}


def __getattr__(name):
    """The engine's names, imported on first use (they load the compiled kernels)."""
    if name in _ENGINE:
        import importlib
        value = getattr(importlib.import_module(_ENGINE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'fastinit' has no attribute {name!r}")


__all__ = [
    "ACTIVATIONS", "STREAM_VERSION", "Constant", "Initializer", "LayerStats", "Normal", "Propagation", "Stream",
    "TruncatedNormal", "Uniform", "__version__", "calculate_gain", "child", "compute_fans",
    "constant", "dirac", "forward_prop", "get_initializer", "glorot_normal", "glorot_uniform",
    "he_normal", "he_uniform", "identity", "jacobian_spectrum", "kaiming_normal",
    "kaiming_uniform", "lecun_normal",
    "lecun_uniform", "normal", "ones", "orthogonal", "show_config", "sparse",
    "truncated_normal", "uniform", "variance_scaling", "xavier_normal", "xavier_uniform",
    "zeros", "keras", "constant_", "dirac_", "eye_", "kaiming_normal_", "kaiming_uniform_",
    "normal_", "ones_", "orthogonal_", "sparse_", "trunc_normal_", "uniform_", "xavier_normal_",
    "xavier_uniform_", "zeros_", "train",
]

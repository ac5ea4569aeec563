"""The NumPy reference: fastinit's API in plain NumPy, giving the same numbers for the same int
or SeedSequence (bit-identical for uniform-based and constant schemes, within a few ulps for
normal-based ones). It imports no compiled module. Read fastinit/reference/_stream.py for the
exact sampling algorithms."""
import functools
import inspect

from fastinit import initializers
from fastinit.backends import REFERENCE
from fastinit.fans import calculate_gain, compute_fans
from fastinit.initializers import Initializer
from fastinit.reference._jacobian import jacobian_spectrum
from fastinit.reference._propagation import forward_prop
from fastinit.reference._stream import Stream
from fastinit.reference._training import train


def _bound(function):
    """``function`` drawing on the reference backend (its signature without ``backend``)."""
    @functools.wraps(function)
    def bound(*args, **kwargs):
        return function(*args, backend=REFERENCE, **kwargs)
    signature = inspect.signature(function)
    bound.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[p for p in signature.parameters.values() if p.name != "backend"])
    del bound.__wrapped__
    return bound


constant = _bound(initializers.constant)
dirac = _bound(initializers.dirac)
get_initializer = _bound(initializers.get_initializer)
glorot_normal = _bound(initializers.glorot_normal)
glorot_uniform = _bound(initializers.glorot_uniform)
he_normal = _bound(initializers.he_normal)
he_uniform = _bound(initializers.he_uniform)
identity = _bound(initializers.identity)
kaiming_normal = _bound(initializers.kaiming_normal)
kaiming_uniform = _bound(initializers.kaiming_uniform)
lecun_normal = _bound(initializers.lecun_normal)
lecun_uniform = _bound(initializers.lecun_uniform)
normal = _bound(initializers.normal)
ones = _bound(initializers.ones)
orthogonal = _bound(initializers.orthogonal)
sparse = _bound(initializers.sparse)
truncated_normal = _bound(initializers.truncated_normal)
uniform = _bound(initializers.uniform)
variance_scaling = _bound(initializers.variance_scaling)
xavier_normal = _bound(initializers.xavier_normal)
xavier_uniform = _bound(initializers.xavier_uniform)
zeros = _bound(initializers.zeros)

__all__ = ['constant', 'dirac', 'get_initializer', 'glorot_normal', 'glorot_uniform', 'he_normal', 'he_uniform', 'identity', 'kaiming_normal', 'kaiming_uniform', 'lecun_normal', 'lecun_uniform', 'normal', 'ones', 'orthogonal', 'sparse', 'truncated_normal', 'uniform', 'variance_scaling', 'xavier_normal', 'xavier_uniform', 'zeros',
           "Initializer", "Stream", "calculate_gain", "compute_fans", "forward_prop", "jacobian_spectrum",
           "train"]

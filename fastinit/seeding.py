"""Seeds, keys and per-layer streams.

How to reproduce any fill by hand
---------------------------------
``rng`` follows SPEC 7: ``None`` (fresh OS entropy), an int ``s`` (``SeedSequence(s)``), a
``SeedSequence``, or a ``numpy.random.Generator`` (compat mode: the Generator's own draws, see
fastinit.streams.GeneratorSource).

An int or SeedSequence ``ss`` selects the Philox4x64-10 key ``ss.generate_state(2, uint64)``,
exactly the key ``numpy.random.Philox(ss)`` uses, so word ``j`` of a fastinit stream is
``numpy.random.Philox(ss).random_raw(j + 1)[j]``.

Anything that needs several independent streams (the layers of a network, the zero positions of
``sparse``) uses child ``i`` of ``ss``: ``child(ss, i)``, which equals ``ss.spawn(n)[i]`` on a
fresh ``ss`` but never changes ``ss`` (``spawn`` counts its calls; this does not). Layer ``l`` of
a network seeded with ``s`` therefore has the weights of ``fastinit.<scheme>(shape,
rng=child(SeedSequence(s), l))``.
"""
import numpy as np

from fastinit._validation import integer

_RNG_TYPES = "None, an int, a numpy.random.SeedSequence or a numpy.random.Generator"


def resolve_rng(rng, name="rng"):
    """``rng`` as a SeedSequence (the fast counter-based path) or a Generator (compat mode)."""
    if rng is None:
        return np.random.SeedSequence()
    if isinstance(rng, (np.random.SeedSequence, np.random.Generator)):
        return rng
    if isinstance(rng, np.random.BitGenerator):
        return np.random.Generator(rng)
    try:
        seed = integer(rng, name)
    except TypeError:
        raise TypeError(f"{name} must be {_RNG_TYPES}; got {type(rng).__name__}") from None
    if seed < 0:
        raise ValueError(f"{name} must be a non-negative int, got {seed}")
    return np.random.SeedSequence(seed)


def seed_sequence(rng, name="rng"):
    """``rng`` as a SeedSequence; a Generator is refused (it has no counter-based stream)."""
    ss = resolve_rng(rng, name)
    if isinstance(ss, np.random.Generator):
        raise TypeError(f"{name} must be None, an int or a numpy.random.SeedSequence here")
    return ss


def philox_key(ss):
    """The Philox4x64 key of a SeedSequence: the one numpy.random.Philox(ss) uses."""
    return ss.generate_state(2, np.uint64)


def child(ss, index):
    """Child ``index`` of ``ss`` (a SeedSequence, or an int standing for one): ``ss.spawn(index + 1)[index]`` on a fresh ``ss``, without
    spawning (so the same ``ss`` always gives the same children)."""
    ss = seed_sequence(ss, "ss")
    index = integer(index, "index")
    if index < 0:
        raise ValueError(f"index must be >= 0, got {index}")
    return np.random.SeedSequence(
        ss.entropy, spawn_key=tuple(ss.spawn_key) + (index,), pool_size=ss.pool_size)

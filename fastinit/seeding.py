"""Seeds, keys and per-layer streams.

How to reproduce any fill by hand
---------------------------------
``rng`` follows SPEC 7: ``None`` (fresh OS entropy), an int ``s`` (``SeedSequence(s)``), a
``SeedSequence``, or a ``numpy.random.Generator`` (compat mode: the Generator's own draws, see
fastinit.sources.GeneratorSource).

An int or SeedSequence ``ss`` selects the Philox4x32-10 key ``ss.generate_state(2, uint32)``
(k0, k1). 32-bit word ``j`` of a fastinit stream is then Random123's
``philox4x32_10(counter=(j // 4 mod 2**32, j // 4 >> 32, 0, 0), key=(k0, k1))[j % 4]``, which
``randomgen.Philox(number=4, width=32, counter=j // 4 - 1, key=k0 + (k1 << 32))`` also gives
(randomgen increments its counter before each block); fastinit.reference._stream has it in
NumPy. How each law turns words into values: fastinit/sources.py.

Anything that needs several independent streams (the layers of a network, the zero positions of
``sparse``) uses child ``i`` of ``ss``: ``child(ss, i)``, which equals ``ss.spawn(n)[i]`` on a
fresh ``ss`` but never changes ``ss`` (``spawn`` counts its calls; this does not). Layer ``l`` of
a network seeded with ``s`` therefore has the weights of ``fastinit.<scheme>(shape,
rng=child(SeedSequence(s), l))``.
"""
from __future__ import annotations

import functools
from typing import cast

import numpy as np
import numpy.typing as npt

from fastinit._validation import integer

_RNG_TYPES = "None, an int, a numpy.random.SeedSequence or a numpy.random.Generator"


def rng_or_seed(rng, seed):
    """The stream a call asked for: ``seed=`` (Keras's and JAX's word) is another name for
    ``rng=``; giving both is a TypeError."""
    if seed is None:
        return rng
    if rng is not None:
        raise TypeError("give rng= or seed= (the same argument under Keras's and JAX's name), "
                        "not both")
    return seed


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


def philox_key(ss: np.random.SeedSequence) -> npt.NDArray[np.uint32]:
    """The Philox4x32 key (k0, k1) of a SeedSequence (a fresh array each call)."""
    try:
        identity = (ss.entropy, tuple(ss.spawn_key), ss.pool_size)
        hash(identity)
    except TypeError:  # entropy given as a list: nothing to remember it by
        return cast("npt.NDArray[np.uint32]", ss.generate_state(2, np.uint32))
    return cast("npt.NDArray[np.uint32]", _remembered_key(identity).copy())


@functools.lru_cache(maxsize=4096)
def _remembered_key(identity):
    # a network asks for the key of the same (seed, layer) every call: mixing the entropy
    # pool costs microseconds, this lookup nanoseconds
    entropy, spawn_key, pool_size = identity
    return np.random.SeedSequence(entropy, spawn_key=spawn_key,
                                  pool_size=pool_size).generate_state(2, np.uint32)


def child(ss: int | np.random.SeedSequence, index: int) -> np.random.SeedSequence:
    """Child ``index`` of ``ss``: ``ss.spawn(index + 1)[index]`` on a fresh ``ss``, without
    spawning (so the same ``ss`` always gives the same children).

    Parameters
    ----------
    ss : int or numpy.random.SeedSequence
        The parent (an int stands for ``SeedSequence(ss)``).
    index : int
        Which child, from 0.

    Returns
    -------
    numpy.random.SeedSequence
        The child, keyed by ``ss``'s spawn key and ``index``.
    """
    ss = seed_sequence(ss, "ss")
    index = integer(index, "index")
    if index < 0:
        raise ValueError(f"index must be >= 0, got {index}")
    return np.random.SeedSequence(
        ss.entropy, spawn_key=tuple(ss.spawn_key) + (index,), pool_size=ss.pool_size)


def entropy_words(value):
    """The 32-bit words NumPy's SeedSequence makes of an entropy or spawn-key value: an int is
    its little-endian 32-bit words (0 is one word 0), a uint32 array itself, a sequence the
    concatenation of its items' words."""
    if isinstance(value, np.ndarray) and value.dtype == np.uint32:
        return [int(w) for w in value.ravel()]
    if isinstance(value, (int, np.integer)):
        value = int(value)
        if value < 0:
            raise ValueError("expected a non-negative integer")
        words = [value & 0xFFFFFFFF]
        value >>= 32
        while value:
            words.append(value & 0xFFFFFFFF)
            value >>= 32
        return words
    return [w for item in value for w in entropy_words(item)]


@functools.lru_cache(maxsize=4096)
def assembled_head(entropy, spawn_key, pool_size):
    """The words NumPy mixes for a child of SeedSequence(entropy, spawn_key, pool_size), up to
    the child's own index: the run entropy's words padded with zeros to the pool size, then
    the spawn key's (read-only: cached)."""
    run = entropy_words(entropy)
    head = np.array(run + [0] * (pool_size - len(run)) + entropy_words(spawn_key), np.uint32)
    head.flags.writeable = False
    return head


# Marks a child keyed by a name, apart from the children keyed by an index.
NAME_TAG = 0x6E616D65  # "name"


def named_child(ss, name):
    """The child of ``ss`` keyed by the text ``name`` (a parameter's qualified name, say): the
    SeedSequence whose spawn key is ``ss``'s, then NAME_TAG, then the name's UTF-8 bytes. It
    depends on nothing else, so adding or removing other names leaves it unchanged. A name
    (never empty) adds two or more words to the key, an index below 2**32 one word, so a name
    never meets an index of that range (``named_child(ss, "3")`` is not ``child(ss, 3)``);
    larger indices are NumPy's multi-word spawn keys."""
    ss = seed_sequence(ss, "ss")
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    if not name:
        # its key would be NAME_TAG alone: child(ss, NAME_TAG)'s
        raise ValueError("name must not be empty")
    return np.random.SeedSequence(ss.entropy, spawn_key=tuple(ss.spawn_key) + (
        NAME_TAG, *name.encode("utf-8")), pool_size=ss.pool_size)

"""Keys of child streams mixed in C (fastinit/_kernels/src/seed_sequence.h) against NumPy's own
SeedSequence: the oracle is ``np.random.SeedSequence(...).spawn(...)`` and ``generate_state``."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastinit.seeding import NAME_TAG, child, entropy_words, named_child, philox_key
from fastinit.streams import child_keys, seeds_child_keys

ODD_ENTROPY = [0, 1, 2**32 - 1, 2**32, 2**64 + 5, 2**127 + 2**64 + 3, 10**40, [], [0],
               [1, 2, 3], [2**40, 7], list(range(9)), np.arange(6, dtype=np.uint32)]


def test_ten_thousand_children_equal_numpys_spawn():
    ss = np.random.SeedSequence(20261202)
    expected = np.array([c.generate_state(2, np.uint32) for c in ss.spawn(10_000)])
    np.testing.assert_array_equal(child_keys(np.random.SeedSequence(20261202), range(10_000)),
                                  expected)


@pytest.mark.parametrize("entropy", ODD_ENTROPY, ids=repr)
def test_odd_entropy_equals_numpy(entropy):
    for pool_size in (4, 5, 8):
        ss = np.random.SeedSequence(entropy, pool_size=pool_size)
        expected = [s.generate_state(2, np.uint32)
                    for s in np.random.SeedSequence(entropy, pool_size=pool_size).spawn(40)]
        np.testing.assert_array_equal(child_keys(ss, range(40)), expected)


def test_descendants_spawn_keys_and_big_indices_equal_numpy():
    ss = np.random.SeedSequence(2**70 + 9, spawn_key=(3, 2**33))
    indices = [0, 1, 2**32 - 1, 2**32, 2**40 + 17, 2**63]
    for suffix in ((), (1,), (1, 0), (2**35,)):
        expected = [np.random.SeedSequence(ss.entropy, spawn_key=(3, 2**33, i) + suffix)
                    .generate_state(2, np.uint32) for i in indices]
        np.testing.assert_array_equal(child_keys(ss, indices, suffix), expected)


def test_child_keys_equal_the_per_child_path():
    ss = np.random.SeedSequence(7)
    keys = child_keys(ss, range(12), suffix=(1,))
    for i in range(12):
        np.testing.assert_array_equal(keys[i], philox_key(child(child(ss, i), 1)))


def test_a_name_keyed_child_is_a_suffix():
    ss = np.random.SeedSequence(11)
    name = named_child(ss, "layer.0.weight")
    head = np.random.SeedSequence(11, spawn_key=name.spawn_key[:1])
    np.testing.assert_array_equal(child_keys(head, [name.spawn_key[1]], name.spawn_key[2:])[0],
                                  philox_key(name))


@settings(max_examples=200, deadline=None)
@given(entropy=st.one_of(st.integers(0, 2**200), st.lists(st.integers(0, 2**70), max_size=12)),
       spawn=st.lists(st.integers(0, 2**64 - 1), max_size=4),
       index=st.integers(0, 2**64 - 1), pool_size=st.integers(4, 12))
def test_any_entropy_equals_numpy(entropy, spawn, index, pool_size):
    ss = np.random.SeedSequence(entropy, spawn_key=tuple(spawn), pool_size=pool_size)
    expected = np.random.SeedSequence(entropy, spawn_key=tuple(spawn) + (index,),
                                      pool_size=pool_size).generate_state(2, np.uint32)
    np.testing.assert_array_equal(child_keys(ss, [index])[0], expected)


@pytest.mark.parametrize("value, words", [(0, [0]), (5, [5]), (2**32, [0, 1]),
                                          (2**64 + 3, [3, 0, 1]), ([1, 2**32], [1, 0, 1]),
                                          ([], [])])
def test_entropy_words_are_little_endian_32_bit_words(value, words):
    assert entropy_words(value) == words


def test_negative_entropy_is_refused():
    with pytest.raises(ValueError, match="non-negative"):
        entropy_words(-1)


def test_many_seeds_children_equal_numpy():
    seeds = [0, 1, 7, 2**32 - 1, 2**32, 2**40 + 3, 2**64 - 1] + list(range(100, 1600))
    keys = seeds_child_keys(seeds, 8)
    for i, seed in enumerate(seeds):
        expected = [c.generate_state(2, np.uint32) for c in np.random.SeedSequence(seed).spawn(8)]
        np.testing.assert_array_equal(keys[i], expected)


def test_seeds_out_of_range_are_refused():
    with pytest.raises(ValueError, match="seeds"):
        seeds_child_keys([2**64], 2)
    with pytest.raises(ValueError, match="seeds"):
        seeds_child_keys([-1], 2)


# -- issue 34: name-keyed and index-keyed children never share a stream -----------------------

def test_a_name_never_gives_an_index_childs_stream():
    ss = np.random.SeedSequence(2024, spawn_key=(5,))
    names = ["3", "0", "51", "00", "layer.3", "3.weight", "é", "\x00", "name"]
    by_index = {tuple(child(ss, i).generate_state(4)) for i in range(1024)}
    by_index.add(tuple(child(ss, NAME_TAG).generate_state(4)))
    by_name = {tuple(named_child(ss, n).generate_state(4)) for n in names}
    assert len(by_name) == len(names)
    assert not by_name & by_index
    # a name key is two words or more, an index below 2**32 one word
    assert all(len(named_child(ss, n).spawn_key) >= len(ss.spawn_key) + 2 for n in names)
    with pytest.raises(ValueError, match="name must not be empty"):
        named_child(ss, "")

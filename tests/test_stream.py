"""The RNG contract: NumPy's Philox words, pure functions of position, thread- and
split-invariance, independent children, and engine == reference on every law."""
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastinit
from fastinit import _ziggurat
from fastinit.laws import Normal, TruncatedNormal, Uniform
from fastinit.reference import Stream as ReferenceStream
from fastinit.reference._stream import philox4x64_10
from fastinit.seeding import child, philox_key

LAWS = [Uniform(-0.5, 2.0), Normal(0.1, 1.5), TruncatedNormal(0.0, 1.0, -2.0, 2.0),
        TruncatedNormal(0.3, 2.0, 1.0, 8.0), TruncatedNormal(0.0, 1.0, 2.0, 3.0),
        TruncatedNormal(0.0, 1.0, -40.0, -39.0)]
DTYPES = [np.float64, np.float32]


def fill(stream, n, law, dtype, offset=0, num_threads=None):
    return stream.fill(np.empty(n, dtype), law, offset=offset, num_threads=num_threads)


def test_key_is_numpy_philox_key():
    ss = np.random.SeedSequence(2024)
    assert np.array_equal(fastinit.Stream(ss).key, np.random.Philox(ss).state["state"]["key"])


@pytest.mark.parametrize("offset", [0, 1, 3, 4, 1001])
def test_raw_words_are_numpy_philox_words(offset):
    ss = np.random.SeedSequence(11)
    words = fastinit.Stream(ss).raw(1000, offset=offset)
    assert np.array_equal(words, np.random.Philox(ss).random_raw(offset + 1000)[offset:])


def test_reference_scalar_philox_matches_numpy():
    key = philox_key(np.random.SeedSequence(5))
    bitgen = np.random.Philox(key=key, counter=[7, 3, 1, 0])
    assert list(bitgen.random_raw(4)) == list(philox4x64_10((8, 3, 1, 0), key))


def test_ziggurat_layers_have_equal_area():
    from scipy.special import erfc
    x, f = _ziggurat._edges()
    areas = x[1:] * (f[:-1] - f[1:])
    np.testing.assert_allclose(areas[1:], _ziggurat.V, rtol=1e-9)  # layers 2..255
    base = _ziggurat.R * f[-1] + np.sqrt(np.pi / 2) * erfc(_ziggurat.R / np.sqrt(2))
    assert base == pytest.approx(_ziggurat.V, rel=1e-9)
    assert x[1] * (1 - f[1]) == pytest.approx(_ziggurat.V, rel=1e-8)  # the top layer closes


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("law", LAWS, ids=repr)
def test_same_bytes_on_1_2_3_threads(law, dtype):
    stream = fastinit.Stream(42)
    runs = [fill(stream, 300_001, law, dtype, num_threads=t) for t in (1, 2, 3)]
    assert np.array_equal(runs[0], runs[1]) and np.array_equal(runs[0], runs[2])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("law", LAWS, ids=repr)
def test_value_depends_on_position_only(law, dtype):
    stream = fastinit.Stream(7)
    whole = fill(stream, 50_000, law, dtype)
    assert np.array_equal(fill(stream, 12_345, law, dtype), whole[:12_345])  # prefix
    cuts = [0, 1, 4097, 4098, 20_001, 50_000]  # odd cuts split float32 words
    pieces = [fill(stream, b - a, law, dtype, offset=a) for a, b in zip(cuts, cuts[1:])]
    assert np.array_equal(np.concatenate(pieces), whole)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 9000), offset=st.integers(0, 10**6), cut=st.floats(0, 1),
       float32=st.booleans(), normal=st.booleans())
def test_any_split_gives_the_same_fill(n, offset, cut, float32, normal):
    dtype = np.float32 if float32 else np.float64
    law = Normal(0.0, 1.0) if normal else Uniform(0.0, 1.0)
    stream = fastinit.Stream(3)
    whole = fill(stream, n, law, dtype, offset=offset)
    k = int(cut * n)
    parts = [fill(stream, k, law, dtype, offset=offset),
             fill(stream, n - k, law, dtype, offset=offset + k)]
    assert np.array_equal(np.concatenate(parts), whole)


def test_multidimensional_out_is_filled_in_c_order():
    stream = fastinit.Stream(9)
    grid = stream.normal(np.empty((3, 5, 7)))
    assert np.array_equal(grid.ravel(), stream.normal(np.empty(105)))


def test_omp_num_threads_is_honoured(tmp_path):
    code = ("from fastinit import _openmp; import fastinit; "
            "print(_openmp.effective_num_threads(None), _openmp.effective_num_threads(5))")
    for threads in ("1", "3"):
        env = dict(os.environ, OMP_NUM_THREADS=threads)
        # run outside the checkout, so the installed (compiled) package is the one imported
        result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                                text=True, check=True, cwd=tmp_path)
        assert result.stdout.split() == [threads, "5"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("law", LAWS, ids=repr)
@pytest.mark.parametrize("offset", [0, 5])
def test_engine_equals_reference(law, dtype, offset):
    # 120k draws reach every slow path: ~900 ziggurat wedges/tails, ~5k truncation redraws
    engine = fill(fastinit.Stream(123), 120_000, law, dtype, offset=offset)
    reference = fill(ReferenceStream(123), 120_000, law, dtype, offset=offset)
    if isinstance(law, Uniform):
        assert np.array_equal(engine, reference)
    else:
        np.testing.assert_allclose(engine, reference, rtol=1e-12 if dtype == np.float64 else 0,
                                   atol=0)


def test_slow_paths_are_exercised_by_the_equality_test():
    words = fastinit.Stream(123).raw(120_000)
    idx, rabs = words & 0xFF, (words >> 9) & _ziggurat.MASK52
    slow = rabs >= _ziggurat.K64[idx]
    assert slow.sum() > 500 and (slow & (idx == 0)).sum() > 20  # wedges and tails


def test_children_are_independent_streams():
    root = np.random.SeedSequence(99)
    a = fastinit.Stream(child(root, 0)).normal(np.empty(200_000))
    b = fastinit.Stream(child(root, 1)).normal(np.empty(200_000))
    assert not np.array_equal(a[:100], b[:100])
    # correlation of independent N(0,1) samples has standard error 1/sqrt(n)
    assert abs(np.corrcoef(a, b)[0, 1]) < 4 / np.sqrt(a.size)
    # child(ss, i) is ss.spawn(n)[i] on a fresh ss, and leaves ss untouched
    assert np.array_equal(philox_key(child(root, 1)),
                          philox_key(np.random.SeedSequence(99).spawn(2)[1]))
    assert root.n_children_spawned == 0
    assert np.array_equal(fastinit.Stream(root).spawn(1).key, philox_key(child(root, 1)))


def test_float32_and_float64_uniforms_share_bits():
    # float32 element 2k is the low half of word k: its top 24 bits of the low half
    words = fastinit.Stream(1).raw(10)
    u32 = fastinit.Stream(1).uniform(np.empty(20, np.float32))
    expected = ((words & 0xFFFFFFFF) >> 8).astype(np.float64) * 2.0**-24
    assert np.array_equal(u32[0::2], expected.astype(np.float32))

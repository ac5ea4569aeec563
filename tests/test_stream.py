"""The RNG contract: Philox4x32-10 (Random123's known answers, randomgen's words) on every
kernel path, pure functions of position, thread- and split-invariance, independent children,
and engine == reference on every law."""
import os
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastinit
from fastinit._kernels import fill as _fill
from fastinit import _ziggurat
from fastinit.laws import Normal, TruncatedNormal, Uniform
from fastinit.reference import Stream as ReferenceStream
from fastinit.reference._stream import ExtraWords, philox4x32_10
from fastinit.seeding import child, philox_key

LAWS = [Uniform(-0.5, 2.0), Normal(0.1, 1.5), TruncatedNormal(0.0, 1.0, -2.0, 2.0),
        TruncatedNormal(0.3, 2.0, 1.0, 8.0), TruncatedNormal(0.0, 1.0, 2.0, 3.0),
        TruncatedNormal(0.0, 1.0, -40.0, -39.0)]
DTYPES = [np.float64, np.float32]
PATHS = {2: "avx512", 1: "avx2", 0: "portable"}

# Random123's known-answer vectors for philox4x32_10 (kat_vectors): counter, key, output
KNOWN_ANSWERS = [
    ((0, 0, 0, 0), (0, 0), (0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8)),
    ((0xffffffff,) * 4, (0xffffffff, 0xffffffff), (0x408f276d, 0x41c83b0e, 0xa20bc7c6,
                                                   0x6d5451fd)),
    ((0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344), (0xa4093822, 0x299f31d0),
     (0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1)),
]


@pytest.fixture(params=sorted(PATHS), ids=lambda level: PATHS[level])
def path(request):
    """Run the test on one kernel path (skipped where the CPU lacks it)."""
    previous = _fill.simd_level(request.param)
    try:
        if _fill.philox_path() != PATHS[request.param]:
            pytest.skip(f"this CPU has no {PATHS[request.param]} path")
        yield PATHS[request.param]
    finally:
        _fill.simd_level(previous)


def fill(stream, n, law, dtype, offset=0, num_threads=None):
    return stream.fill(np.empty(n, dtype), law, offset=offset, num_threads=num_threads)


@pytest.mark.parametrize("counter, key, expected", KNOWN_ANSWERS)
def test_reference_philox_gives_random123s_known_answers(counter, key, expected):
    assert [int(w) for w in philox4x32_10(*counter, key)] == list(expected)


def test_kernels_give_the_known_answer_at_block_zero(path):
    words = np.empty(4 * 64, np.uint32)  # long enough for the vector paths
    _fill.raw_words(words, np.zeros(2, np.uint32), 0)
    assert tuple(int(w) for w in words[:4]) == KNOWN_ANSWERS[0][2]


def test_extra_words_are_the_reference_blocks():
    key = np.array([0xa4093822, 0x299f31d0], np.uint32)
    element, region = 0x85a308d3243f6a88, 0x03707344
    words = _fill.extra_words(key, element, region, 2)
    # block 0x13198a2e of the region is the pi-digits vector; block 0 here is checked
    # against the reference, and the reference against Random123 above
    reference = ExtraWords(key, element, region)
    assert [int(w) for w in words] == [reference.word(), reference.word()]


@pytest.mark.parametrize("offset", [0, 1, 3, 4, 1001, 2**32 * 4 - 6])
def test_raw_words_are_randomgens(path, offset):
    randomgen = pytest.importorskip("randomgen")
    ss = np.random.SeedSequence(11)
    k0, k1 = (int(k) for k in philox_key(ss))
    words = fastinit.Stream(ss).raw(5000, offset=offset)
    block, skip = divmod(offset, 4)
    # randomgen increments its counter before each block: start one below
    bitgen = randomgen.Philox(number=4, width=32, counter=(block - 1) % 2**128,
                              key=k0 | (k1 << 32))
    expected = np.array(bitgen.random_raw(skip + 5000), np.uint32)[skip:]
    assert np.array_equal(words, expected)


def test_key_is_the_seed_sequences_two_words():
    ss = np.random.SeedSequence(2024)
    assert np.array_equal(fastinit.Stream(ss).key, ss.generate_state(2, np.uint32))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("law", LAWS[:3], ids=repr)
def test_every_path_gives_the_same_bytes(path, law, dtype):
    got = fill(fastinit.Stream(8), 70_001, law, dtype, offset=3)
    _fill.simd_level(0)
    portable = fill(fastinit.Stream(8), 70_001, law, dtype, offset=3)
    assert np.array_equal(got.view(np.uint8), portable.view(np.uint8))


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
def test_same_bytes_on_1_2_3_threads(path, law, dtype):
    stream = fastinit.Stream(42)
    runs = [fill(stream, 300_001, law, dtype, num_threads=t) for t in (1, 2, 3)]
    assert np.array_equal(runs[0], runs[1]) and np.array_equal(runs[0], runs[2])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("law", LAWS, ids=repr)
def test_value_depends_on_position_only(path, law, dtype):
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
    code = ("from fastinit._kernels import openmp as _openmp; import fastinit; "
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
    assert np.array_equal(engine.view(np.uint8), reference.view(np.uint8))  # bit for bit


def test_slow_paths_are_exercised_by_the_equality_test():
    halves = fastinit.Stream(123).raw(240_000).astype(np.uint64)
    words = halves[0::2] | (halves[1::2] << np.uint64(32))  # float64 elements' words
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
    # float32 element p is the top 24 bits of word p; float64 element k uses words 2k, 2k + 1
    words = fastinit.Stream(1).raw(20)
    u32 = fastinit.Stream(1).uniform(np.empty(20, np.float32))
    assert np.array_equal(u32, ((words >> 8).astype(np.float64) * 2.0**-24).astype(np.float32))
    u64 = fastinit.Stream(1).uniform(np.empty(10))
    word64 = words[0::2].astype(np.uint64) | (words[1::2].astype(np.uint64) << np.uint64(32))
    assert np.array_equal(u64, (word64 >> np.uint64(11)).astype(np.float64) * 2.0**-53)


def float32_nearest(q):
    """The float32 nearest the rational q, ties to even: the oracle of one rounding."""
    f = np.float32(float(q))
    candidates = [f, np.nextafter(f, np.float32(np.inf)), np.nextafter(f, np.float32(-np.inf))]
    return min(candidates, key=lambda c: (abs(Fraction(float(c)) - q),
                                          int(np.array(c).view(np.uint32)) & 1))


# float32 U[low, high): symmetric fan bounds, a short binary fraction, one side far larger
# than the width, a low far smaller than the width, and subnormal results
FLOAT32_UNIFORMS = [(-np.sqrt(6 / 784), np.sqrt(6 / 784)), (-0.5, 2.0), (1.0, 1.0 + 1e-3),
                    (-1e-3, 3.0), (-1e-30, 7.1), (1e-39, 3e-38), (-40000.0, -39999.99)]


@pytest.mark.parametrize("low, high", FLOAT32_UNIFORMS)
def test_float32_uniforms_are_one_rounding_of_the_float32_parameters(path, low, high):
    # stream version 3: fma(width, u, low) with low and width = high - low rounded to float32,
    # checked in exact rational arithmetic, then clamped to the float32 values in [low, high)
    n = 3000
    words = fastinit.Stream(5).raw(n)
    got = fastinit.Stream(5).uniform(np.empty(n, np.float32), low, high)
    first, last = Uniform(low, high).params(np.float32)[2:]
    low32, width32 = Fraction(float(np.float32(low))), Fraction(float(np.float32(high - low)))
    expected = [min(max(float32_nearest(width32 * Fraction(int(w) >> 8, 2**24) + low32),
                        np.float32(first)), np.float32(last)) for w in words]
    assert np.array_equal(got.view(np.uint32), np.array(expected, np.float32).view(np.uint32))
    reference = ReferenceStream(5).uniform(np.empty(n, np.float32), low, high)
    assert np.array_equal(reference.view(np.uint32), got.view(np.uint32))


def test_float32_uniforms_round_once_where_float64_would_tie(path):
    # Elements whose exact value width * u + 1 lies a hair above a float32 midpoint, so close
    # that its nearest float64 is the midpoint itself: rounding through float64 would go to
    # the even neighbour (below); one rounding goes above.
    words = fastinit.Stream(8).raw(20000)
    found = 0
    for position, word in enumerate(words):
        x = int(word) >> 8
        if not 2**22 <= x < 2**23:
            continue
        j = 23 + x.bit_length()  # width = m * 2**-j with m < 2**24, m * x just above 2**j
        m = -(-2**j // x)
        r = m * x - 2**j
        if not (0 < r < 2**(j - 30) and m < 2**24):
            continue
        width = m * 2.0**-j  # > 2**-23: 1 + 2**-23 lies in [1, 1 + width)
        exact = 1 + Fraction(m * x, 2**(j + 24))
        assert Fraction(float(exact)) == 1 + Fraction(1, 2**24)  # float64 ties
        for fill in (fastinit.Stream(8), ReferenceStream(8)):
            got = fill.uniform(np.empty(1, np.float32), 1.0, 1.0 + width, offset=position)
            assert got[0] == np.float32(1 + 2.0**-23), (type(fill), position)
        found += 1
    assert found >= 3


def test_float32_uniforms_wider_than_float32_keep_the_float64_formula(path):
    # high - low = 6e38 overflows float32: the width is not rounded, the values are
    # low + width * u in float64 rounded once to float32 (and clamped)
    words = fastinit.Stream(2).raw(1000)
    got = fastinit.Stream(2).uniform(np.empty(1000, np.float32), -3e38, 3e38)
    u = (words >> 8).astype(np.float64) * 2.0**-24
    first, last = Uniform(-3e38, 3e38).params(np.float32)[2:]
    expected = np.clip((-3e38 + 6e38 * u).astype(np.float32), first, last)
    assert np.isfinite(got).all()
    assert np.array_equal(got, expected)
    assert np.array_equal(ReferenceStream(2).uniform(np.empty(1000, np.float32), -3e38, 3e38),
                          got)


def portable(fill):
    """``fill()`` on the portable C path."""
    previous = _fill.simd_level(0)
    try:
        return fill()
    finally:
        _fill.simd_level(previous)


# stream positions around the low counter word's wrap (block 2**32) and off block boundaries
WRAP = 4 * 2**32


@pytest.mark.parametrize("offset", [0, 1, 2, 3, 5, WRAP - 300, WRAP - 130, WRAP + 7])
@pytest.mark.parametrize("n", [1, 127, 128, 129, 1000, 4096 + 17, 20000])
def test_float32_uniforms_made_in_registers_equal_the_portable_path(offset, n):
    # the AVX-512 path makes float32 uniforms from Philox registers between the first block
    # boundary and the last whole step, the rest from stored words: every start, length and
    # byte alignment of out gives the portable path's bits
    expected = portable(lambda: fastinit.Stream(3).uniform(np.empty(n, np.float32), -0.3, 0.7,
                                                           offset=offset))
    backing = np.empty(n + 16, np.float32)
    for shift in (0, 1, 5):
        out = backing[shift:shift + n]
        got = fastinit.Stream(3).uniform(out, -0.3, 0.7, offset=offset)
        assert np.array_equal(got.view(np.uint32), expected.view(np.uint32)), shift


def test_large_float32_uniforms_with_streaming_stores_equal_the_portable_path():
    # 32 MiB and more: streaming stores from the first element on both a block boundary and a
    # 64-byte boundary of out (here out starts 3 elements into an allocation, the stream at 1)
    n = 8_400_001
    backing = np.empty(n + 3, np.float32)
    out = fastinit.Stream(4).uniform(backing[3:], -2.0, 5.0, offset=1)
    assert out.nbytes >= 32 * 2**20
    expected = portable(lambda: fastinit.Stream(4).uniform(np.empty(n, np.float32), -2.0, 5.0,
                                                           offset=1))
    assert np.array_equal(out.view(np.uint32), expected.view(np.uint32))


@pytest.mark.parametrize("dtype", DTYPES)
def test_large_fills_with_streaming_stores_give_the_same_bytes(dtype):
    # fills of 32 MiB and more write with streaming stores from the first 64-byte boundary on:
    # out starts one element past an allocation, so the head before it is written one by one
    n = 9_000_001
    backing = np.empty(n + 1, dtype)
    out = backing[1:]
    fastinit.Stream(5).uniform(out, -1.0, 3.0)
    assert out.nbytes >= 32 * 2**20
    pieces = [fastinit.Stream(5).uniform(np.empty(min(10**6, n - a), dtype), -1.0, 3.0,
                                         offset=a) for a in range(0, n, 10**6)]
    assert np.array_equal(out, np.concatenate(pieces))

"""float16 and bfloat16 fills: each value drawn in float32 and rounded to nearest even in the
kernel (fastinit/_kernels/src/half.h). The rounding is checked against NumPy's float16 cast and torch's
bfloat16 cast on every path; fills against the float32 fill rounded the same way, and against
the reference, which rounds with NumPy (ml_dtypes for bfloat16)."""
import numpy as np
import pytest

import fastinit
import fastinit.reference as reference
from fastinit._kernels import fill as _fill

ml_dtypes = pytest.importorskip("ml_dtypes")
BF16 = np.dtype(ml_dtypes.bfloat16)


def awkward_floats():
    """float32 bit patterns where rounding is hard: every exponent and top mantissa bits with
    low bits at, just below and just above the halfway points of both 16-bit formats, the
    float16 subnormal range's own halfway points, and random patterns."""
    top = np.arange(2**19, dtype=np.uint32) << 13  # sign, exponent, 10 mantissa bits
    lows = np.array([0, 1, 0xFFF, 0x1000, 0x1001, 0x1FFF, 0x7FFF & 0x1FFF], np.uint32)
    patterns = [(top[:, None] | lows[None, :]).ravel()]
    top16 = np.arange(2**16, dtype=np.uint32) << 16  # bfloat16's 16 kept bits
    patterns.append((top16[:, None] | np.array([0, 1, 0x7FFF, 0x8000, 0x8001, 0xFFFF],
                                               np.uint32)[None, :]).ravel())
    for shift in range(14, 25):  # the subnormal halves: shift bits dropped, halfway at 2^(s-1)
        exponent = (126 - shift) << 23
        kept = np.arange(0, 2**23, 2**shift, dtype=np.int64)  # every kept-bit pattern
        for delta in (-1, 0, 1):
            mantissa = (kept + 2**(shift - 1) + delta) & 0x7FFFFF
            patterns.append((exponent | mantissa).astype(np.uint32))
    rng = np.random.default_rng(0)
    patterns.append(rng.integers(0, 2**32, 2_000_000, dtype=np.uint64).astype(np.uint32))
    bits = np.concatenate(patterns)
    values = bits.view(np.float32)
    return values[~np.isnan(values)]  # NaN payloads are not part of the contract


@pytest.fixture(scope="module")
def values():
    return awkward_floats()


def kernel_rounding(values, level, bfloat16):
    """The kernels' 16-bit words for ``values`` on vector path ``level``."""
    previous = _fill.simd_level(level)
    try:
        out = np.empty(values.size, np.uint16)
        _fill.round_to_half(values, out, bfloat16)
    finally:
        _fill.simd_level(previous)
    return out


@pytest.mark.parametrize("level", [2, 0], ids=["avx512", "portable"])
def test_float16_rounding_is_numpys(values, level):
    out = kernel_rounding(values, level, False)
    with np.errstate(over="ignore"):  # beyond 65504: infinity, as the kernel's
        expected = values.astype(np.float16).view(np.uint16)
    mismatch = np.flatnonzero(out != expected)
    assert mismatch.size == 0, (values[mismatch[:5]].view(np.uint32), out[mismatch[:5]],
                                expected[mismatch[:5]])


@pytest.mark.parametrize("level", [2, 0], ids=["avx512", "portable"])
def test_bfloat16_rounding_is_torchs_and_ml_dtypes(values, level):
    out = kernel_rounding(values, level, True)
    np.testing.assert_array_equal(out, values.astype(BF16).view(np.uint16))
    torch = pytest.importorskip("torch")
    theirs = torch.from_numpy(values).to(torch.bfloat16).view(torch.int16).numpy()
    np.testing.assert_array_equal(out, theirs.view(np.uint16))


def kept_inside(rounded, law):
    """A uniform law's [low, high) as the 16-bit type holds it: a value that rounding put onto
    high (or below low) is the nearest 16-bit value inside instead."""
    if not hasattr(law, "high"):
        return rounded
    low, high = law.low, law.high
    inside = np.array([low, high], np.float64).astype(rounded.dtype)
    if float(inside[0]) < low:
        inside[0] = np.nextafter(inside[0], np.array(np.inf, rounded.dtype))
    while float(inside[1]) >= high:
        inside[1] = np.nextafter(inside[1], np.array(-np.inf, rounded.dtype))
    wide = rounded.astype(np.float64)
    return np.where(wide >= high, inside[1], np.where(wide < low, inside[0], rounded))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("name, params", [
    ("normal", {"std": 3.0}), ("he_normal", {}), ("truncated_normal", {"a": -1.0, "b": 0.5}),
    ("uniform", {"low": -2.0, "high": 1.0}), ("xavier_uniform", {}), ("constant",
                                                                     {"value": 0.1}),
])
def test_half_fills_are_the_float32_fill_rounded(name, params, dtype):
    shape = (257, 131)  # several work items, and a ragged last one
    half = getattr(fastinit, name)(shape, rng=4, dtype=dtype, **params)
    assert half.dtype == np.dtype(dtype) if dtype == "float16" else half.dtype == BF16
    single = getattr(fastinit, name)(shape, rng=4, dtype="float32", **params)
    rounded = single.astype(half.dtype)
    law = fastinit.get_initializer(name, **params).law(shape)
    np.testing.assert_array_equal(half, kept_inside(rounded, law))
    np.testing.assert_array_equal(half, getattr(reference, name)(shape, rng=4, dtype=dtype,
                                                                 **params))
    for threads in (1, 3):  # the same bits on any thread count and in any shard
        np.testing.assert_array_equal(half, getattr(fastinit, name)(
            shape, rng=4, dtype=dtype, num_threads=threads, **params))
    np.testing.assert_array_equal(half[100:200, 7:90], getattr(fastinit, name)(
        shape, rng=4, dtype=dtype, region=((100, 200), (7, 90)), **params))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_large_half_fills_with_streaming_stores_are_the_float32_fill_rounded(dtype):
    # 32 MiB and more of 16-bit words are written with streaming stores from the first
    # 64-byte boundary on: out starts one element into its allocation
    shape = (4097, 4099)
    backing = np.empty(shape[0] * shape[1] + 1, np.float16 if dtype == "float16" else BF16)
    out = backing[1:].reshape(shape)
    assert out.nbytes >= 32 * 2**20
    half = fastinit.he_uniform(shape, out=out, rng=6, dtype=dtype)
    single = fastinit.he_uniform(shape, rng=6, dtype="float32")
    law = fastinit.get_initializer("he_uniform").law(shape)
    np.testing.assert_array_equal(half, kept_inside(single.astype(out.dtype), law))


def test_bounds_hold_in_the_16_bit_type():
    w = fastinit.uniform((10**6,), low=0.0, high=1.0, rng=0, dtype="float16")
    assert w.min() >= 0 and w.max() < 1  # float32 draws near 1 would round onto 1.0
    t = fastinit.truncated_normal((10**6,), a=-0.3, b=0.3, rng=0, dtype="bfloat16")
    assert t.astype(np.float64).min() >= -0.3 and t.astype(np.float64).max() <= 0.3
    with pytest.raises(ValueError, match="std=100000.0 is not representable in float16"):
        fastinit.normal((3,), std=1e5, dtype="float16", rng=0)


def fastinit_dtype(torch_dtype):
    return np.float16 if "float16" in str(torch_dtype) and "b" not in str(torch_dtype) else BF16


def test_torch_half_tensors_filled_in_place():
    torch = pytest.importorskip("torch")
    for dtype in (torch.float16, torch.bfloat16):
        tensor = torch.empty(512, 300, dtype=dtype)
        assert fastinit.kaiming_uniform_(tensor, seed=2) is tensor
        single = fastinit.kaiming_uniform_(torch.empty(512, 300), seed=2)
        law = fastinit.get_initializer("he_uniform", a=0.0, nonlinearity="leaky_relu",
                                       layout="out_in").law((512, 300))
        expected = kept_inside(single.numpy().astype(fastinit_dtype(dtype)), law)
        np.testing.assert_array_equal(tensor.float().numpy(), expected.astype(np.float32))

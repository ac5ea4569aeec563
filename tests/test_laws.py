"""The laws' own contracts (fastinit.laws): the values a law holds, the errors that name what
the caller passed, and the representable range of a dtype inside an interval, checked against
NumPy's own rounding (np.float32, np.nextafter) as known answers."""
import math
import re
import warnings

import numpy as np
import pytest
from scipy import stats

from fastinit.laws import Constant, Normal, TruncatedNormal, Uniform, values_within

F32 = np.float32


def below(x, dtype=F32):
    """The largest value of ``dtype`` below the dtype value ``x`` (NumPy's nextafter)."""
    return float(np.nextafter(dtype(x), dtype(-np.inf)))


@pytest.mark.parametrize("lo, hi, closed_high, expected", [
    # bounds that float32 holds exactly: kept when closed, the one below when open
    (0.5, 0.75, True, (0.5, 0.75)),
    (0.5, 0.75, False, (0.5, below(0.75))),
    # 0.1 and 0.2 round up in float32: the bound above lo is kept, the one above hi is not
    (0.1, 0.2, True, (float(F32(0.1)), below(0.2))),
    (0.1, 0.2, False, (float(F32(0.1)), below(0.2))),
    # 0.7 rounds down in float32: inside [lo, hi) already, so it stays even when open
    (0.25, 0.7, False, (0.25, float(F32(0.7)))),
    # one value: [x, x] holds x when float32 holds x
    (0.5, 0.5, True, (0.5, 0.5)),
    # beyond float32's range: the finite extremes
    (-1e39, 1e39, True, (-float(np.finfo(F32).max), float(np.finfo(F32).max))),
])
def test_values_within_is_numpy_s_rounding(lo, hi, closed_high, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow to infinity is expected, not a warning
        assert values_within(lo, hi, "float32", closed_high=closed_high) == expected


def test_values_within_in_float64_keeps_float64_bounds():
    assert values_within(0.1, 0.2, "float64", closed_high=True) == (0.1, 0.2)
    assert values_within(0.1, 0.2, "float64", closed_high=False) == (
        0.1, float(np.nextafter(0.2, -np.inf)))


def test_a_bound_of_minus_zero_comes_back_as_zero():
    first, _ = values_within(-0.0, 1.0, "float64", closed_high=True)
    _, last = values_within(-1.0, -0.0, "float64", closed_high=True)
    assert math.copysign(1.0, first) == 1.0 and math.copysign(1.0, last) == 1.0


@pytest.mark.parametrize("closed_high, bracket", [(True, "]"), (False, ")")])
def test_an_interval_no_value_lies_in_is_named_with_its_bracket(closed_high, bracket):
    with pytest.raises(ValueError, match=r"no float32 value lies in \[0\.1, 0\.1000000001"
                                         + re.escape(bracket)):
        values_within(0.1, 0.1000000001, "float32", closed_high=closed_high)
    # [x, x) is empty even where float32 holds x
    if not closed_high:
        with pytest.raises(ValueError, match="no float32 value"):
            values_within(0.5, 0.5, "float32", closed_high=False)


@pytest.mark.parametrize("make, fields", [
    (lambda: Normal(mean=np.float32(0.5), std=2), {"mean": 0.5, "std": 2.0}),
    (lambda: TruncatedNormal(mean=1, std=np.float64(0.5), a=np.int64(-1), b=3),
     {"mean": 1.0, "std": 0.5, "a": -1.0, "b": 3.0}),
    (lambda: Uniform(low=np.float32(-0.5), high=1), {"low": -0.5, "high": 1.0}),
    (lambda: Constant(value=np.int32(3)), {"value": 3.0}),
])
def test_a_law_holds_python_floats_whatever_real_type_it_was_given(make, fields):
    """A law's fields are Python floats: its repr is what result files and reports print."""
    law = make()
    for name, value in fields.items():
        held = getattr(law, name)
        assert type(held) is float and held == value, name
    assert "np." not in repr(law) and "float32" not in repr(law)


@pytest.mark.parametrize("make, name", [
    (lambda: Normal(mean="0"), "mean"), (lambda: Normal(std="1"), "std"),
    (lambda: TruncatedNormal(mean="0"), "mean"), (lambda: TruncatedNormal(std=None), "std"),
    (lambda: TruncatedNormal(a="-2"), "a"), (lambda: TruncatedNormal(b=[2.0]), "b"),
    (lambda: Uniform(low="0"), "low"), (lambda: Uniform(high=None), "high"),
    (lambda: Constant(value="1"), "value"),
])
def test_a_bad_parameter_is_named_in_the_error(make, name):
    with pytest.raises(TypeError, match=rf"^{name} must be a real number"):
        make()


def test_a_truncated_normal_may_be_unbounded_on_either_side():
    half = TruncatedNormal(mean=0.0, std=1.0, a=-math.inf, b=0.0)
    assert (half.a, half.b) == (-math.inf, 0.0)
    upper = TruncatedNormal(mean=0.0, std=1.0, a=0.0, b=math.inf)
    assert (upper.a, upper.b) == (0.0, math.inf)
    with pytest.raises(ValueError, match="^std must be > 0"):
        TruncatedNormal(std=0.0)



# -- the float32 limits, word for word ---------------------------------------------------------

F32_MAX = float(np.finfo(np.float32).max)


@pytest.mark.parametrize("call, message", [
    (lambda f: f.constant((2,), value=1e39, dtype="float32"),
     "value=1e+39 is not representable in float32 (largest 3.403e+38)"),
    (lambda f: f.normal((2,), mean=1e39, dtype="float32"),
     "mean=1e+39 is not representable in float32 (largest 3.403e+38)"),
    (lambda f: f.normal((2,), std=1e38, dtype="float32"),
     "std=1e+38 (mean=0.0) gives values beyond float32's largest, 3.403e+38 (a draw reaches "
     "|mean| + 13.71 std): use a smaller std or float64"),
    (lambda f: f.truncated_normal((2,), mean=1e39, dtype="float32"),
     "mean=1e+39 is not representable in float32 (largest 3.403e+38)"),
    (lambda f: f.truncated_normal((2,), std=1e39, dtype="float32"),
     "std=1e+39 is not representable in float32 (largest 3.403e+38)"),
    (lambda f: f.uniform((2,), low=-1e308, high=1e308),
     "high - low overflows for low=-1e+308, high=1e+308"),
])
def test_float32_limits_messages_word_for_word(api, call, message):
    with pytest.raises(ValueError) as raised:
        call(api)
    assert str(raised.value) == message


def test_the_largest_float32_and_infinity_are_constants_float32_holds(api):
    """float32's largest value is representable (the limit is inclusive), and a constant may be
    infinite (torch.nn.init.constant_(t, inf) fills inf): it is not a law with a spread."""
    np.testing.assert_array_equal(api.constant((3,), value=F32_MAX, dtype="float32"),
                                  np.full(3, F32_MAX, np.float32))
    np.testing.assert_array_equal(api.constant((3,), value=-math.inf, dtype="float32"),
                                  np.full(3, -np.inf, np.float32))


@pytest.mark.parametrize("a, b", [(8.0, 8.5), (-8.5, -8.0), (5.0, 40.0)])
def test_truncated_normal_far_in_either_tail_is_the_law(api, a, b):
    """Intervals deep in one tail, where Phi(a) and Phi(b) round to the same double in the
    upper tail (laws.TruncatedNormal.inversion mirrors them into the lower one): exact KS test
    against SciPy's truncnorm, fixed seed."""
    x = api.truncated_normal((20000,), a=a, b=b, rng=11)
    assert a <= x.min() and x.max() <= b
    assert stats.kstest(x, stats.truncnorm(a, b).cdf).pvalue > 1e-3

"""Fixtures and helpers shared by the test modules."""
import math

import pytest

import fastinit
import fastinit.reference as reference


@pytest.fixture(params=[fastinit, reference], ids=["engine", "reference"])
def api(request):
    """The engine and the NumPy reference: the same API, tested alike."""
    return request.param


def same_records(a, b):
    """Equal record lists, in any order, NaN equal to NaN, every float bit for bit."""
    def key(r):
        return (r["init"], r["activation"], r["depth"], r["width"], r["batch"], r["dtype"],
                r["seed"], str(r["bias"]), -1 if r["layer"] is None else r["layer"])
    a, b = sorted(a, key=key), sorted(b, key=key)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.keys() == y.keys()
        for k in x:
            if isinstance(x[k], float) and math.isnan(x[k]):
                assert isinstance(y[k], float) and math.isnan(y[k]), k
            else:
                assert x[k] == y[k], (k, x[k], y[k])

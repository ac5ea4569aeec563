"""Fixtures shared by the test modules."""
import pytest

import fastinit
import fastinit.reference as reference


@pytest.fixture(params=[fastinit, reference], ids=["engine", "reference"])
def api(request):
    """The engine and the NumPy reference: the same API, tested alike."""
    return request.param

"""Region fills (fastinit.regions): any block of a logical tensor holds exactly the values it
holds in the whole tensor, for every scheme with a law (the fans from the logical shape), both
dtypes, the engine and the reference; shards assembled equal the whole."""
import numpy as np
import pytest

import fastinit
from fastinit.initializers import SCHEMES

STRUCTURED = ("orthogonal", "identity", "dirac", "sparse")
PARAMS = {"constant": {"value": 0.5}, "uniform": {"low": -2.0, "high": 3.0},
          "truncated_normal": {"a": -0.5, "b": 1.5}}
LAW_SCHEMES = [name for name in SCHEMES if name not in STRUCTURED]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", LAW_SCHEMES)
def test_row_shards_assembled_equal_the_whole(api, name, dtype):
    scheme = getattr(api, name)
    shape = (96, 70)
    whole = scheme(shape, rng=11, dtype=dtype, **PARAMS.get(name, {}))
    shards = [scheme(shape, rng=11, dtype=dtype, region=(slice(r, r + 12),),
                     **PARAMS.get(name, {})) for r in range(0, 96, 12)]
    np.testing.assert_array_equal(np.concatenate(shards), whole)


@pytest.mark.parametrize("name", ["he_normal", "truncated_normal", "xavier_uniform",
                                  "variance_scaling"])
def test_blocks_of_a_grid_and_of_a_kernel(api, name):
    scheme = getattr(api, name)
    shape = (40, 36)
    whole = scheme(shape, rng=3, dtype="float32")
    out = np.full(shape, np.nan, np.float32)
    for r in range(0, 40, 10):
        for c in range(0, 36, 9):  # a 4 x 4 grid of blocks, each filled into a view's copy
            block = np.empty((10, 9), np.float32)
            scheme(shape, rng=3, region=((r, r + 10), (c, c + 9)), out=block)
            out[r:r + 10, c:c + 9] = block
    np.testing.assert_array_equal(out, whole)
    kernel = (3, 3, 16, 8)  # (*kernel, in, out): a block in every dimension
    full = scheme(kernel, rng=4)
    part = scheme(kernel, rng=4, region=(slice(1, 3), slice(0, 2), slice(5, 11), slice(2, 7)))
    np.testing.assert_array_equal(part, full[1:3, 0:2, 5:11, 2:7])


def test_initializers_and_seed_take_regions_too():
    init = fastinit.get_initializer("he_uniform", mode="fan_out")
    whole = init((50, 20), rng=9)
    np.testing.assert_array_equal(init((50, 20), seed=9, region=(slice(45, None),)),
                                  whole[45:])
    # the law is the whole tensor's: a shard alone would have other fans
    assert not np.array_equal(init((5, 20), rng=9), whole[45:])


@pytest.mark.parametrize("call, error, message", [
    (lambda: fastinit.orthogonal((8, 8), rng=0, region=(slice(0, 4),)), ValueError,
     "depends on the whole tensor"),
    (lambda: fastinit.normal((8, 8), rng=np.random.default_rng(0), region=(slice(0, 4),)),
     ValueError, "not a Generator"),
    (lambda: fastinit.normal((8, 8), rng=0, region=((0, 9),)), ValueError,
     r"outside 0..8"),
    (lambda: fastinit.normal((8, 8), rng=0, region=(slice(0, 8, 2),)), ValueError,
     "step 1"),
    (lambda: fastinit.normal((8, 8), rng=0, region=(slice(0, 2), slice(0, 2), slice(0, 1))),
     ValueError, "3 dimensions"),
    (lambda: fastinit.normal((8, 8), rng=0, region=(slice(0, 2),), out=np.empty((8, 8))),
     ValueError, r"does not match out.shape"),
    (lambda: fastinit.normal(out=np.empty((2, 8)), rng=0, region=(slice(0, 2),)), TypeError,
     "logical tensor's shape"),
    (lambda: fastinit.normal((8, 8), rng=0, region=("a", "b")), TypeError,
     "slice or a"),
])
def test_bad_regions_are_refused_before_any_write(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["normal", "uniform", "truncated_normal"])
def test_long_rows_split_into_work_items_on_any_thread_count(name, dtype):
    # rows of 18 000 elements span several of the kernel's 4096-element work items, starting
    # mid-item: every split must land on the whole tensor's values
    shape, region = (20, 20_000), (slice(3, 17), slice(1_001, 19_001))
    whole = getattr(fastinit, name)(shape, rng=8, dtype=dtype)
    for threads in (1, 2, 3):
        block = getattr(fastinit, name)(shape, rng=8, dtype=dtype, region=region,
                                        num_threads=threads)
        np.testing.assert_array_equal(block, whole[3:17, 1_001:19_001])

"""Stream stability (docs/stream.md, "Stability policy"): the values a seed gives for a scheme, shape
and dtype do not change within a stream version. A digest of every fill below is pinned; a
change to the stream, a law's arithmetic or a scheme fails here loudly, and must bump
fastinit.STREAM_VERSION (and these digests) on purpose.

orthogonal is left out: its QR runs through LAPACK, whose last bits follow the BLAS build.
"""
import hashlib

import numpy as np
import pytest

import fastinit
import fastinit.reference as reference
from fastinit._kernels import fill as _fill

PARAMS = {"constant": {"value": 0.25}, "sparse": {"sparsity": 0.3},
          "uniform": {"low": -0.5, "high": 2.0}}
# "scheme dtype shape seed": the first 16 hex digits of sha256 of the filled array's bytes,
# for STREAM_VERSION 3
GOLDEN = {
    "constant float32 (7, 5) 0": "13437e8008ac9cec",
    "constant float32 (7, 5) 12345": "13437e8008ac9cec",
    "constant float32 (64, 33, 3) 0": "bb3718893066fc3b",
    "constant float32 (64, 33, 3) 12345": "bb3718893066fc3b",
    "constant float64 (7, 5) 0": "68733e3143381dba",
    "constant float64 (7, 5) 12345": "68733e3143381dba",
    "constant float64 (64, 33, 3) 0": "4531b5bfec627c37",
    "constant float64 (64, 33, 3) 12345": "4531b5bfec627c37",
    "dirac float32 (64, 33, 3) 0": "7025cf26f1afa0ce",
    "dirac float32 (64, 33, 3) 12345": "7025cf26f1afa0ce",
    "dirac float64 (64, 33, 3) 0": "ddcedd36f28a1f2c",
    "dirac float64 (64, 33, 3) 12345": "ddcedd36f28a1f2c",
    "he_normal float32 (7, 5) 0": "b3e83ee20dfa0eec",
    "he_normal float32 (7, 5) 12345": "328dd74e43108c36",
    "he_normal float32 (64, 33, 3) 0": "9847c45003b0e9b4",
    "he_normal float32 (64, 33, 3) 12345": "c4173ef2d197f531",
    "he_normal float64 (7, 5) 0": "fcd336c63b4156d9",
    "he_normal float64 (7, 5) 12345": "7cd2b34409115c9c",
    "he_normal float64 (64, 33, 3) 0": "b35fea84ee27963f",
    "he_normal float64 (64, 33, 3) 12345": "5331b1672c0d4a52",
    "he_uniform float32 (7, 5) 0": "d694c70b0f66e7d7",
    "he_uniform float32 (7, 5) 12345": "05bd89f0ccececf0",
    "he_uniform float32 (64, 33, 3) 0": "b2e15382df639f93",
    "he_uniform float32 (64, 33, 3) 12345": "d59b7d68b1b6315b",
    "he_uniform float64 (7, 5) 0": "1d20a51c6ad3c19e",
    "he_uniform float64 (7, 5) 12345": "389154798824e134",
    "he_uniform float64 (64, 33, 3) 0": "775eae9c24a3345f",
    "he_uniform float64 (64, 33, 3) 12345": "7646e0c3252e9f63",
    "identity float32 (7, 5) 0": "3824888deca970f2",
    "identity float32 (7, 5) 12345": "3824888deca970f2",
    "identity float64 (7, 5) 0": "c61b10ac4596c68d",
    "identity float64 (7, 5) 12345": "c61b10ac4596c68d",
    "lecun_normal float32 (7, 5) 0": "e6e05a6285984b41",
    "lecun_normal float32 (7, 5) 12345": "dca7ec5750283afe",
    "lecun_normal float32 (64, 33, 3) 0": "887a82ff3c0e2be7",
    "lecun_normal float32 (64, 33, 3) 12345": "3aa2a6cb2987e0f1",
    "lecun_normal float64 (7, 5) 0": "4d5fa07e79fc2374",
    "lecun_normal float64 (7, 5) 12345": "93cfd49320b49442",
    "lecun_normal float64 (64, 33, 3) 0": "a71030845c64f2de",
    "lecun_normal float64 (64, 33, 3) 12345": "ddd6f015ae5ec6df",
    "lecun_uniform float32 (7, 5) 0": "df96b183d3033225",
    "lecun_uniform float32 (7, 5) 12345": "0fa70c3a57d43364",
    "lecun_uniform float32 (64, 33, 3) 0": "afb2b94a80581b2c",
    "lecun_uniform float32 (64, 33, 3) 12345": "310037adc7c97e52",
    "lecun_uniform float64 (7, 5) 0": "7bcd62b6d9285123",
    "lecun_uniform float64 (7, 5) 12345": "f8adf97c37a8bf6e",
    "lecun_uniform float64 (64, 33, 3) 0": "37117842e31aa574",
    "lecun_uniform float64 (64, 33, 3) 12345": "9b6b512230d8eff0",
    "normal float32 (7, 5) 0": "e56b87a04f65f35c",
    "normal float32 (7, 5) 12345": "1fe8ab3463d87457",
    "normal float32 (64, 33, 3) 0": "ded87b46f10591bc",
    "normal float32 (64, 33, 3) 12345": "9436ee8e9208798e",
    "normal float64 (7, 5) 0": "ac2ee72214f483a2",
    "normal float64 (7, 5) 12345": "a5aa45e9ac550e6a",
    "normal float64 (64, 33, 3) 0": "de8693e8c9cb66e5",
    "normal float64 (64, 33, 3) 12345": "b82ce6df5eda4054",
    "ones float32 (7, 5) 0": "321dc975767ac8cf",
    "ones float32 (7, 5) 12345": "321dc975767ac8cf",
    "ones float32 (64, 33, 3) 0": "9ee6d06c90d55680",
    "ones float32 (64, 33, 3) 12345": "9ee6d06c90d55680",
    "ones float64 (7, 5) 0": "9dad752d1646c16c",
    "ones float64 (7, 5) 12345": "9dad752d1646c16c",
    "ones float64 (64, 33, 3) 0": "7e9403fbc7e84489",
    "ones float64 (64, 33, 3) 12345": "7e9403fbc7e84489",
    "sparse float32 (7, 5) 0": "07bfa109c1e25845",
    "sparse float32 (7, 5) 12345": "e19bd730fc96e4ed",
    "sparse float64 (7, 5) 0": "14ec416e1acdb214",
    "sparse float64 (7, 5) 12345": "66897736abe837c1",
    "truncated_normal float32 (7, 5) 0": "cd442230db3c1991",
    "truncated_normal float32 (7, 5) 12345": "44e8133a3c6f0967",
    "truncated_normal float32 (64, 33, 3) 0": "b5470ae22e7084a6",
    "truncated_normal float32 (64, 33, 3) 12345": "c7788060e6d523d6",
    "truncated_normal float64 (7, 5) 0": "e2731037a309ed0d",
    "truncated_normal float64 (7, 5) 12345": "d9ccc0debd9c7e62",
    "truncated_normal float64 (64, 33, 3) 0": "b6538f3696b8bb6b",
    "truncated_normal float64 (64, 33, 3) 12345": "df8b4ec80be93d8a",
    "uniform float32 (7, 5) 0": "67f8b54375046ad7",
    "uniform float32 (7, 5) 12345": "b4572cb1fbd3d04b",
    "uniform float32 (64, 33, 3) 0": "3fa326c82c16eb61",
    "uniform float32 (64, 33, 3) 12345": "0c8ade83acec91bd",
    "uniform float64 (7, 5) 0": "353a8397d25daa18",
    "uniform float64 (7, 5) 12345": "7346180465e3b083",
    "uniform float64 (64, 33, 3) 0": "38f329037e51869a",
    "uniform float64 (64, 33, 3) 12345": "5a31c7c6e87ada27",
    "variance_scaling float32 (7, 5) 0": "9f716bac7cd64774",
    "variance_scaling float32 (7, 5) 12345": "28d3163c672b5f9a",
    "variance_scaling float32 (64, 33, 3) 0": "314cc4a731feb6a3",
    "variance_scaling float32 (64, 33, 3) 12345": "042d3b887f082fe5",
    "variance_scaling float64 (7, 5) 0": "a8aa575606882170",
    "variance_scaling float64 (7, 5) 12345": "d236a8764b845ca3",
    "variance_scaling float64 (64, 33, 3) 0": "df1a86ade5e432c9",
    "variance_scaling float64 (64, 33, 3) 12345": "5e7ce5ac0a4c07a0",
    "xavier_normal float32 (7, 5) 0": "9fe9aaa8d0f24405",
    "xavier_normal float32 (7, 5) 12345": "d5df117ed8d12f30",
    "xavier_normal float32 (64, 33, 3) 0": "8158858bb68846a3",
    "xavier_normal float32 (64, 33, 3) 12345": "d3050b29004dac76",
    "xavier_normal float64 (7, 5) 0": "98c9a778bff84836",
    "xavier_normal float64 (7, 5) 12345": "75639d27e04171c7",
    "xavier_normal float64 (64, 33, 3) 0": "510e3d19c27702b4",
    "xavier_normal float64 (64, 33, 3) 12345": "28c56583c76438af",
    "xavier_uniform float32 (7, 5) 0": "26ce7bdfc501b375",
    "xavier_uniform float32 (7, 5) 12345": "d2f5fe52b5c4620e",
    "xavier_uniform float32 (64, 33, 3) 0": "bbbb10513617792d",
    "xavier_uniform float32 (64, 33, 3) 12345": "3ed6650b91f4339f",
    "xavier_uniform float64 (7, 5) 0": "4c9fb591d44e2246",
    "xavier_uniform float64 (7, 5) 12345": "2b90041de72b10c8",
    "xavier_uniform float64 (64, 33, 3) 0": "0fa1ce242b59d348",
    "xavier_uniform float64 (64, 33, 3) 12345": "3fca8ff995cd7f6c",
    "zeros float32 (7, 5) 0": "24045c10c12a89f4",
    "zeros float32 (7, 5) 12345": "24045c10c12a89f4",
    "zeros float32 (64, 33, 3) 0": "6f51e5e322486fb2",
    "zeros float32 (64, 33, 3) 12345": "6f51e5e322486fb2",
    "zeros float64 (7, 5) 0": "1f6c9de2e555d5d5",
    "zeros float64 (7, 5) 12345": "1f6c9de2e555d5d5",
    "zeros float64 (64, 33, 3) 0": "e322feefa8d4c76d",
    "zeros float64 (64, 33, 3) 12345": "e322feefa8d4c76d",
}


def digest(api, key):
    name, dtype, rest = key.split(" ", 2)
    shape_text, seed = rest.rsplit(" ", 1)
    shape = tuple(int(d) for d in shape_text.strip("()").split(",") if d.strip())
    w = getattr(api, name)(shape, rng=int(seed), dtype=dtype, **PARAMS.get(name, {}))
    return hashlib.sha256(np.ascontiguousarray(w).tobytes()).hexdigest()[:16]


def test_the_stream_version_is_the_one_pinned():
    assert fastinit.STREAM_VERSION == 3


@pytest.mark.parametrize("level", [2, 0], ids=["fastest path", "portable path"])
def test_every_scheme_gives_its_pinned_values(level):
    previous = _fill.simd_level(level)
    try:
        changed = [key for key, expected in GOLDEN.items()
                   if digest(fastinit, key) != expected]
    finally:
        _fill.simd_level(previous)
    assert changed == [], f"values changed for {len(changed)} fills, e.g. {changed[:3]}"


def test_the_reference_gives_the_pinned_values_too():
    keys = [k for k in GOLDEN if "(7, 5)" in k]
    assert [digest(reference, k) for k in keys] == [GOLDEN[k] for k in keys]

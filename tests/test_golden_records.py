"""Golden outputs of the propagation engine: a digest of ``to_records()`` for fixed
configurations, on the fused path (one kernel call per network) and the per-layer path, in both
dtypes. Any numerical change, even at rounding level (a merge order of chunk statistics, a
reduction split, a histogram rule), fails here and must be acknowledged by updating the digest
on purpose, with a note in the release.

The configurations are built so that every matrix product is exact whatever BLAS computes it
(this suite runs on machines whose OpenBLAS picks other kernels, and threads split sums
differently): the fused networks have one layer fed with signed one-hot rows (each product
term but one is an exact zero), the per-layer ones use ``identity`` weights (the same). The
random parts are the stream's weights, biases and inputs, and everything after the product is
fastinit's own arithmetic, which must not depend on the machine.
"""
import hashlib
import json
import math

import numpy as np
import pytest

import fastinit
import fastinit.propagation as propagation

BIAS = fastinit.get_initializer("normal", std=0.2)


def one_hot_rows(batch, input_dim, dtype):
    """Row i: +-1.5 at column i % input_dim (sign by i % 3), zeros elsewhere."""
    X = np.zeros((batch, input_dim), dtype)
    rows = np.arange(batch)
    X[rows, rows % input_dim] = np.where(rows % 3 == 0, -1.5, 1.5)
    return X


def canonical(value):
    """Records as text with every float written exactly (float.hex); NaN as "nan"."""
    if isinstance(value, float):
        return "nan" if math.isnan(value) else float.hex(value)
    if isinstance(value, dict):
        return {key: canonical(v) for key, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, (np.integer, np.floating)):
        return canonical(value.item())
    return value


# the weight gradient H^T G sums over the batch, with weights of every size: its last bits follow
# the BLAS kernel and thread count, so it is left out (the tests of fastinit.gradients check it)
BLAS_DEPENDENT = ("weight_grad_norm", "weight_grad_std")


def digest(result):
    records = [{key: value for key, value in record.items() if key not in BLAS_DEPENDENT}
               for record in result.to_records()]
    text = json.dumps(canonical(records), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# "activation dtype": digest of a one-layer network (width 200, batch 1500) on the fused path
FUSED = {
    "tanh float64": "d23a8830609febee",
    "relu float64": "f86a09d501b3e3f6",
    "gelu float64": "6a7524f68bbf9c71",
    "sigmoid float64": "a58ae6efde80049a",
    "tanh float32": "73f64e6068ad61ec",
    "relu float32": "54043b109edaa417",
    "gelu float32": "7e60d68fec9e7980",
    "sigmoid float32": "f23d5488db3ca89d",
}

# "activation dtype backward": digest of three identity layers of 64 (batch 900) on the
# per-layer path
PER_LAYER = {
    "tanh float64 False": "0474933f043685e2",
    "tanh float64 True": "95338b3ee27e5835",
    "relu float64 True": "1c793393a6096a46",
    "tanh float32 False": "ff7e7168154fc01d",
    "tanh float32 True": "397be7cb2c714149",
    "relu float32 True": "5016f55bb83bd890",
}


def refuse(*args, **kwargs):
    raise AssertionError("the configuration ran on the other path")


@pytest.mark.parametrize("key", sorted(FUSED))
def test_fused_path_records_are_pinned(key, monkeypatch):
    activation, dtype = key.split()
    monkeypatch.setattr(propagation, "_run", refuse)  # must stay on the fused path
    result = fastinit.forward_prop([200], "he_normal", activation=activation,
                                   X=one_hot_rows(1500, 32, dtype), bias=BIAS, rng=2026,
                                   dtype=dtype, keep_activations=False,
                                   hist_range=(-1.0, 3.0))
    assert digest(result) == FUSED[key]


@pytest.mark.parametrize("key", sorted(PER_LAYER))
def test_per_layer_path_records_are_pinned(key, monkeypatch):
    activation, dtype, backward = key.split()
    monkeypatch.setattr(propagation, "_run_fused", refuse)
    result = fastinit.forward_prop([64] * 3, "identity", activation=activation, batch=900,
                                   bias=BIAS, rng=2027, dtype=dtype,
                                   backward=backward == "True")
    assert digest(result) == PER_LAYER[key]


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_pinned_records_do_not_depend_on_threads(threads):
    # the digests above hold on any thread count (and so on any machine's core count)
    result = fastinit.forward_prop([200], "he_normal", activation="tanh",
                                   X=one_hot_rows(1500, 32, "float64"), bias=BIAS, rng=2026,
                                   keep_activations=False, num_threads=threads,
                                   hist_range=(-1.0, 3.0))
    assert digest(result) == FUSED["tanh float64"]

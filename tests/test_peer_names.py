"""PyTorch's and Keras's habits: torch.nn.init's in-place names on arrays and tensors, Keras's
initializer classes, ``seed=`` for ``rng=``, He's ``a=``, and the errors that point a user of
either library to the right call. torch and Keras themselves are the oracles: the same law by a
two-sample KS test at fixed seeds (deterministic: it cannot flake), the same values where the
scheme is deterministic, the same counts, the same configs."""
import math
import os
import re

import numpy as np
import pytest
from scipy import stats

import fastinit
from conftest import same_law

KS_P = 1e-3  # both samples are fixed by their seeds: the p-value is a fixed number




# -- seed= and He's PyTorch conventions --------------------------------------------------------

def test_seed_is_another_name_for_rng():
    np.testing.assert_array_equal(fastinit.normal((50,), seed=7), fastinit.normal((50,), rng=7))
    np.testing.assert_array_equal(fastinit.orthogonal((6, 6), seed=7),
                                  fastinit.orthogonal((6, 6), rng=7))
    init = fastinit.get_initializer("he_uniform")
    np.testing.assert_array_equal(init((9, 4), seed=3), init((9, 4), rng=3))
    for call in (lambda: fastinit.normal((3,), rng=1, seed=1),
                 lambda: init((3, 3), rng=1, seed=2)):
        with pytest.raises(TypeError, match="give rng= or seed="):
            call()


def test_he_takes_torchs_a_as_the_negative_slope():
    fan_in, a = 400, 0.3
    leaky_std = math.sqrt(2 / (1 + a * a)) / math.sqrt(fan_in)  # He et al. (2015), eq. 15
    assert fastinit.get_initializer("he_normal", a=a).law((fan_in, 10)).std == \
        pytest.approx(leaky_std, rel=1e-15)
    # a slope given without a nonlinearity means leaky_relu, as in torch's kaiming_*
    assert fastinit.get_initializer("he_normal", negative_slope=a).law((fan_in, 10)).std == \
        pytest.approx(leaky_std, rel=1e-15)
    assert fastinit.get_initializer("he_uniform", a=a).law((fan_in, 10)).high == \
        pytest.approx(leaky_std * math.sqrt(3), rel=1e-15)
    # no slope: ReLU's gain sqrt(2)
    assert fastinit.get_initializer("he_normal").law((fan_in, 10)).std == \
        pytest.approx(math.sqrt(2 / fan_in), rel=1e-15)
    with pytest.raises(TypeError, match="give a= .* or negative_slope=, not both"):
        fastinit.he_normal((4, 4), a=0.1, negative_slope=0.1)


def test_errors_that_point_to_the_right_call():
    with pytest.raises(ValueError, match=r"variance_scaling\(scale=2.0, mode='fan_avg', "
                                         r"distribution='untruncated_normal'\)"):
        fastinit.he_normal((4, 4), mode="fan_avg")
    with pytest.raises(ValueError, match=r"distribution='uniform'"):
        fastinit.he_uniform((4, 4), mode="fan_avg")
    with pytest.raises(ValueError, match=r"at least 2 dimensions: \(fan_in, fan_out\)"):
        fastinit.he_normal(512)
    with pytest.raises(ValueError, match=r"\(fan_out, fan_in\)"):
        fastinit.kaiming_normal_(np.empty(512))


# -- torch.nn.init's in-place names ------------------------------------------------------------

def test_in_place_names_fill_numpy_arrays_in_torch_layout():
    w = np.zeros((256, 784))  # nn.Linear(784, 256).weight: (out, in)
    assert fastinit.kaiming_normal_(w, seed=0) is w
    assert w.std() == pytest.approx(math.sqrt(2 / 784), rel=0.01)  # fan_in = 784, not 256
    fastinit.kaiming_uniform_(w, a=math.sqrt(5), seed=1)  # nn.Linear's reset_parameters
    bound = 1 / math.sqrt(784)
    assert w.max() < bound and w.min() >= -bound and w.max() > 0.99 * bound
    fastinit.xavier_uniform_(w, gain=2.0, seed=2)
    assert np.abs(w).max() < 2 * math.sqrt(6 / (784 + 256))
    np.testing.assert_array_equal(fastinit.normal_(np.empty(100), 1.0, 2.0, seed=3),
                                  fastinit.normal((100,), mean=1.0, std=2.0, rng=3))
    with pytest.raises(TypeError, match="numpy.ndarray or a torch.Tensor, got list"):
        fastinit.zeros_([1.0, 2.0])


torch = pytest.importorskip("torch")
nn_init = torch.nn.init
SHAPES = [(300, 200), (64, 32, 3, 3)]


@pytest.mark.parametrize("shape", SHAPES, ids=["dense", "conv"])
@pytest.mark.parametrize("name, args", [
    ("uniform_", (-0.5, 1.5)), ("normal_", (0.2, 3.0)), ("trunc_normal_", (0.0, 1.0, -1.0, 2.0)),
    ("xavier_uniform_", (1.7,)), ("xavier_normal_", (0.6,)),
    ("kaiming_uniform_", (math.sqrt(5),)), ("kaiming_normal_", (0.0, "fan_out", "relu")),
    ("kaiming_normal_", (0.2,)),
])
def test_in_place_names_follow_torchs_laws(shape, name, args):
    torch.manual_seed(0)
    theirs = getattr(nn_init, name)(torch.empty(shape), *args)
    tensor = torch.full(shape, math.nan)
    pointer = tensor.data_ptr()
    assert getattr(fastinit, name)(tensor, *args, seed=1) is tensor
    assert tensor.data_ptr() == pointer and not torch.isnan(tensor).any()
    assert same_law(tensor.numpy(), theirs.numpy()), name
    # and the same bytes as the NumPy array of the same shape
    np.testing.assert_array_equal(tensor.numpy(), getattr(fastinit, name)(
        np.empty(shape, np.float32), *args, seed=1))


@pytest.mark.parametrize("name, shape, args", [
    ("ones_", (5, 7), ()), ("zeros_", (5, 7), ()), ("constant_", (5, 7), (0.25,)),
    ("eye_", (4, 6), ()), ("eye_", (6, 4), ()), ("dirac_", (6, 3, 3, 3), ()),
    ("dirac_", (8, 2, 3), (2,)), ("dirac_", (4, 4, 1, 3, 3), ()),
])
def test_deterministic_in_place_names_equal_torchs(name, shape, args):
    theirs = getattr(nn_init, name)(torch.full(shape, math.nan, dtype=torch.float64), *args)
    ours = getattr(fastinit, name)(torch.full(shape, math.nan, dtype=torch.float64), *args)
    assert torch.equal(ours, theirs)


@pytest.mark.parametrize("shape", [(30, 50), (50, 30), (16, 4, 3, 3)])
def test_orthogonal_and_sparse_in_place_as_torch(shape):
    w = fastinit.orthogonal_(torch.empty(shape, dtype=torch.float64), gain=2.0, seed=0)
    flat = w.reshape(shape[0], -1).numpy()
    small = min(flat.shape)
    gram = flat @ flat.T if flat.shape[0] == small else flat.T @ flat
    np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-12)
    if len(shape) == 2:
        for sparsity in (0.1, 0.35):
            torch.manual_seed(0)
            theirs = nn_init.sparse_(torch.empty(shape), sparsity)
            ours = fastinit.sparse_(torch.empty(shape), sparsity, seed=0)
            np.testing.assert_array_equal((ours == 0).sum(0).numpy(),
                                          (theirs == 0).sum(0).numpy())


def test_a_linear_layer_initialized_as_torch_does():
    torch.manual_seed(0)
    layers = [torch.nn.Linear(784, 256) for _ in range(4)]  # reset_parameters ran
    theirs = torch.cat([layer.weight.detach().ravel() for layer in layers])
    ours = []
    for seed, layer in enumerate(layers):
        with torch.no_grad():
            layer.weight.fill_(math.nan)
        fastinit.kaiming_uniform_(layer.weight, a=math.sqrt(5), seed=seed)  # a Parameter
        ours.append(layer.weight.detach().ravel())
    assert same_law(torch.cat(ours).numpy(), theirs.numpy())


def test_strided_and_channels_last_tensors_are_filled_by_logical_index():
    # torch.nn.init fills any strided tensor element by element; fastinit's value of element i
    # depends on its logical (C-order) index, so a view gets what a contiguous tensor gets
    base = torch.full((6, 4), math.nan)
    assert fastinit.normal_(base.t(), seed=0) is not None
    np.testing.assert_array_equal(base.t().numpy(), fastinit.normal_(torch.empty(4, 6),
                                                                     seed=0).numpy())
    conv = torch.nn.Conv2d(8, 16, 3).to(memory_format=torch.channels_last)
    assert not conv.weight.is_contiguous()
    fastinit.kaiming_uniform_(conv.weight, a=math.sqrt(5), seed=1)
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)  # layout kept
    expected = fastinit.kaiming_uniform_(torch.empty(16, 8, 3, 3), a=math.sqrt(5), seed=1)
    assert torch.equal(conv.weight.detach(), expected)


def test_tensors_fastinit_cannot_fill_in_place():
    with pytest.raises(TypeError, match="float16, bfloat16, float32 or float64, got torch.int32"):
        fastinit.normal_(torch.empty(3, 3, dtype=torch.int32), seed=0)
    with pytest.raises(TypeError, match="on the CPU, got device meta"):
        fastinit.normal_(torch.empty(3, 3, device="meta"), seed=0)


# -- Keras's classes ---------------------------------------------------------------------------

def keras_initializers():
    os.environ.setdefault("KERAS_BACKEND", "torch")  # the backend installed with the tests
    keras = pytest.importorskip("keras")
    return keras.initializers


def same_config(ours, theirs):
    """Keras's config has ours, and anything more left at None (newer Keras's input_axes and
    output_axes, which fastinit does not take)."""
    ours, theirs = ours.get_config(), theirs.get_config()
    assert {k: theirs.get(k, "missing") for k in ours} == ours
    assert all(v is None for k, v in theirs.items() if k not in ours), theirs


@pytest.mark.parametrize("name, kwargs, shape", [
    ("RandomNormal", {}, (300, 200)), ("RandomNormal", {"mean": 1.0, "stddev": 2.0}, (60000,)),
    ("RandomUniform", {"minval": -1.0, "maxval": 3.0}, (300, 200)),
    ("TruncatedNormal", {"mean": 0.5, "stddev": 0.3}, (300, 200)),
    ("GlorotNormal", {}, (300, 200)), ("GlorotUniform", {}, (3, 3, 64, 32)),
    ("HeNormal", {}, (300, 200)), ("HeUniform", {}, (300, 200)),
    ("LecunNormal", {}, (3, 3, 64, 32)), ("LecunUniform", {}, (300, 200)),
    ("VarianceScaling", {"scale": 3.0, "mode": "fan_out", "distribution": "untruncated_normal"},
     (300, 200)),
    ("VarianceScaling", {"scale": 0.5, "mode": "fan_avg", "distribution": "truncated_normal"},
     (3, 3, 64, 32)),
])
def test_keras_classes_follow_keras(name, kwargs, shape):
    keras = keras_initializers()
    theirs = np.asarray(getattr(keras, name)(**kwargs, seed=1)(shape))
    init = getattr(fastinit.keras, name)(**kwargs, seed=1)
    ours = init(shape)
    assert ours.dtype == theirs.dtype == np.float32 and ours.shape == shape
    assert same_law(ours, theirs), name
    np.testing.assert_array_equal(ours, init(shape))  # an int seed: the same values each call
    same_config(init, getattr(keras, name)(**kwargs, seed=1))


@pytest.mark.parametrize("name, kwargs, shape", [
    ("Zeros", {}, (4, 5)), ("Ones", {}, (4, 5)), ("Constant", {"value": 0.7}, (4, 5)),
    ("Identity", {"gain": 2.0}, (4, 6)),
])
def test_keras_deterministic_classes_equal_keras(name, kwargs, shape):
    keras = keras_initializers()
    theirs = np.asarray(getattr(keras, name)(**kwargs)(shape))
    ours = getattr(fastinit.keras, name)(**kwargs)(shape)
    np.testing.assert_array_equal(ours, theirs)
    if name != "Identity":  # Keras's Identity.get_config() is {}: it drops its gain
        same_config(getattr(fastinit.keras, name)(**kwargs), getattr(keras, name)(**kwargs))


def test_keras_orthogonal_is_orthogonal_over_the_last_axis():
    w = fastinit.keras.Orthogonal(gain=3.0, seed=0)((2, 3, 10, 40), dtype="float64")
    flat = w.reshape(-1, 40)  # Keras flattens all but the last axis
    np.testing.assert_allclose(flat.T @ flat, 9.0 * np.eye(40), atol=1e-12)


# -- issue 25: Keras's words in errors, Keras's fans for short shapes -------------------------

@pytest.mark.parametrize("make, error, words", [
    (lambda k: k.RandomNormal(stddev=-1.0), ValueError, r"^stddev must be >= 0"),
    (lambda k: k.TruncatedNormal(stddev="a"), TypeError, r"^stddev must be a real number"),
    (lambda k: k.TruncatedNormal(mean=[1]), TypeError, r"^mean must be a real number"),
    (lambda k: k.RandomUniform(minval=1.0, maxval=0.0), ValueError,
     r"^minval must be < maxval, got minval=1\.0, maxval=0\.0"),
    (lambda k: k.RandomUniform(maxval="x"), TypeError, r"^maxval must be a real number"),
    (lambda k: k.RandomNormal(seed="s")((2, 2)), TypeError, r"^seed must be"),
    (lambda k: k.RandomNormal(stddev=1e39)((2, 2)), ValueError, r"^stddev=1e\+39"),
    (lambda k: k.VarianceScaling(scale=-1.0), ValueError, r"^scale must be > 0"),
    (lambda k: k.VarianceScaling(mode="invalid_mode"), ValueError, r"^mode must be one of"),
    (lambda k: k.VarianceScaling(distribution="invalid_dist"), ValueError,
     r"^distribution must be one of"),
])
def test_keras_errors_use_keras_words(make, error, words):
    with pytest.raises(error, match=words) as caught:
        make(fastinit.keras)
    assert not re.search(r"\b(std|low|high|rng)\b", str(caught.value)), caught.value


@pytest.mark.parametrize("name, shape", [("HeNormal", (4000,)), ("LecunNormal", ()),
                                         ("GlorotUniform", (3000,)), ("HeUniform", ())])
def test_keras_fans_of_shapes_under_two_dimensions(name, shape):
    keras = keras_initializers()
    theirs = [np.asarray(getattr(keras, name)(seed=s)(shape)).ravel() for s in range(400)]
    ours = [getattr(fastinit.keras, name)(seed=s)(shape).ravel() for s in range(400)]
    assert getattr(fastinit.keras, name)(seed=0)(shape).shape == shape
    ours, theirs = np.concatenate(ours), np.concatenate(theirs)
    assert stats.ks_2samp(ours, theirs).pvalue > 1e-3  # Keras: fans (n, n), () as (1, 1)


def test_torch_named_errors_use_torchs_argument_names():
    # torch.nn.init.uniform_(tensor, a, b) and constant_(tensor, val): not fastinit's low/high
    with pytest.raises(ValueError, match=r"^a must be < b, got a=1\.0, b=0\.0"):
        fastinit.uniform_(np.empty(3), 1.0, 0.0, seed=0)
    with pytest.raises(ValueError, match=r"^a=-1e\+39 is not representable in float32"):
        fastinit.uniform_(np.empty(3, np.float32), -1e39, 0.0, seed=0)
    with pytest.raises(TypeError, match=r"^val must be a real number"):
        fastinit.constant_(np.empty(3), "x")


# -- issue 30: the contracts around the laws, from the peers' own behaviour -------------------

TORCH_RANDOM = ["uniform_", "normal_", "trunc_normal_", "xavier_uniform_", "xavier_normal_",
                "kaiming_uniform_", "kaiming_normal_", "orthogonal_"]


@pytest.mark.parametrize("name", [*TORCH_RANDOM, "ones_", "zeros_", "constant_"])
@pytest.mark.parametrize("shape", [(0, 3), (3, 0)])
def test_zero_element_tensors_are_a_no_op_with_torchs_warnings(name, shape):
    import warnings
    args = (0.5,) if name == "constant_" else ()

    def warned(call):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = call()
        return result, sorted(str(w.message) for w in caught)
    _, theirs = warned(lambda: getattr(torch.nn.init, name)(torch.empty(shape), *args))
    ours_tensor = torch.empty(shape)
    result, ours = warned(lambda: getattr(fastinit, name)(ours_tensor, *args))
    assert result is ours_tensor and ours == theirs  # torch warns in kaiming_* alone


@pytest.mark.parametrize("name", ["he_normal", "he_uniform", "xavier_uniform", "xavier_normal",
                                  "lecun_normal", "normal", "orthogonal", "variance_scaling"])
def test_plain_schemes_agree_that_an_empty_weight_is_empty(name):
    for shape in [(0, 5), (5, 0), (3, 0, 2)]:
        assert getattr(fastinit, name)(shape, rng=0).shape == shape


def test_calculate_gain_refuses_what_torch_refuses_with_its_class():
    for bad in (True, "x"):
        with pytest.raises(ValueError):
            torch.nn.init.calculate_gain("leaky_relu", bad)
        with pytest.raises(ValueError):  # torch's class, and still fastinit's TypeError
            fastinit.calculate_gain("leaky_relu", bad)
        with pytest.raises(TypeError):
            fastinit.calculate_gain("leaky_relu", bad)


@pytest.mark.parametrize("name", TORCH_RANDOM)
def test_generator_and_manual_seed_make_inits_repeat_as_in_torch(name):
    fn = getattr(fastinit, name)
    torch.manual_seed(0)
    a = fn(torch.empty(8, 6))
    b = fn(torch.empty(8, 6))  # the default generator moved on
    torch.manual_seed(0)
    assert torch.equal(fn(torch.empty(8, 6)), a) and not torch.equal(a, b)
    g = torch.Generator().manual_seed(7)
    c = fn(torch.empty(8, 6), generator=g)
    assert torch.equal(fn(torch.empty(8, 6), generator=torch.Generator().manual_seed(7)), c)
    assert not torch.equal(fn(torch.empty(8, 6), generator=g), c)
    with pytest.raises(TypeError, match="generator="):
        fn(torch.empty(2, 2), seed=1, generator=torch.Generator())


KERAS_ATTRIBUTES = {
    "RandomNormal": ({"mean": 0.5, "stddev": 2.0}, ["mean", "stddev", "seed"]),
    "RandomUniform": ({"minval": -1.0, "maxval": 2.0}, ["minval", "maxval", "seed"]),
    "TruncatedNormal": ({"mean": 0.1, "stddev": 0.3}, ["mean", "stddev", "seed"]),
    "VarianceScaling": ({"scale": 2.0, "mode": "fan_out", "distribution": "uniform"},
                        ["scale", "mode", "distribution", "seed"]),
    "HeNormal": ({}, ["scale", "mode", "distribution", "seed"]),
    "GlorotUniform": ({}, ["scale", "mode", "distribution", "seed"]),
    "Orthogonal": ({"gain": 2.0}, ["gain", "seed"]),
    "Constant": ({"value": 0.25}, ["value"]),
}


@pytest.mark.parametrize("name", sorted(KERAS_ATTRIBUTES))
def test_keras_attributes_and_config_round_trips(name):
    keras = keras_initializers()
    kwargs, attributes = KERAS_ATTRIBUTES[name]
    seeded = {**kwargs, "seed": 3} if "seed" in attributes else kwargs
    ours, theirs = getattr(fastinit.keras, name)(**seeded), getattr(keras, name)(**seeded)
    for attribute in attributes:
        assert getattr(ours, attribute) == getattr(theirs, attribute), attribute
    again = type(ours).from_config(ours.get_config())  # how Keras saves and restores models
    assert np.array_equal(again((6, 4)), ours((6, 4)))
    back = fastinit.keras.deserialize(fastinit.keras.serialize(ours))
    assert type(back) is type(ours) and np.array_equal(back((6, 4)), ours((6, 4)))


def test_keras_get_and_array_constants():
    keras = keras_initializers()
    for identifier in ["he_normal", "HeNormal", "glorot_uniform", "Orthogonal"]:
        assert type(fastinit.keras.get(identifier)).__name__ == \
            type(keras.get(identifier)).__name__
    assert fastinit.keras.get(None) is None
    with pytest.raises(ValueError, match="Could not interpret initializer identifier"):
        fastinit.keras.get("bogus")
    value = np.array([[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(fastinit.keras.Constant(value)((4, 3)),
                                  np.asarray(keras.Constant(value)((4, 3))))
    with pytest.raises(ValueError, match="does not broadcast"):
        fastinit.keras.Constant(value)((4, 2))


# -- issue 34: Keras's seed=0 is a seed like any other ---------------------------------------

@pytest.mark.parametrize("name", ["GlorotUniform", "HeNormal", "LecunNormal", "RandomNormal",
                                  "RandomUniform", "TruncatedNormal", "Orthogonal",
                                  "VarianceScaling"])
def test_keras_seed_0_repeats_like_any_int_seed(name):
    # Keras 3: "an initializer seeded with an integer ... will produce the same random values
    # across multiple calls"; 0 is an integer seed, not "no seed"
    cls = getattr(fastinit.keras, name)
    init = cls(seed=0)
    first = init((40, 30))
    np.testing.assert_array_equal(init((40, 30)), first)
    np.testing.assert_array_equal(cls(seed=0)((40, 30)), first)
    assert not np.array_equal(cls(seed=1)((40, 30)), first)
    assert cls.from_config(init.get_config()).get_config()["seed"] == 0

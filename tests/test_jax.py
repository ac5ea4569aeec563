"""fastinit.jax: jax.nn.initializers' names, signature and laws (checked against JAX itself by a
two-sample KS test at fixed keys), keys as seeds, regions, and whole parameter pytrees keyed by
path with Flax's defaults."""
import re

import numpy as np
import pytest
from conftest import same_law

jax = pytest.importorskip("jax")
jnp = jax.numpy
fj = pytest.importorskip("fastinit.jax")
inits = jax.nn.initializers




@pytest.mark.parametrize("name, args, shape", [
    ("glorot_uniform", (), (300, 200)), ("glorot_normal", (), (3, 3, 32, 64)),
    ("lecun_uniform", (), (300, 200)), ("lecun_normal", (), (300, 200)),
    ("he_uniform", (), (300, 200)), ("he_normal", (), (3, 3, 32, 64)),
    ("normal", (0.5,), (300, 200)), ("uniform", (3.0,), (300, 200)),
    ("truncated_normal", (2.0, jnp.float32, -1.0, 0.5), (300, 200)),
    ("variance_scaling", (3.0, "fan_out", "normal"), (300, 200)),
    ("variance_scaling", (0.5, "fan_avg", "truncated_normal"), (300, 200)),
    ("variance_scaling", (2.0, "fan_in", "uniform"), (5, 300, 40)),
])
def test_laws_are_jaxs(name, args, shape):
    key = jax.random.key(3)
    ours = getattr(fj, name)(*args)(key, shape)
    theirs = getattr(inits, name)(*args)(jax.random.key(4), shape)
    assert ours.shape == shape and ours.dtype == jnp.float32
    assert same_law(ours, theirs), name
    assert (np.asarray(ours) == np.asarray(getattr(fj, name)(*args)(key, shape))).all()


def test_keys_seed_the_stream():
    init = fj.he_normal()
    a = init(jax.random.key(0), (50, 40))
    assert (np.asarray(a) == np.asarray(init(jax.random.PRNGKey(0), (50, 40)))).all()
    assert not (np.asarray(a) == np.asarray(init(jax.random.key(1), (50, 40)))).all()
    # the key's data is the seed: the numbers are fastinit's for that SeedSequence
    import fastinit
    expected = fastinit.variance_scaling((50, 40), scale=2.0, rng=np.random.SeedSequence([0, 0]),
                                         dtype="float32")
    np.testing.assert_array_equal(np.asarray(a), expected)


def test_orthogonal_dtypes_and_regions():
    q = np.asarray(fj.orthogonal(2.0)(jax.random.key(0), (64, 32), jnp.float64))
    np.testing.assert_allclose(q.T @ q, 4 * np.eye(32), atol=1e-5)  # jax may keep float32
    assert fj.normal(1.0)(jax.random.key(0), (8, 8), jnp.bfloat16).dtype == jnp.bfloat16
    key = jax.random.key(7)
    for init in (fj.glorot_uniform(), fj.glorot_normal(), fj.lecun_uniform(), fj.lecun_normal(),
                 fj.he_uniform(), fj.he_normal(), fj.normal(), fj.uniform(),
                 fj.truncated_normal(), fj.variance_scaling(2.0, "fan_out", "normal"),
                 fj.zeros(), fj.ones(), fj.constant(0.3)):
        whole = np.asarray(init(key, (40, 30)))
        shards = [np.asarray(init(key, (40, 30), region=(slice(r, r + 10), slice(c, c + 15))))
                  for r in range(0, 40, 10) for c in (0, 15)]
        rows = [np.concatenate(shards[i:i + 2], axis=1) for i in range(0, 8, 2)]
        np.testing.assert_array_equal(np.concatenate(rows), whole)


def test_init_params_keys_leaves_by_path_with_flax_defaults():
    def params(extra):
        tree = {"Dense_0": {"kernel": jnp.zeros((300, 200)), "bias": jnp.zeros(200)},
                "LayerNorm_0": {"scale": jnp.zeros(200), "bias": jnp.zeros(200)},
                "Embed_0": {"embedding": jnp.zeros((1000, 64))}}
        if extra:
            tree["Dense_1"] = {"kernel": jnp.zeros((200, 10)), "bias": jnp.zeros(10)}
        return tree
    a = fj.init_params(params(False), rng=0)
    b = fj.init_params(params(True), rng=0)
    for layer in a:  # adding a layer leaves the others unchanged
        for leaf in a[layer]:
            assert (np.asarray(a[layer][leaf]) == np.asarray(b[layer][leaf])).all()
    assert same_law(a["Dense_0"]["kernel"],
                    inits.lecun_normal()(jax.random.key(1), (300, 200)))
    assert not np.asarray(a["Dense_0"]["bias"]).any()
    assert (np.asarray(a["LayerNorm_0"]["scale"]) == 1).all()
    flax_embed = inits.variance_scaling(1.0, "fan_in", "normal", out_axis=0)
    assert same_law(a["Embed_0"]["embedding"], flax_embed(jax.random.key(2), (1000, 64)))
    shapes = jax.eval_shape(lambda: params(False))  # shapes alone are enough
    c = fj.init_params(shapes, rng=0, rules={"Dense_0/kernel": "zeros"})
    assert not np.asarray(c["Dense_0"]["kernel"]).any()
    assert (np.asarray(c["Embed_0"]["embedding"]) ==
            np.asarray(a["Embed_0"]["embedding"])).all()
    with pytest.raises(ValueError, match="no rule for Dense_0/weights"):
        fj.init_params({"Dense_0": {"weights": jnp.zeros((2, 2))}}, rng=0)
    with pytest.raises(TypeError, match="a rule must be"):
        fj.init_params(params(False), rng=0, rules={"*": 3})


# -- issue 25: keys refused as JAX refuses them; int shapes; jit said plainly -----------------

@pytest.mark.parametrize("key, error, words", [
    (0, TypeError, "key must be a JAX PRNG key"), (None, TypeError, "got NoneType"),
    ([0, 1], TypeError, "got list"),
    (np.zeros(2, np.float32), TypeError, "dtype uint32, got float32"),
    (np.zeros(3, np.uint32), TypeError, r"shape \(2,\).*got shape \(3,\)"),
    (np.zeros((2, 2), np.uint32), ValueError, "accepts a single key"),
    ("batched", ValueError, "accepts a single key"),
])
def test_keys_jax_refuses_are_refused(key, error, words):
    if isinstance(key, str):
        key = jax.random.split(jax.random.key(0), 2)
    with pytest.raises(error, match=words):  # JAX raises the same class for each
        fj.normal()(key, (2,))
    with pytest.raises(error):
        inits.normal()(key, (2,))


def test_int_shapes_and_both_key_kinds_work_as_in_jax():
    assert fj.normal()(jax.random.key(0), 5).shape == inits.normal()(jax.random.key(0), 5).shape
    legacy = jax.random.PRNGKey(3)
    np.testing.assert_array_equal(fj.he_normal()(legacy, (4, 3)),
                                  fj.he_normal()(jax.random.wrap_key_data(legacy), (4, 3)))


def test_under_jit_the_error_says_why():
    init = fj.normal()
    with pytest.raises(TypeError, match=r"cannot run under jax\.jit or jax\.vmap"):
        jax.jit(lambda k: init(k, (3,)))(jax.random.key(0))
    with pytest.raises(TypeError, match=r"cannot run under jax\.jit or jax\.vmap"):
        jax.vmap(lambda k: init(k, (3,)))(jax.random.split(jax.random.key(0), 2))


@pytest.mark.parametrize("make, error, words", [
    (lambda: fj.normal(-1.0), ValueError, r"^stddev must be >= 0"),
    (lambda: fj.uniform("x"), TypeError, r"^scale must be a real number"),
    (lambda: fj.truncated_normal(1.0, lower=1.0, upper=0.0), ValueError,
     r"^lower must be < upper"),
    (lambda: fj.normal(1e39)(jax.random.key(0), (2,)), ValueError, r"^stddev=1e\+39"),
    (lambda: fj.orthogonal(1e39)(jax.random.key(0), (2, 2)), ValueError, r"^scale=1e\+39"),
    (lambda: fj.constant("a"), TypeError, r"^value must be a real number"),
])
def test_jax_errors_use_the_makers_words(make, error, words):
    with pytest.raises(error, match=words) as caught:
        make()
    assert not re.search(r"\b(std|low|high|gain)\b", str(caught.value)), caught.value


def test_zero_d_arrays_are_numbers_as_in_jax():
    key = jax.random.key(0)
    np.testing.assert_array_equal(fj.normal(jnp.array(0.5))(key, (3,)), fj.normal(0.5)(key, (3,)))
    np.testing.assert_array_equal(fj.uniform(np.float32(2.0))(key, (3,)),
                                  fj.uniform(2.0)(key, (3,)))


# -- issue 30: JAX's axes, fan_geo_avg, delta_orthogonal -------------------------------------

@pytest.mark.parametrize("args, shape", [
    ((2.0, "fan_in", "truncated_normal", -2, -1, 0), (6, 300, 40)),  # a batch axis
    ((1.0, "fan_avg", "uniform", (0, 1), -1), (20, 15, 40)),  # several in axes multiply
    ((1.0, "fan_out", "normal", -1, 0), (300, 20)),  # axes swapped
    ((3.0, "fan_geo_avg", "normal"), (400, 25)),
    ((0.5, "fan_geo_avg", "truncated_normal", -2, -1, ()), (3, 3, 32, 64)),
])
def test_variance_scaling_takes_jaxs_axes_and_modes(args, shape):
    theirs = inits.variance_scaling(*args)(jax.random.key(0), shape)
    ours = fj.variance_scaling(*args)(jax.random.key(1), shape)
    assert ours.shape == shape and same_law(ours, theirs)
    assert fj.compute_fans(shape, *args[3:]) == jax._src.nn.initializers._compute_fans(
        shape, *args[3:])


def test_default_axes_draw_the_values_they_always_drew():
    import fastinit
    key = jax.random.key(5)
    seed = fj.key_seed(key)
    for shape in [(30, 20), (3, 3, 8, 16)]:
        np.testing.assert_array_equal(
            fj.he_normal()(key, shape),
            fastinit.variance_scaling(shape, scale=2.0, mode="fan_in", rng=seed,
                                      distribution="truncated_normal", dtype="float32"))
        np.testing.assert_array_equal(
            fj.glorot_uniform()(key, shape),
            fastinit.variance_scaling(shape, scale=1.0, mode="fan_avg", rng=seed,
                                      distribution="uniform", dtype="float32"))


@pytest.mark.parametrize("shape", [(3, 16, 32), (3, 5, 8, 8), (3, 3, 3, 4, 6)])
def test_delta_orthogonal_is_jaxs(shape):
    ours = np.asarray(fj.delta_orthogonal(scale=2.0)(jax.random.key(0), shape))
    theirs = np.asarray(inits.delta_orthogonal(scale=2.0)(jax.random.key(0), shape))
    centre = tuple((k - 1) // 2 for k in shape[:-2])
    assert (np.count_nonzero(ours) == np.count_nonzero(ours[centre]) ==
            np.count_nonzero(theirs[centre]))  # zero away from the centre, as JAX's
    q = ours[centre] / 2.0
    np.testing.assert_allclose(q @ q.T, np.eye(shape[-2]), atol=1e-5)  # orthonormal rows
    with pytest.raises(ValueError, match="3D, 4D or 5D"):
        fj.delta_orthogonal()(jax.random.key(0), (4, 4))
    with pytest.raises(ValueError, match="fan_in"):
        fj.delta_orthogonal()(jax.random.key(0), (3, 8, 4))

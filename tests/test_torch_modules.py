"""fastinit.torch: whole PyTorch modules initialized with PyTorch's own default laws (checked
against torch's reset_parameters by a two-sample KS test at fixed seeds, or exactly where the
default is deterministic), streams keyed by parameter name, user rules, meta-device models,
and torch tensors as out= (fans in torch's layout: the shape trap)."""
import copy
import math

import numpy as np
import pytest
from scipy import stats

import fastinit
from conftest import same_law

torch = pytest.importorskip("torch")
nn = torch.nn
ft = pytest.importorskip("fastinit.torch")




LAYERS = {
    "Linear": lambda: nn.Linear(300, 200),
    "Conv1d": lambda: nn.Conv1d(16, 64, 5),
    "Conv2d": lambda: nn.Conv2d(16, 32, 3, groups=2),
    "Conv3d": lambda: nn.Conv3d(8, 16, 3),
    "ConvTranspose2d": lambda: nn.ConvTranspose2d(32, 16, 3),
    "Bilinear": lambda: nn.Bilinear(30, 40, 50),
    "Embedding": lambda: nn.Embedding(500, 64, padding_idx=3),
    "LayerNorm": lambda: nn.LayerNorm(64),
    "BatchNorm2d": lambda: nn.BatchNorm2d(32),
    "GroupNorm": lambda: nn.GroupNorm(4, 32),
    "RMSNorm": lambda: nn.RMSNorm(48),
    "PReLU": lambda: nn.PReLU(8, init=0.3),
    "MultiheadAttention": lambda: nn.MultiheadAttention(64, 4, add_bias_kv=True),
    "MultiheadAttention kdim": lambda: nn.MultiheadAttention(64, 4, kdim=32, vdim=48),
    "LSTM": lambda: nn.LSTM(40, 64, num_layers=2),
    "GRU": lambda: nn.GRU(40, 64, bidirectional=True),
    "TransformerEncoderLayer": lambda: nn.TransformerEncoderLayer(64, 4, 128),
    "Transformer": lambda: nn.Transformer(32, 2, 1, 1, 64),
}


@pytest.mark.filterwarnings("ignore::UserWarning")  # nn.Transformer's nested-tensor note
@pytest.mark.parametrize("layer", sorted(LAYERS))
def test_default_laws_are_torchs(layer):
    torch.manual_seed(0)
    theirs = LAYERS[layer]()  # torch ran its reset_parameters
    ours = copy.deepcopy(theirs)
    with torch.no_grad():
        for p in ours.parameters():
            p.fill_(math.nan)
    assert ft.init_module(ours, rng=1) is ours
    mine = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        assert not torch.isnan(mine[name]).any(), name
        assert same_law(mine[name], p), (layer, name)
    if layer == "Embedding":
        assert not mine["weight"][3].any()  # the padding row is zero, as torch's


def test_streams_are_keyed_by_name_and_not_by_thread_count():
    def model(extra):
        layers = {"encoder": nn.Linear(64, 32), "decoder": nn.Linear(32, 8)}
        if extra:
            layers["middle"] = nn.Linear(32, 32)
        return nn.ModuleDict(layers)
    a = dict(ft.init_module(model(False), rng=5).named_parameters())
    b = dict(ft.init_module(model(True), rng=5, num_threads=1).named_parameters())
    for name in a:  # a layer added: the others keep their values
        assert torch.equal(a[name], b[name]), name
    c = dict(ft.init_module(model(True), rng=5, num_threads=2).named_parameters())
    assert all(torch.equal(b[name], c[name]) for name in b)
    # each parameter is the scheme's fill from the stream of its name
    from fastinit.seeding import named_child
    expected = fastinit.uniform((32, 64), low=-1 / 8, high=1 / 8,
                                rng=named_child(np.random.SeedSequence(5), "encoder.weight"),
                                dtype="float32")
    np.testing.assert_array_equal(a["encoder.weight"].detach().numpy(), expected)
    d = dict(ft.init_module(model(False), seed=6).named_parameters())
    assert not torch.equal(a["encoder.weight"], d["encoder.weight"])


def test_a_meta_model_materialised_with_to_empty():
    with torch.device("meta"):
        model = nn.Sequential(nn.Linear(256, 512), nn.LayerNorm(512), nn.Linear(512, 10))
    model = ft.init_module(model.to_empty(device="cpu"), rng=0)
    assert all(not torch.isnan(p).any() for p in model.parameters())
    assert torch.equal(model[1].weight, torch.ones(512))
    assert model[0].weight.abs().max() <= 1 / 16


def test_rules_by_name_pattern_and_module_type():
    model = nn.Sequential(nn.Linear(100, 50), nn.ReLU(), nn.Linear(50, 10), nn.LayerNorm(10))
    rules = {"*.bias": 0.0, nn.Linear: {"weight": "he_normal"},
             nn.LayerNorm: "normal:std=0.5"}
    chosen = ft.parameter_rules(model, rules)
    assert chosen["0.bias"] == fastinit.get_initializer("constant", value=0.0)
    assert chosen["0.weight"] == fastinit.get_initializer("he_normal")
    assert chosen["3.weight"] == fastinit.get_initializer("normal", std=0.5)
    assert chosen["3.bias"] == chosen["0.bias"]  # the pattern comes first
    ft.init_module(model, rules, rng=3)
    w = model[0].weight.detach().numpy()
    assert w.std() == pytest.approx(math.sqrt(2 / 100), rel=0.05)  # fan_in of (out, in): 100
    assert not model[2].bias.any()


def test_what_init_module_refuses():
    class Custom(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(torch.empty(3))
    with pytest.raises(ValueError, match=r"no rule for 1.scale \(Custom\)"):
        ft.parameter_rules(nn.Sequential(nn.Linear(2, 3), Custom()))
    with pytest.raises(TypeError, match="rules keys must be"):
        ft.parameter_rules(nn.Linear(2, 2), {3: "zeros"})
    with pytest.raises(TypeError, match="a rule must be"):
        ft.parameter_rules(nn.Linear(2, 2), {"*": [1]})
    with pytest.raises(TypeError, match="give rng= or seed="):
        ft.init_module(nn.Linear(2, 2), rng=1, seed=1)


def test_the_pytorch_shape_trap_is_gone():
    layer = nn.Linear(784, 256)
    assert fastinit.he_normal(out=layer.weight, rng=0) is layer.weight
    w = layer.weight.detach().numpy().astype(np.float64).ravel()
    # the law is N(0, 2/784): fan_in read from torch's (out, in) layout, not 256
    assert stats.kstest(w, "norm", args=(0, math.sqrt(2 / 784))).pvalue > 1e-3
    conv = nn.Conv2d(16, 32, 3)
    fastinit.xavier_uniform(out=conv.weight, rng=1)
    assert conv.weight.abs().max() < math.sqrt(6 / (16 * 9 + 32 * 9))
    assert conv.weight.abs().max() > 0.99 * math.sqrt(6 / (16 * 9 + 32 * 9))


LAW_SCHEMES = [name for name in fastinit.initializers.SCHEMES
               if name not in ("orthogonal", "identity", "dirac", "sparse")]
PARAMS = {"constant": {"value": 0.5}, "uniform": {"low": -2.0, "high": 3.0}}


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("name", LAW_SCHEMES)
def test_tensor_shards_equal_the_whole(name, dtype):
    scheme = getattr(fastinit, name)
    params = PARAMS.get(name, {})
    whole = scheme(out=torch.empty(64, 48, dtype=dtype), rng=2, **params)
    shards = [scheme((64, 48), rng=2, out=torch.empty(64, 12, dtype=dtype),
                     region=(slice(None), slice(c, c + 12)), **params)
              for c in range(0, 48, 12)]  # column shards, as tensor parallelism cuts them
    assert torch.equal(torch.cat(shards, dim=1), whole)
    assert torch.equal(fastinit.kaiming_uniform_(torch.empty(64, 48), a=math.sqrt(5), seed=2),
                       fastinit.he_uniform(out=torch.empty(64, 48), a=math.sqrt(5), rng=2))


# -- issue 25: what init_module sets beyond parameters, and the errors it gives ----------------

META_LAYERS = {**LAYERS,
               "BatchNorm1d": lambda: nn.BatchNorm1d(4),
               "InstanceNorm1d stats": lambda: nn.InstanceNorm1d(6, affine=True,
                                                                 track_running_stats=True),
               "BatchNorm3d no stats": lambda: nn.BatchNorm3d(5, track_running_stats=False),
               "LSTMCell": lambda: nn.LSTMCell(12, 20)}


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("layer", sorted(META_LAYERS))
def test_meta_to_empty_leaves_no_buffer_uninitialised(layer):
    """The README's recipe: built on the meta device, materialised by to_empty (garbage
    memory), then init_module: every buffer equals what torch's own construction sets."""
    torch.manual_seed(0)
    theirs = META_LAYERS[layer]()
    with torch.device("meta"):
        ours = META_LAYERS[layer]()
    ours = ours.to_empty(device="cpu")
    for buffer in ours.buffers():  # as to_empty may leave it: anything at all
        buffer.copy_(torch.full_like(buffer, 7.5e31) if buffer.is_floating_point() else
                     torch.full_like(buffer, 140186083475176))
    ft.init_module(ours, rng=0)
    mine = dict(ours.named_buffers())
    assert mine.keys() == dict(theirs.named_buffers()).keys()
    for name, buffer in theirs.named_buffers():
        assert torch.equal(mine[name], buffer), (layer, name, mine[name])
    assert all(torch.isfinite(p).all() for p in ours.parameters())


@pytest.mark.parametrize("cell", ["RNNCell", "LSTMCell", "GRUCell"])
def test_recurrent_cells_get_torchs_default_law(cell):
    torch.manual_seed(0)
    theirs = getattr(nn, cell)(30, 64)
    ours = ft.init_module(copy.deepcopy(theirs), rng=2)
    mine = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():  # U(+-1/sqrt(hidden_size)) everywhere
        assert same_law(mine[name], p), (cell, name)
        assert mine[name].abs().max() <= 1 / 8


@pytest.mark.filterwarnings("ignore:Initializing zero-element")
def test_zero_size_layers_are_a_no_op_as_in_torch():
    torch.manual_seed(0)
    theirs = nn.Linear(0, 5)  # torch warns and leaves the weight; the bias bound is 0
    ours = ft.init_module(nn.Linear(0, 5), rng=0)
    assert torch.equal(ours.bias, theirs.bias) and ours.weight.shape == (5, 0)
    ft.init_module(nn.Sequential(nn.Embedding(0, 4), nn.Conv2d(0, 3, 1)), rng=0)


def test_channels_last_and_float_like_rules_are_accepted():
    model = nn.Conv2d(8, 16, 3).to(memory_format=torch.channels_last)
    ft.init_module(model, {"bias": np.float32(0.5)}, rng=4)
    plain = ft.init_module(nn.Conv2d(8, 16, 3), {"bias": 0.5}, rng=4)
    assert torch.equal(model.weight.contiguous(), plain.weight)
    assert model.weight.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(model.bias, torch.full((16,), 0.5))


def test_init_module_errors_name_what_the_user_passed():
    with pytest.raises(TypeError, match="module must be a torch.nn.Module, got dict"):
        ft.init_module({"weight": torch.empty(3)}, rng=0)
    with pytest.raises(TypeError, match="rules must be a dict"):
        ft.init_module(nn.Linear(2, 2), 5, rng=0)
    with torch.device("meta"):
        meta = nn.Sequential(nn.Linear(4, 4))
    with pytest.raises(ValueError, match=r"0\.weight is on the meta device.*to_empty"):
        ft.init_module(meta, rng=0)

    class Counter(nn.Module):
        def __init__(self):
            super().__init__()
            self.steps = nn.Parameter(torch.zeros(3, dtype=torch.int64), requires_grad=False)
    with pytest.raises(TypeError, match=r"steps has dtype torch\.int64"):
        ft.init_module(Counter(), {"steps": 0.0}, rng=0)
    layer = nn.Linear(3, 3)
    before = layer.weight.detach().clone()
    with pytest.raises(ValueError, match=r"^bias \(Initializer\('orthogonal'\)\): .*2 dim"):
        ft.init_module(layer, {"*": "orthogonal"}, rng=0)
    assert torch.equal(layer.weight, before)  # checked before anything was written
    with pytest.raises(ValueError, match=r"'\*\.bais' matches no parameter; closest names: "
                                         r"0\.bias"):
        ft.init_module(nn.Sequential(nn.Linear(2, 2)), {"*.bais": 0.0}, rng=0)
    with pytest.raises(ValueError, match="Conv2d matches nothing"):
        ft.init_module(nn.Linear(2, 2), {nn.Conv2d: "zeros"}, rng=0)


# -- issue 34: behaviours pinned from torch's documentation -----------------------------------

@pytest.mark.parametrize("make, fan_in", [
    (lambda: nn.Linear(784, 16), 784),
    (lambda: nn.Linear(16, 784), 16),
    (lambda: nn.Conv2d(3, 64, 7), 3 * 7 * 7),
    (lambda: nn.Conv1d(64, 4, 3), 64 * 3),
    (lambda: nn.Conv2d(8, 32, 3, groups=4), 2 * 3 * 3),
], ids=["Linear(784,16)", "Linear(16,784)", "Conv2d(3,64,7)", "Conv1d(64,4,3)",
        "Conv2d(8,32,3,groups=4)"])
def test_default_linear_and_conv_laws_read_fan_in_from_torchs_layout(make, fan_in):
    # torch's documentation: Linear and Conv weights and biases ~ U(-k, k), k = 1/sqrt(fan_in),
    # fan_in = in_features (Conv: in_channels / groups * prod(kernel_size)), read from dim 1 of
    # the (out, in, *kernel) weight. Every layer here has fan_out >= 4x fan_in or <= fan_in/4,
    # so a fan read from the wrong dimension moves the bound by 2x or more.
    layer = make()
    ft.init_module(layer, rng=3)
    bound = 1 / math.sqrt(fan_in)
    for name, p in layer.named_parameters():
        values = p.detach().double().numpy().ravel()
        assert np.abs(values).max() <= bound, name
        # U(-k, k) itself, by a KS test against the exact uniform distribution
        assert stats.kstest(values, stats.uniform(-bound, 2 * bound).cdf).pvalue > 1e-3, name


def test_embedding_padding_row_zero_at_index_0():
    # torch: "the entries at padding_idx do not contribute to the gradient ... initialized to
    # zeros"; index 0 is a padding index like any other (not "no padding")
    layer = nn.Embedding(200, 32, padding_idx=0)
    with torch.no_grad():
        layer.weight.fill_(7.0)
    ft.init_module(layer, rng=2)
    weight = layer.weight.detach().double().numpy()
    assert not weight[0].any()
    assert (weight[1:] != 0).all()
    assert stats.kstest(weight[1:].ravel(), "norm").pvalue > 1e-3  # N(0, 1), torch's default

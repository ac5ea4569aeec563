"""fastinit.torch.lsuv (issue 33): against a hand-written LSUV loop, and on a ResNet-style model
and a Transformer encoder."""
import math

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import fastinit  # noqa: E402
import fastinit.torch as ft  # noqa: E402
from fastinit.seeding import named_child, seed_sequence  # noqa: E402


def hand_lsuv(model, x, tol, max_iter, seed):
    """Mishkin & Matas' algorithm as the paper writes it: orthogonal weights, then per layer
    in forward order: forward, v = Var(output), W /= sqrt(v), until |v - 1| < tol."""
    layers = [(n, m) for n, m in model.named_modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    with torch.no_grad():
        for name, m in layers:
            flat = m.weight.reshape(m.weight.shape[0], -1)
            q = fastinit.orthogonal(tuple(flat.shape), layout="out_in", dtype="float32",
                                    rng=named_child(seed_sequence(seed), f"{name}.weight"))
            m.weight.copy_(torch.from_numpy(q).reshape(m.weight.shape))
        for name, m in layers:
            for _ in range(max_iter):
                captured = {}
                handle = m.register_forward_hook(lambda mod, i, o: captured.update(o=o))
                model(x)
                handle.remove()
                v = float(captured["o"].double().var())
                if abs(v - 1) < tol:
                    break
                m.weight.div_(math.sqrt(v))


def mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(20, 64), nn.Tanh(), nn.Linear(64, 32), nn.ReLU(),
                         nn.Linear(32, 10))


def test_lsuv_is_the_papers_loop():
    x = torch.randn(256, 20, generator=torch.Generator().manual_seed(1))
    ours, theirs = mlp(), mlp()
    ours.eval(), theirs.eval()
    ft.lsuv(ours, x, rng=7)
    hand_lsuv(theirs, x, tol=0.1, max_iter=10, seed=7)
    for a, b in zip(ours.parameters(), theirs.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c)
        self.c2, self.b2 = nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c)

    def forward(self, x):
        return torch.relu(x + self.b2(self.c2(torch.relu(self.b1(self.c1(x))))))


def outputs_variance(model, x):
    seen = {}
    handles = [m.register_forward_hook(lambda mod, i, o, n=n: seen.__setitem__(n, o))
               for n, m in model.named_modules() if isinstance(m, ft.LSUV_LAYERS)]
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return {n: float(o.double().var()) for n, o in seen.items()}


@pytest.mark.parametrize("kind", ["resnet", "transformer"])
def test_every_layer_reaches_unit_variance_within_ten_passes(kind):
    torch.manual_seed(0)
    if kind == "resnet":
        model = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), Block(16), Block(16),
                              nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))
        x = torch.randn(256, 3, 16, 16)
    else:
        model = nn.TransformerEncoder(nn.TransformerEncoderLayer(64, 4, 128, batch_first=True),
                                      2, enable_nested_tensor=False)
        x = torch.randn(256, 10, 64)
    model.train()
    report = ft.lsuv(model, x, rng=0)
    assert model.training and all(m.training for m in model.modules())  # mode restored
    model.eval()
    measured = outputs_variance(model, x)
    reached = {n: v for n, v in report.items() if v[1] > 0}
    assert len(reached) >= (6 if kind == "resnet" else 4)
    for name, (variance, passes) in reached.items():
        assert passes <= 10 and abs(variance - 1) < 0.1, name
        # the returned variance is the model's, measured again here: the later layers'
        # rescaling does not move an earlier layer's output
        assert measured[name] == pytest.approx(variance, rel=1e-6), name
    if kind == "transformer":  # MultiheadAttention calls out_proj's weight, not the module
        assert all(math.isnan(report[n][0]) for n in report if n.endswith("out_proj"))


def test_lsuv_refuses_what_it_cannot_do():
    with pytest.raises(ValueError, match="no Linear or Conv"):
        ft.lsuv(nn.Sequential(nn.ReLU()), torch.randn(2, 3))
    with pytest.raises(ValueError, match="tol"):
        ft.lsuv(mlp(), torch.randn(4, 20), tol=0)
    with pytest.raises(ValueError, match="max_iter"):
        ft.lsuv(mlp(), torch.randn(4, 20), max_iter=0)

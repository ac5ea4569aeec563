"""``torch.nn.init``'s in-place names: ``kaiming_normal_(weight, a=0, mode="fan_in",
nonlinearity="leaky_relu")`` fills its argument and returns it, with PyTorch's defaults and
PyTorch's layout (``(out, in, *kernel)``), so fans are read as torch reads them.

The argument is a NumPy array or a CPU ``torch.Tensor`` (16-, 32- or 64-bit floats: a
contiguous one is filled through ``tensor.detach().numpy()``, no copy; a channels-last or
strided one through a contiguous copy, by logical index as torch.nn.init fills it). Every
function also takes ``rng=`` (or ``seed=``) and ``num_threads=`` like the rest of fastinit: an int seed draws from
the counter-based stream, so the same seed gives the same values on any thread count.

>>> import numpy as np, fastinit
>>> w = np.empty((256, 784), np.float32)          # nn.Linear(784, 256).weight's shape
>>> _ = fastinit.kaiming_uniform_(w, a=5 ** 0.5, seed=0)   # nn.Linear's own init
>>> bool(abs(w).max() <= 1 / 784 ** 0.5)
True
"""
import warnings

from fastinit import initializers as schemes
from fastinit._validation import in_words
from fastinit.fans import OUT_IN
from fastinit.seeding import rng_or_seed
from fastinit.tensors import fill_target, is_torch_tensor

TORCH_LAYOUT = OUT_IN


def _fill(tensor, scheme, draw, names=None):
    """Fill ``tensor`` by ``scheme(out=..., **draw)`` and return it (torch's convention).
    ``names``: {fastinit's parameter name: torch's}, so that errors speak torch's words.

    As torch.nn.init: a zero-element tensor is a no-op (with torch's warning in kaiming_*);
    ``generator=`` (a torch.Generator) gives the seed, drawn from it; a torch tensor filled with neither a seed
    nor a generator draws its seed from torch's default generator, so ``torch.manual_seed(0)``
    makes the next init repeat as it does in torch."""
    if 0 in getattr(tensor, "shape", (1,)):
        if scheme in ("he_uniform", "he_normal"):  # torch warns in kaiming_* alone
            warnings.warn("Initializing zero-element tensors is a no-op", UserWarning,
                          stacklevel=3)
        return tensor
    if "rng" in draw:
        draw = dict(draw)
        generator, seed = draw.pop("generator", None), draw.pop("seed", None)
        draw["rng"] = _torch_seed(tensor, draw["rng"], seed, generator)
    try:
        with fill_target(tensor, "tensor") as target:
            schemes.SCHEMES[scheme](out=target, **draw)
    except (ValueError, TypeError) as error:
        raise in_words(error, names) from None
    return tensor


def _torch_seed(tensor, rng, seed, generator):
    """The rng of a torch-named call: rng= or seed= as given; else a 64-bit seed drawn from
    ``generator`` or, for a torch tensor, from torch's default generator (one draw, as one
    of torch's own inits advances it); else None (fresh entropy, as NumPy)."""
    rng = rng_or_seed(rng, seed)
    if generator is not None:
        if rng is not None:
            raise TypeError("give rng=/seed= or generator=, not both")
        if type(generator).__module__.split(".")[0] != "torch":
            raise TypeError(f"generator must be a torch.Generator, got "
                            f"{type(generator).__name__}")
        return _draw_seed(generator)
    if rng is None and is_torch_tensor(tensor):
        import torch
        return _draw_seed(torch.random.default_generator)
    return rng


def _draw_seed(generator):
    import torch
    return int(torch.randint(0, 2**62, (), generator=generator, dtype=torch.int64))


def _random(**draw):
    """The arguments every random torch-named function takes, for _fill."""
    return draw


def uniform_(tensor, a=0.0, b=1.0, *, rng=None, seed=None, generator=None,
             num_threads=None):
    """W ~ U[a, b)."""
    return _fill(tensor, "uniform", _random(low=a, high=b, rng=rng, seed=seed,
                                            generator=generator, num_threads=num_threads),
                 {"low": "a", "high": "b"})


def normal_(tensor, mean=0.0, std=1.0, *, rng=None, seed=None, generator=None,
            num_threads=None):
    """W ~ N(mean, std^2)."""
    return _fill(tensor, "normal", _random(mean=mean, std=std, rng=rng, seed=seed,
                                           generator=generator, num_threads=num_threads))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, *, rng=None, seed=None,
                  generator=None, num_threads=None):
    """W ~ N(mean, std^2) conditioned on a <= W <= b (absolute bounds, as torch)."""
    return _fill(tensor, "truncated_normal", _random(mean=mean, std=std, a=a, b=b, rng=rng,
                                                     seed=seed, generator=generator,
                                                     num_threads=num_threads))


def constant_(tensor, val, *, num_threads=None):
    """W = val."""
    return _fill(tensor, "constant", dict(value=val, num_threads=num_threads), {"value": "val"})


def ones_(tensor):
    """W = 1."""
    return _fill(tensor, "ones", {})


def zeros_(tensor):
    """W = 0."""
    return _fill(tensor, "zeros", {})


def eye_(tensor):
    """W = I (2-D)."""
    return _fill(tensor, "identity", {})


def dirac_(tensor, groups=1):
    """The Dirac delta of a (out, in, *kernel) convolution kernel."""
    return _fill(tensor, "dirac", dict(groups=groups, layout=TORCH_LAYOUT))


def xavier_uniform_(tensor, gain=1.0, *, rng=None, seed=None, generator=None,
                    num_threads=None):
    """W ~ U[-l, l), l = gain * sqrt(6 / (fan_in + fan_out))."""
    return _fill(tensor, "xavier_uniform", _random(gain=gain, layout=TORCH_LAYOUT, rng=rng,
                                                   seed=seed, generator=generator,
                                                   num_threads=num_threads))


def xavier_normal_(tensor, gain=1.0, *, rng=None, seed=None, generator=None,
                   num_threads=None):
    """W ~ N(0, s^2), s = gain * sqrt(2 / (fan_in + fan_out))."""
    return _fill(tensor, "xavier_normal", _random(gain=gain, layout=TORCH_LAYOUT, rng=rng,
                                                  seed=seed, generator=generator,
                                                  num_threads=num_threads))


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", *, rng=None,
                     seed=None, generator=None, num_threads=None):
    """W ~ U[-l, l), l = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a)."""
    return _fill(tensor, "he_uniform", _random(a=a, mode=mode, nonlinearity=nonlinearity,
                                               layout=TORCH_LAYOUT, rng=rng, seed=seed,
                                               generator=generator, num_threads=num_threads))


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", *, rng=None,
                    seed=None, generator=None, num_threads=None):
    """W ~ N(0, s^2), s = gain / sqrt(fan), gain = calculate_gain(nonlinearity, a)."""
    return _fill(tensor, "he_normal", _random(a=a, mode=mode, nonlinearity=nonlinearity,
                                              layout=TORCH_LAYOUT, rng=rng, seed=seed,
                                              generator=generator, num_threads=num_threads))


def orthogonal_(tensor, gain=1.0, *, rng=None, seed=None, generator=None, num_threads=None):
    """W = gain * Q, Q orthogonal, over (out, in * prod(kernel))."""
    return _fill(tensor, "orthogonal", _random(gain=gain, layout=TORCH_LAYOUT, rng=rng,
                                               seed=seed, generator=generator,
                                               num_threads=num_threads))


def sparse_(tensor, sparsity, std=0.01, *, rng=None, seed=None, generator=None,
            num_threads=None):
    """N(0, std^2), then ceil(sparsity * rows) zeros in each column (torch's counts)."""
    return _fill(tensor, "sparse", _random(sparsity=sparsity, std=std, layout=TORCH_LAYOUT,
                                           rng=rng, seed=seed, generator=generator,
                                           num_threads=num_threads))


NAMES = ["uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_",
         "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
         "orthogonal_", "sparse_"]

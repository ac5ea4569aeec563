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
from __future__ import annotations

from typing import Any
import warnings

from fastinit import initializers as schemes
from fastinit._typing import RNG
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
        return _draw_seed(torch.default_generator)
    return rng


def _draw_seed(generator):
    import torch
    return int(torch.randint(0, 2**62, (), generator=generator, dtype=torch.int64))


def _random(**draw):
    """The arguments every random torch-named function takes, for _fill."""
    return draw


# The parameters of torch.nn.init's names, described once (see initializers.numpydoc).
TORCH_PARAMETER_DOCS = {
    "tensor": """torch.Tensor or numpy.ndarray
        Filled in place: a CPU tensor of float16, bfloat16, float32 or float64 (contiguous,
        channels-last or strided), or a C-contiguous array. Fans read as torch does,
        ``(out, in, *kernel)``.""",
    ("uniform_", "a"): "float, default 0.0\n        The lower bound.",
    ("uniform_", "b"): "float, default 1.0\n        The upper bound (excluded).",
    "mean": "float, default 0.0",
    "std": "float, default 1.0\n        The standard deviation (of the law before truncation).",
    ("trunc_normal_", "a"): "float, default -2.0\n        The lower bound, absolute.",
    ("trunc_normal_", "b"): "float, default 2.0\n        The upper bound, absolute.",
    "val": "float\n        The value of every element.",
    "groups": "int, default 1\n        The number of groups the channels are split into.",
    "gain": "float, default 1.0\n        A factor on the standard deviation.",
    "a": "float, default 0.0\n        The leaky ReLU's negative slope (with nonlinearity=\"leaky_relu\").",
    "mode": """{"fan_in", "fan_out"}, default "fan_in"
        Which fan the variance is divided by.""",
    "nonlinearity": """str, default "leaky_relu"
        The gain's nonlinearity (fastinit.calculate_gain).""",
    "sparsity": "float\n        The fraction of each column's entries set to zero.",
    ("sparse_", "std"): "float, default 0.01\n        The standard deviation of the non-zero entries.",
    "rng": schemes.PARAMETER_DOCS["rng"],
    "seed": schemes.PARAMETER_DOCS["seed"],
    "generator": """torch.Generator, optional
        Draws the seed (one draw, as torch's own inits advance it). With no rng, seed or
        generator, a torch tensor's seed comes from torch's default generator, so
        ``torch.manual_seed`` repeats the init as in torch.""",
    "num_threads": schemes.PARAMETER_DOCS["num_threads"],
}
TORCH_RETURNS = """
    Returns
    -------
    torch.Tensor or numpy.ndarray
        ``tensor``, filled.
"""


def _torch_name(function):
    """A torch.nn.init name, its docstring in numpydoc sections."""
    function.__doc__ = schemes.numpydoc(function, TORCH_PARAMETER_DOCS, TORCH_RETURNS)
    return function


@_torch_name
def uniform_(tensor: Any, a: float = 0.0, b: float = 1.0, *, rng: RNG = None, seed: RNG = None,
             generator: Any = None, num_threads: int | None = None) -> Any:
    """W ~ U[a, b)."""
    return _fill(tensor, "uniform", _random(low=a, high=b, rng=rng, seed=seed,
                                            generator=generator, num_threads=num_threads),
                 {"low": "a", "high": "b"})


@_torch_name
def normal_(tensor: Any, mean: float = 0.0, std: float = 1.0, *, rng: RNG = None, seed: RNG = None,
            generator: Any = None, num_threads: int | None = None) -> Any:
    """W ~ N(mean, std^2)."""
    return _fill(tensor, "normal", _random(mean=mean, std=std, rng=rng, seed=seed,
                                           generator=generator, num_threads=num_threads))


@_torch_name
def trunc_normal_(tensor: Any, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, *, rng: RNG = None, seed: RNG = None, generator: Any = None,
                  num_threads: int | None = None) -> Any:
    """W ~ N(mean, std^2) conditioned on a <= W <= b (absolute bounds, as torch)."""
    return _fill(tensor, "truncated_normal", _random(mean=mean, std=std, a=a, b=b, rng=rng,
                                                     seed=seed, generator=generator,
                                                     num_threads=num_threads))


@_torch_name
def constant_(tensor: Any, val: float, *, num_threads: int | None = None) -> Any:
    """W = val."""
    return _fill(tensor, "constant", dict(value=val, num_threads=num_threads), {"value": "val"})


@_torch_name
def ones_(tensor: Any) -> Any:
    """W = 1."""
    return _fill(tensor, "ones", {})


@_torch_name
def zeros_(tensor: Any) -> Any:
    """W = 0."""
    return _fill(tensor, "zeros", {})


@_torch_name
def eye_(tensor: Any) -> Any:
    """W = I (2-D)."""
    return _fill(tensor, "identity", {})


@_torch_name
def dirac_(tensor: Any, groups: int = 1) -> Any:
    """The Dirac delta of a (out, in, *kernel) convolution kernel."""
    return _fill(tensor, "dirac", dict(groups=groups, layout=TORCH_LAYOUT))


@_torch_name
def xavier_uniform_(tensor: Any, gain: float = 1.0, *, rng: RNG = None, seed: RNG = None,
                    generator: Any = None, num_threads: int | None = None) -> Any:
    """W ~ U[-l, l), l = gain * sqrt(6 / (fan_in + fan_out))."""
    return _fill(tensor, "xavier_uniform", _random(gain=gain, layout=TORCH_LAYOUT, rng=rng,
                                                   seed=seed, generator=generator,
                                                   num_threads=num_threads))


@_torch_name
def xavier_normal_(tensor: Any, gain: float = 1.0, *, rng: RNG = None, seed: RNG = None,
                   generator: Any = None, num_threads: int | None = None) -> Any:
    """W ~ N(0, s^2), s = gain * sqrt(2 / (fan_in + fan_out))."""
    return _fill(tensor, "xavier_normal", _random(gain=gain, layout=TORCH_LAYOUT, rng=rng,
                                                  seed=seed, generator=generator,
                                                  num_threads=num_threads))


@_torch_name
def kaiming_uniform_(tensor: Any, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", *, rng: RNG = None, seed: RNG = None,
                     generator: Any = None, num_threads: int | None = None) -> Any:
    """W ~ U[-l, l), l = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a)."""
    return _fill(tensor, "he_uniform", _random(a=a, mode=mode, nonlinearity=nonlinearity,
                                               layout=TORCH_LAYOUT, rng=rng, seed=seed,
                                               generator=generator, num_threads=num_threads))


@_torch_name
def kaiming_normal_(tensor: Any, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", *, rng: RNG = None, seed: RNG = None,
                    generator: Any = None, num_threads: int | None = None) -> Any:
    """W ~ N(0, s^2), s = gain / sqrt(fan), gain = calculate_gain(nonlinearity, a)."""
    return _fill(tensor, "he_normal", _random(a=a, mode=mode, nonlinearity=nonlinearity,
                                              layout=TORCH_LAYOUT, rng=rng, seed=seed,
                                              generator=generator, num_threads=num_threads))


@_torch_name
def orthogonal_(tensor: Any, gain: float = 1.0, *, rng: RNG = None, seed: RNG = None,
                generator: Any = None, num_threads: int | None = None) -> Any:
    """W = gain * Q, Q orthogonal, over (out, in * prod(kernel))."""
    return _fill(tensor, "orthogonal", _random(gain=gain, layout=TORCH_LAYOUT, rng=rng,
                                               seed=seed, generator=generator,
                                               num_threads=num_threads))


@_torch_name
def sparse_(tensor: Any, sparsity: float, std: float = 0.01, *, rng: RNG = None, seed: RNG = None,
            generator: Any = None, num_threads: int | None = None) -> Any:
    """N(0, std^2), then ceil(sparsity * rows) zeros in each column (torch's counts)."""
    return _fill(tensor, "sparse", _random(sparsity=sparsity, std=std, layout=TORCH_LAYOUT,
                                           rng=rng, seed=seed, generator=generator,
                                           num_threads=num_threads))


NAMES = ["uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_",
         "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
         "orthogonal_", "sparse_"]

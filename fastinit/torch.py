"""Initialize PyTorch modules (``pip install torch``; imported only when used).

``init_module(model, rng=0)`` fills every parameter of a module tree in place, with PyTorch's
own default law for each layer type (the laws of ``reset_parameters``) or with your ``rules``,
from fastinit's counter-based stream:

- each parameter draws from its own stream, keyed by the seed and its qualified name
  (``"encoder.layers.3.linear1.weight"``; fastinit.seeding.named_child): adding or removing a
  layer leaves every other parameter's values unchanged, and the values do not depend on the
  thread count;
- a model built on ``device="meta"`` and materialised with ``to_empty(device="cpu")`` is
  initialized without ever running torch's own init.

>>> import torch, fastinit.torch
>>> model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(),
...                             torch.nn.Linear(256, 10))
>>> _ = fastinit.torch.init_module(model, rng=0)
>>> bool(model[0].weight.abs().max() <= 1 / 784 ** 0.5)   # nn.Linear's U(+-1/sqrt(fan_in))
True
"""
from __future__ import annotations

import difflib
import fnmatch
import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from fastinit import text_specs
from fastinit._typing import RNG
from fastinit.fans import OUT_IN
from fastinit.initializers import Initializer, get_initializer
from fastinit.laws import kernel_params
from fastinit.tensors import tensor_buffer
from fastinit.seeding import named_child, rng_or_seed, seed_sequence

__all__ = ["default_rules", "init_module", "lsuv", "parameter_rules"]


def _uniform(bound):
    return get_initializer("uniform", low=-bound, high=bound) if bound > 0 else \
        get_initializer("zeros")


def _fan_in(weight):
    """torch's fan_in of a weight: size(1) * receptive field (dimension 1 of the tensor)."""
    return weight.shape[1] * math.prod(weight.shape[2:]) if weight.dim() >= 2 else 0


def _kaiming_sqrt5(module):
    """nn.Linear's and nn.ConvNd's reset_parameters: kaiming_uniform_(a=sqrt(5)) on the
    weight, which is U(+-1/sqrt(fan_in)), and U(+-1/sqrt(fan_in)) on the bias."""
    bound = 1 / math.sqrt(_fan_in(module.weight)) if _fan_in(module.weight) > 0 else 0.0
    return {"weight": get_initializer("he_uniform", a=math.sqrt(5), layout=OUT_IN),
            "bias": _uniform(bound)}


def _ones_zeros(module):
    return {"weight": get_initializer("ones"), "bias": get_initializer("zeros")}


def _multihead_attention(module):
    # nn.MultiheadAttention._reset_parameters; out_proj is an nn.Linear, initialized as one
    xavier = get_initializer("xavier_uniform", layout=OUT_IN)
    rules = {"in_proj_weight": xavier, "q_proj_weight": xavier, "k_proj_weight": xavier,
             "v_proj_weight": xavier, "in_proj_bias": get_initializer("zeros"),
             "bias_k": get_initializer("xavier_normal", layout=OUT_IN),
             "bias_v": get_initializer("xavier_normal", layout=OUT_IN)}
    if module.in_proj_bias is not None:  # and it zeroes its out_proj's bias
        rules["out_proj.bias"] = get_initializer("zeros")
    return rules


def _transformer(module):
    # nn.Transformer._reset_parameters: xavier_uniform_ on every parameter of 2 or more
    # dimensions, below it
    xavier = get_initializer("xavier_uniform", layout=OUT_IN)
    return {name: xavier for name, p in module.named_parameters() if p.dim() > 1}


def _recurrent(module):
    # nn.RNNBase's and nn.RNNCellBase's reset_parameters: every weight and bias
    # U(+-1/sqrt(hidden_size))
    bound = 1 / math.sqrt(module.hidden_size) if module.hidden_size > 0 else 0.0
    return {name: _uniform(bound) for name, _ in module.named_parameters(recurse=False)}


def _bilinear(module):
    bound = 1 / math.sqrt(module.weight.shape[1])
    return {"weight": _uniform(bound), "bias": _uniform(bound)}


DEFAULTS = [
    ((nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d,
      nn.ConvTranspose3d), _kaiming_sqrt5),
    ((nn.Bilinear,), _bilinear),
    ((nn.Embedding, nn.EmbeddingBag), lambda m: {"weight": get_initializer("normal")}),
    ((nn.LayerNorm, nn.GroupNorm, nn.modules.batchnorm._NormBase, nn.RMSNorm), _ones_zeros),
    ((nn.MultiheadAttention,), _multihead_attention),
    ((nn.Transformer,), _transformer),
    ((nn.RNNBase, nn.RNNCellBase), _recurrent),
    ((nn.PReLU,), lambda m: {"weight": get_initializer("constant", value=m.init)}),
]


def default_rules(module: Any) -> dict[str, Initializer] | None:
    """{parameter name: Initializer} of PyTorch's own initialization of ``module`` (its
    reset_parameters), or None for a layer type fastinit does not know. A dotted name is a
    parameter below it that its reset changes after the child's own (MultiheadAttention's
    out_proj.bias, nn.Transformer's matrices).

    Parameters
    ----------
    module : torch.nn.Module
        One layer.

    Returns
    -------
    dict or None
        {parameter name: Initializer}, or None for an unknown layer type.
    """
    for types, rules in DEFAULTS:
        if isinstance(module, types):
            return rules(module)
    return None


def _defaults(module):
    """{qualified name: Initializer} of PyTorch's initialization of the whole tree: each
    module's defaults for its own parameters, then the overrides of its ancestors (which reset
    after their children), and the names with no default."""
    chosen, missing, overrides = {}, [], []
    for prefix, sub in module.named_modules():
        defaults = default_rules(sub)
        for name, _ in sub.named_parameters(recurse=False):
            qualified = f"{prefix}.{name}" if prefix else name
            if defaults and name in defaults:
                chosen[qualified] = defaults[name]
            else:
                missing.append(f"{qualified} ({type(sub).__name__})")
        for name, init in (defaults or {}).items():
            if "." in name:
                overrides.append((f"{prefix}.{name}" if prefix else name, init))
    for qualified, init in reversed(overrides):  # an outer module's reset runs last
        chosen[qualified] = init
    missing = [m for m in missing if m.split(" ")[0] not in chosen]
    return chosen, missing


def _as_initializer(rule, where):
    if isinstance(rule, Initializer):
        return rule
    if isinstance(rule, numbers.Real) and not isinstance(rule, (bool, np.bool_)):
        return get_initializer("constant", value=float(rule))  # np.float32(0.5) too
    if isinstance(rule, str):
        return text_specs.initializer(rule, where)
    raise TypeError(f"{where}: a rule must be an initializer spec (str), a fastinit "
                    f"Initializer or a number, got {type(rule).__name__}")


def parameter_rules(module: Any, rules: Mapping[Any, Any] | None = None
                    ) -> dict[str, Initializer]:
    """{qualified parameter name: Initializer} for every parameter of ``module``: the first
    matching rule of ``rules``, else PyTorch's default for the parameter's layer type. A
    parameter with neither is a ValueError naming it.

    Parameters
    ----------
    module : torch.nn.Module
        The model.
    rules : mapping, optional
        {a glob over qualified names like ``"*.bias"``, or a module type mapped to {parameter
        name: rule} or to one rule for all its parameters: a rule}; a rule is a spec string,
        an Initializer or a number.

    Returns
    -------
    dict
        {qualified parameter name: Initializer}.
    """
    _check_module(module)
    if rules is None:
        rules = {}
    if not isinstance(rules, Mapping):
        raise TypeError(f"rules must be a dict of {{name pattern or module type: rule}}, got "
                        f"{type(rules).__name__}")
    rules = dict(rules)
    patterns = {k: v for k, v in rules.items() if isinstance(k, str)}
    by_type = {k: v for k, v in rules.items() if isinstance(k, type)}
    unknown = [k for k in rules if not isinstance(k, (str, type))]
    if unknown:
        raise TypeError(f"rules keys must be name patterns (str) or module types, got "
                        f"{unknown[0]!r}")
    chosen, missing = _defaults(module)
    used = set()
    for prefix, sub in module.named_modules():
        for name, _ in sub.named_parameters(recurse=False):
            qualified = f"{prefix}.{name}" if prefix else name
            key, rule = _matching_rule(qualified, name, sub, patterns, by_type)
            if key is not None:
                used.add(key)
            if rule is not None:
                chosen[qualified] = _as_initializer(rule, qualified)
    _check_all_rules_used(module, rules, used)
    missing = [m for m in missing if m.split(" ")[0] not in chosen]
    if missing:
        raise ValueError(f"no rule for {', '.join(missing)}: fastinit knows PyTorch's default "
                         "only for its standard layers; give rules={...} for these")
    return chosen


def _matching_rule(qualified, name, module, patterns, by_type):
    """(the rules key that matches, its rule for this parameter), or (None, None)."""
    for pattern, rule in patterns.items():
        if fnmatch.fnmatchcase(qualified, pattern):
            return pattern, rule
    for kind, rule in by_type.items():
        if isinstance(module, kind):
            return kind, (rule.get(name) if isinstance(rule, dict) else rule)
    return None, None


def _check_all_rules_used(module, rules, used):
    """A rule that matches no parameter is a typo ("*.bais"): a ValueError naming it and the
    closest parameter names."""
    for key in rules:
        if key in used:
            continue
        names = [n for n, _ in module.named_parameters()]
        if isinstance(key, type):
            raise ValueError(f"rules: no parameter of {module.__class__.__name__} is in a "
                             f"{key.__name__} layer (the rule for {key.__name__} matches "
                             "nothing)")
        close = difflib.get_close_matches(key, names, n=3, cutoff=0.3)
        hint = f"; closest names: {', '.join(close)}" if close else ""
        raise ValueError(f"rules: the pattern {key!r} matches no parameter{hint}")


def _check_module(module):
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")


def init_module(module: Any, rules: Mapping[Any, Any] | None = None, rng: RNG = None, *,
                seed: RNG = None, num_threads: int | None = None) -> Any:
    """Fill every parameter of ``module`` in place (see parameter_rules for what each gets),
    each from the stream of ``rng`` (or ``seed``) keyed by its qualified name, and reset the
    buffers its layers' own reset sets (the normalisation layers' running statistics:
    ``running_mean`` 0, ``running_var`` 1, ``num_batches_tracked`` 0), so a model built on the
    meta device and materialised with ``to_empty`` holds no uninitialised memory.

    Parameters must be CPU tensors of float16, bfloat16, float32 or float64 (contiguous,
    channels-last or strided); a zero-element parameter is left as it is (torch: a no-op).
    An error names the parameter it is about.

    Parameters
    ----------
    module : torch.nn.Module
        The model, filled in place.
    rules : mapping, optional
        As parameter_rules'.
    rng : None, int or numpy.random.SeedSequence
        Seeds every parameter's stream, keyed by its qualified name.
    seed : None, int or numpy.random.SeedSequence
        Another name for ``rng`` (give one of the two).
    num_threads : int, optional
        Threads for the fills (default: OMP_NUM_THREADS or one per core).

    Returns
    -------
    torch.nn.Module
        ``module``.
    """
    _check_module(module)
    root = seed_sequence(rng_or_seed(rng, seed))
    chosen = parameter_rules(module, rules)
    parameters = dict(module.named_parameters())
    for name, init in chosen.items():  # every parameter checked before any is written
        _check_parameter(name, init, parameters[name])
    for name, init in chosen.items():
        if parameters[name].numel() == 0:
            continue
        with torch.no_grad():
            try:
                init(out=parameters[name], rng=named_child(root, name),
                     num_threads=num_threads)
            except (ValueError, TypeError) as error:
                raise type(error)(f"{name} ({init!r}): {error}") from None
    with torch.no_grad():
        for prefix, sub in module.named_modules():
            if isinstance(sub, (nn.Embedding, nn.EmbeddingBag)) and \
                    getattr(sub, "padding_idx", None) is not None:
                sub.weight[sub.padding_idx].fill_(0)  # as nn.Embedding's reset: padding row 0
            if isinstance(sub, nn.modules.batchnorm._NormBase):
                sub.reset_running_stats()  # torch's own: no-op without running statistics
    return module


def _check_parameter(name, init, parameter):
    if parameter.device.type == "meta":
        raise ValueError(f"{name} is on the meta device: materialise the model first, e.g. "
                         "model.to_empty(device='cpu'), then init_module it")
    if parameter.device.type != "cpu":
        raise ValueError(f"{name} is on {parameter.device}: fastinit fills CPU tensors; "
                         "initialize on the CPU, then move the model")
    if str(parameter.dtype) not in ("torch.float16", "torch.bfloat16", "torch.float32",
                                    "torch.float64"):
        raise TypeError(f"{name} has dtype {parameter.dtype}: fastinit fills float16, "
                        "bfloat16, float32 and float64 parameters")
    if parameter.numel() == 0:
        return
    try:  # the scheme's checks on this shape and dtype, drawing nothing
        dtype = tensor_buffer(torch.empty(0, dtype=parameter.dtype)).dtype
        law = init.law(tuple(parameter.shape), layout=OUT_IN)
        if law is not None:
            kernel_params(law, dtype)
    except (ValueError, TypeError) as error:
        raise type(error)(f"{name} ({init!r}): {error}") from None


LSUV_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


def lsuv(model: Any, batch: Any, *, tol: float = 0.1, max_iter: int = 10, rng: RNG = None,
         seed: RNG = None, num_threads: int | None = None) -> dict[str, tuple[float, int]]:
    """Layer-sequential unit-variance initialization (Mishkin & Matas, ICLR 2016, "All you
    need is a good init"): every Linear and Conv layer's weight is first made orthogonal
    (fastinit's ``orthogonal``, the (out, in, *kernel) weight seen as out x rest, from the
    stream of ``rng`` keyed by the parameter's name), then, layer by layer in the order the
    forward pass reaches them, divided by the standard deviation of its output on ``batch``
    until that output's variance is within ``tol`` of 1 or ``max_iter`` passes are done.
    Biases are left as they are. The model is put in eval mode for the passes (dropout off,
    normalisation on its running statistics) and left in the mode it was in. A layer whose
    module the forward pass never calls (MultiheadAttention's ``out_proj``, whose weight it
    uses directly) keeps its orthogonal weight and is reported as (nan, 0).

    Parameters
    ----------
    model : torch.nn.Module
        The model, changed in place.
    batch : torch.Tensor or tuple
        What ``model(batch)`` (or ``model(*batch)`` for a tuple) is called with.
    tol : float, default 0.1
        |variance - 1| at which a layer is done.
    max_iter : int, default 10
        Forward passes per layer at most.
    rng : None, int or numpy.random.SeedSequence
        Seeds the orthogonal weights, keyed by each weight's qualified name.
    seed : None, int or numpy.random.SeedSequence
        Another name for ``rng`` (give one of the two).
    num_threads : int, optional
        Threads for the orthogonal fills.

    Returns
    -------
    dict
        Per layer (qualified name): (its output's variance at the end, passes it took).
    """
    _check_module(model)
    tol = float(tol)
    if not tol > 0:
        raise ValueError(f"tol must be positive, got {tol}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, numbers.Integral) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}")
    root = seed_sequence(rng_or_seed(rng, seed))
    layers = [(name, module) for name, module in model.named_modules()
              if isinstance(module, LSUV_LAYERS)]
    if not layers:
        raise ValueError("lsuv found no Linear or Conv layer in the model")
    for name, module in layers:
        _check_parameter(f"{name}.weight", get_initializer("orthogonal"), module.weight)
    arguments = batch if isinstance(batch, tuple) else (batch,)
    order, seen, results = [], {}, {}

    def recorder(name):
        def hook(module, inputs, output):
            if name not in order:  # a layer called twice keeps its first place
                order.append(name)
            seen[name] = output
        return hook

    training = {m: m.training for m in model.modules()}
    model.eval()
    handles = [module.register_forward_hook(recorder(name)) for name, module in layers]
    try:
        with torch.no_grad():
            for name, module in layers:
                get_initializer("orthogonal", layout="out_in")(
                    out=module.weight, rng=named_child(root, f"{name}.weight"),
                    num_threads=num_threads)
            model(*arguments)  # the order the forward pass reaches the layers
            modules = dict(layers)
            for name in list(order):
                variance, passes = math.nan, 0
                for passes in range(1, max_iter + 1):
                    seen.clear()
                    model(*arguments)
                    variance = float(seen[name].double().var())
                    if abs(variance - 1.0) < tol or not math.isfinite(variance) or \
                            variance == 0 or passes == max_iter:
                        break
                    modules[name].weight.div_(math.sqrt(variance))
                results[name] = (variance, passes)
            for name, _ in layers:  # weights used without calling their module (the
                if name not in results:  # out_proj of MultiheadAttention): orthogonal only
                    results[name] = (math.nan, 0)
    finally:
        for handle in handles:
            handle.remove()
        for module, mode in training.items():
            module.train(mode)
    return results

"""Text specs for the sweep and the CLI: "normal:std=0.01", "500x10", "tanh,relu".

An initializer spec is ``NAME`` or ``NAME:KEY=VALUE,KEY=VALUE``; a value may list alternatives
with ``|`` ("normal:std=0.01|0.1|1" is three specs). Values read as int, then float, then text.
Every function here raises a ValueError naming the argument on bad input.
"""
import functools
import itertools
import numbers

import numpy as np

from fastinit import activations as _activations
from fastinit._validation import float_dtype, integer, real
from fastinit.initializers import get_initializer


def _value(text):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse(spec, what="init"):
    """(name, {key: [alternatives]}) of an initializer spec."""
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"{what}: expected an initializer spec like 'normal:std=0.01', "
                         f"got {spec!r}")
    name, _, rest = spec.strip().partition(":")
    params = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, equals, value = item.partition("=")
        if not equals or not key.strip() or not value.strip():
            raise ValueError(f"{what}: bad parameter {item!r} in {spec!r}; write KEY=VALUE")
        params[key.strip()] = [_value(v.strip()) for v in value.split("|")]
    return name.strip(), params


def canonical(name, params):
    """The spec text of (name, {key: value}): keys sorted, values as Python writes them."""
    if not params:
        return name
    return name + ":" + ",".join(f"{k}={_text(params[k])}" for k in sorted(params))


def _text(value):
    return value if isinstance(value, str) else repr(value)


def expand(spec, what="init"):
    """The canonical specs a spec stands for (one per combination of alternatives), each
    checked to build an initializer."""
    name, params = parse(spec, what)
    keys = sorted(params)
    out = []
    for values in itertools.product(*(params[k] for k in keys)):
        text = canonical(name, dict(zip(keys, values)))
        initializer(text, what)
        out.append(text)
    return out


@functools.lru_cache(maxsize=512)
def initializer(spec, what="init"):
    """The fastinit Initializer of a spec (alternatives not allowed). Cached: a sweep asks for
    the same few specs thousands of times, and an Initializer caches its laws."""
    name, params = parse(spec, what)
    single = {}
    for key, values in params.items():
        if len(values) != 1:
            raise ValueError(f"{what}: {spec!r} lists alternatives; expand it first")
        single[key] = values[0]
    try:
        return get_initializer(name, **single)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{what}: {error}") from None


def split_list(text, what):
    """'a,b,c' as ['a', 'b', 'c']. For init specs a piece holding '=' but no ':' continues the
    previous spec ('normal:std=1,mean=0,he_normal' is two specs)."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{what}: expected a comma-separated list, got {text!r}")
    pieces = [p.strip() for p in text.split(",")]
    if what not in ("init", "bias"):
        if not all(pieces):
            raise ValueError(f"{what}: empty item in {text!r}")
        return pieces
    out = []
    for piece in pieces:
        if "=" in piece and ":" not in piece and out:
            out[-1] += "," + piece
        elif piece:
            out.append(piece)
        else:
            raise ValueError(f"{what}: empty item in {text!r}")
    return out


def count(value, what, minimum=1):
    """An int >= minimum, from an int or its text (the API's integer check, then the range)."""
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            raise ValueError(f"{what} must be an integer, got {value!r}") from None
    try:
        value = integer(value, what)
    except TypeError as error:  # text specs report every mistake as a ValueError
        raise ValueError(str(error)) from None
    if value < minimum:
        raise ValueError(f"{what} must be >= {minimum}, got {value}")
    return value


def number(value, what):
    """A finite float, from a number or its text (the API's real-number check)."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ValueError(f"{what} must be a real number, got {value!r}") from None
    try:
        return real(value, what)
    except TypeError as error:
        raise ValueError(str(error)) from None


def bias(value):
    """A bias from a flag, a grid or a file: a number as a float, anything else as the
    initializer spec text it must be."""
    if isinstance(value, (bool, np.bool_)):  # TOML's `bias = [true]` is not 1.0
        raise ValueError(f"bias must be a number or an initializer spec, got {value!r}")
    if isinstance(value, numbers.Real):
        return number(value, "bias")
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


def activation(name):
    return _activations.get(name).name


def dtype_name(name):
    """"float32" or "float64" (the API's dtype check)."""
    try:
        return float_dtype(name).name
    except TypeError as error:
        raise ValueError(str(error)) from None


def layers(text):
    """'500x10' (width x depth) or '500,300,100' as a list of widths."""
    form = "WIDTHxDEPTH like 500x10, or the widths like 500,300,100"
    if not isinstance(text, str):
        raise ValueError(f"--layers takes {form}; got {text!r}")
    try:
        if "x" in text:
            width, _, depth = text.partition("x")
            return [count(width, "width")] * count(depth, "depth")
        return [count(w, "width") for w in split_list(text, "layers")]
    except ValueError as error:
        raise ValueError(f"--layers takes {form}; got {text!r} ({error})") from None

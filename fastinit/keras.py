"""Keras's initializer classes, as ``fastinit.keras.HeNormal(seed=0)(shape, dtype=None)``
(``keras.initializers``' names; apart from fastinit's own names, where the law classes
``Constant`` and ``TruncatedNormal`` live), with Keras's laws,
defaults and layout (``(in, out)``, ``(*kernel, in, out)``).

As in Keras 3: an int seed gives the same values on every call; ``dtype`` defaults to float32
(Keras's floatx); GlorotNormal, HeNormal and LecunNormal are *truncated* normals (at two
standard deviations, rescaled to keep the variance), unlike fastinit's xavier_normal,
he_normal and lecun_normal; RandomNormal and RandomUniform default to a scale of 0.05.

>>> import fastinit
>>> w = fastinit.keras.HeNormal(seed=0)((784, 256))
>>> w.dtype, w.shape
(dtype('float32'), (784, 256))
"""
import functools
import inspect
import math
import numbers
import re
from typing import Any

import numpy as np

from fastinit import initializers as schemes
from fastinit._validation import in_words, output as checked_output, real
from fastinit.backends import LAWS

# fastinit's parameter names, as Keras calls them: errors speak Keras
KERAS_NAMES = {"std": "stddev", "low": "minval", "high": "maxval", "rng": "seed"}


def _keras_errors(method):
    """Errors raised by fastinit's schemes, re-raised with Keras's parameter names."""
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except (ValueError, TypeError) as error:
            raise in_words(error, KERAS_NAMES) from None
    return wrapper


def keras_fans(shape):
    """Keras's compute_fans: () has fans (1, 1), (n,) has (n, n), (in, out) and
    (*kernel, in, out) as everywhere."""
    shape = tuple(shape)
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


class KerasInitializer:
    """``cls(**params, seed=None)``, called as ``init(shape, dtype=None)``."""
    scheme = ""
    fixed = {}  # the scheme's parameters that make it this class (VarianceScaling's settings)

    @_keras_errors
    def __init__(self, seed=None, config=None, **params):
        """``config``: the constructor's arguments under Keras's names (get_config);
        ``params``: the fastinit scheme's parameters they mean."""
        self.seed, self.params = seed, params
        self.config = dict(config or {})
        for name, value in {**self.fixed, **self.config}.items():  # Keras's attributes
            setattr(self, name, value)
        schemes.get_initializer(self.scheme, **self._arguments())  # unknown parameters
        # their values, checked now as Keras checks them (a law for a stand-in 2-D shape)
        schemes.SCHEMES[self.scheme]((2, 2), backend=LAWS, **self._arguments())

    def _arguments(self):
        return {**self.fixed, **self.params}

    @_keras_errors
    def __call__(self, shape=None, dtype=None, *, out=None, num_threads=None):
        if out is None and dtype is None:
            dtype = "float32"
        return schemes.SCHEMES[self.scheme](shape, rng=self.seed, dtype=dtype, out=out,
                                            num_threads=num_threads, **self._arguments())

    @classmethod
    def from_config(cls, config):
        """The initializer of ``config`` (get_config's dict), as Keras's from_config."""
        return cls(**config)

    def get_config(self):
        """The constructor's arguments, as Keras's get_config."""
        if "seed" in inspect.signature(type(self)).parameters:
            return {**self.config, "seed": self.seed}
        return dict(self.config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class _FansAsKeras:
    """Keras computes fans for shapes of fewer than 2 dimensions too (keras_fans): the law
    is the one of a 2-D weight with those fans, drawn into the given shape. A mixin of the
    initializer classes, whose ``scheme``, ``seed`` and ``_arguments`` it reads."""

    @_keras_errors
    def __call__(self, shape=None, dtype=None, *, out=None, num_threads=None):
        if shape is None and out is not None:
            shape = getattr(out, "shape", None)
        if shape is None or len(tuple(shape) if not isinstance(shape, int) else (shape,)) >= 2:
            return super().__call__(shape, dtype, out=out, num_threads=num_threads)  # type: ignore[misc]
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        if out is None and dtype is None:
            dtype = "float32"
        law = schemes.SCHEMES[self.scheme](keras_fans(shape), backend=LAWS,  # pyright: ignore[reportAttributeAccessIssue]
                                           **self._arguments())  # pyright: ignore[reportAttributeAccessIssue]
        return schemes.draw_law(law, None if out is not None else shape, rng=self.seed,  # pyright: ignore[reportAttributeAccessIssue]
                                dtype=dtype, out=out, num_threads=num_threads)


class Zeros(KerasInitializer):
    """W = 0."""
    scheme = "zeros"

    def __init__(self):
        super().__init__()


class Ones(KerasInitializer):
    """W = 1."""
    scheme = "ones"

    def __init__(self):
        super().__init__()


class Constant(KerasInitializer):
    """W = value; an array value is broadcast to the shape, as Keras does."""
    scheme = "constant"

    def __init__(self, value=0.0):
        if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)) or \
                getattr(value, "shape", None) == ():
            super().__init__(None, {"value": value}, value=float(value))
            return
        try:
            self.array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"value must be a number or an array of numbers, got "
                            f"{value!r}") from None
        self.seed, self.params, self.config, self.value = None, {}, {"value": value}, value

    def __call__(self, shape=None, dtype=None, *, out=None, num_threads=None):
        if not hasattr(self, "array"):
            return super().__call__(shape, dtype, out=out, num_threads=num_threads)
        target = checked_output(shape, out, "float32" if out is None and dtype is None
                                else dtype)
        try:
            target[...] = np.broadcast_to(self.array, target.shape)
        except ValueError:
            raise ValueError(f"value of shape {self.array.shape} does not broadcast to shape "
                             f"{target.shape}") from None
        return target


class RandomNormal(KerasInitializer):
    """W ~ N(mean, stddev^2)."""
    scheme = "normal"

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed, {"mean": mean, "stddev": stddev}, mean=mean, std=stddev)


class RandomUniform(KerasInitializer):
    """W ~ U[minval, maxval)."""
    scheme = "uniform"

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed, {"minval": minval, "maxval": maxval}, low=minval, high=maxval)


class TruncatedNormal(KerasInitializer):
    """W ~ N(mean, stddev^2) conditioned on |W - mean| <= 2 stddev."""
    scheme = "truncated_normal"

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        real(mean, "mean")  # both checked before _arguments does arithmetic
        real(stddev, "stddev")
        super().__init__(seed, {"mean": mean, "stddev": stddev}, mean=mean, std=stddev)

    def _arguments(self):
        mean, std = self.params["mean"], self.params["std"]
        return {**self.params, "a": mean - 2 * abs(std), "b": mean + 2 * abs(std)}


class VarianceScaling(_FansAsKeras, KerasInitializer):
    """Var W = scale / fan; fan = fan_in, fan_out or fan_avg; truncated_normal (at 2 s,
    rescaled), untruncated_normal or uniform."""
    scheme = "variance_scaling"

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        config = {"scale": scale, "mode": mode, "distribution": distribution}
        super().__init__(seed, config, **config)


class _Scaled(_FansAsKeras, KerasInitializer):
    """A VarianceScaling with its settings fixed by the class (``fixed``)."""
    scheme = "variance_scaling"

    def __init__(self, seed=None):
        super().__init__(seed)


class GlorotNormal(_Scaled):
    """VarianceScaling(1, "fan_avg", "truncated_normal")."""
    fixed = dict(scale=1.0, mode="fan_avg", distribution="truncated_normal")


class GlorotUniform(_Scaled):
    """VarianceScaling(1, "fan_avg", "uniform"): U[-l, l), l = sqrt(6 / (fan_in + fan_out))."""
    fixed = dict(scale=1.0, mode="fan_avg", distribution="uniform")


class HeNormal(_Scaled):
    """VarianceScaling(2, "fan_in", "truncated_normal")."""
    fixed = dict(scale=2.0, mode="fan_in", distribution="truncated_normal")


class HeUniform(_Scaled):
    """VarianceScaling(2, "fan_in", "uniform"): U[-l, l), l = sqrt(6 / fan_in)."""
    fixed = dict(scale=2.0, mode="fan_in", distribution="uniform")


class LecunNormal(_Scaled):
    """VarianceScaling(1, "fan_in", "truncated_normal")."""
    fixed = dict(scale=1.0, mode="fan_in", distribution="truncated_normal")


class LecunUniform(_Scaled):
    """VarianceScaling(1, "fan_in", "uniform"): U[-l, l), l = sqrt(3 / fan_in)."""
    fixed = dict(scale=1.0, mode="fan_in", distribution="uniform")


class Orthogonal(KerasInitializer):
    """W = gain * Q over (prod(shape[:-1]), shape[-1])."""
    scheme = "orthogonal"

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed, {"gain": gain}, gain=gain)


class Identity(KerasInitializer):
    """W = gain * I (2-D)."""
    scheme = "identity"

    def __init__(self, gain=1.0):
        super().__init__(None, {"gain": gain}, gain=gain)


NAMES = ["Zeros", "Ones", "Constant", "RandomNormal", "RandomUniform", "TruncatedNormal",
         "VarianceScaling", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform",
         "LecunNormal", "LecunUniform", "Orthogonal", "Identity"]


# keras.initializers' helpers: names as Keras accepts them (the class name or its snake_case)
def _snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


ALIASES = {_snake(name): name for name in NAMES}
__all__ = ["Zeros", "Ones", "Constant", "RandomNormal", "RandomUniform", "TruncatedNormal",
           "VarianceScaling", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform",
           "LecunNormal", "LecunUniform", "Orthogonal", "Identity", "KerasInitializer",
           "deserialize", "get", "serialize"]


def serialize(initializer: Any) -> dict[str, Any]:
    """``{"module", "class_name", "config", "registered_name"}``, as keras.initializers.

    Parameters
    ----------
    initializer : a fastinit.keras initializer

    Returns
    -------
    dict
        The initializer's class name and config (``deserialize`` makes it again).
    """
    return {"module": "fastinit.keras", "class_name": type(initializer).__name__,
            "config": initializer.get_config(), "registered_name": None}


def deserialize(config: dict[str, Any]) -> Any:
    """The initializer of a ``serialize`` dict (``class_name`` and ``config``).

    Parameters
    ----------
    config : dict
        What ``serialize`` made.

    Returns
    -------
    initializer
        A fastinit.keras initializer.
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Could not interpret initializer config: {config!r}")
    return get(config["class_name"]).from_config(  # type: ignore[union-attr]
        config.get("config") or {}) \
        if config.get("config") else get(config["class_name"])


def get(identifier: Any) -> Any:
    """An initializer from None (None), a name ("HeNormal" or "he_normal"), a serialize dict,
    or an initializer or any callable (returned as is), as keras.initializers.get.

    Parameters
    ----------
    identifier : None, str, dict or callable

    Returns
    -------
    initializer or None
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        name = ALIASES.get(identifier, identifier)
        if name not in NAMES:
            raise ValueError(f"Could not interpret initializer identifier: {identifier}")
        return globals()[name]()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret initializer identifier: {identifier!r}")

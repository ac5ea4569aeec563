"""The mean-field prediction beside each measurement (fastinit.theory applied to a Plan):
per-layer mean and std, the back-propagated gradient's std, and the correlation of two
inputs. Shared by the engine and the reference."""
import functools
import math

import numpy as np

from fastinit import theory
from fastinit.initializers import Initializer


def attach_predictions(p, layers):
    """Put the mean-field prediction beside each layer's measurement where the theory applies:
    zero-mean weights with a law, no bias or a zero-mean random one, the whole network."""
    network = _theory_network(p)
    if network is None:
        return
    with np.errstate(all="ignore"):  # an input whose square overflows predicts inf/NaN
        predictions, gains = _predictions(network, _input_second_moment(p), p.negative_slope)
    for stats, (mean, std) in zip(layers, predictions):
        stats.predicted_mean, stats.predicted_std = mean, std
    if p.backward:  # from the last layer's measured gradient down
        grad = layers[-1].grad_std
        for layer in reversed(range(len(layers))):
            layers[layer].predicted_grad_std = grad
            grad *= gains[layer]


def _input_second_moment(p):
    """E[x^2] of the input: 1 for the drawn standard normal one (inf if a given X's squares
    overflow)."""
    if p.X is None:
        return 1.0
    with np.errstate(over="ignore"):
        return float(np.mean(np.square(p.X, dtype=np.float64)))


def _zero_mean(law):
    """Whether a law's mean is 0, which mean-field theory assumes of weights and biases (a
    uniform's is the middle of its range, a constant's its value: ones have mean 1)."""
    return theory.law_mean(law) == 0.0


def _theory_network(p):
    """The network as the theory sees it: per layer (fan_in, width, Var W, Var b, activation),
    or None where the theory does not apply (a weight law that is not zero-mean, a structured
    scheme or callable, a non-zero constant bias or a biased random one)."""
    fan_in = p.input_dim
    network = []
    for layer, width in enumerate(p.widths):
        init, bias = p.weight_inits[layer], p.biases[layer]
        law = init.law((fan_in, width)) if isinstance(init, Initializer) else None
        bias_law = bias.law((width,)) if isinstance(bias, Initializer) else None
        if law is None or not _zero_mean(law) or (bias_law is None and bias != 0.0) or (
                bias_law is not None and not _zero_mean(bias_law)):
            return None
        bias_variance = 0.0 if bias_law is None else theory.law_variance(bias_law)
        network.append((fan_in, width, theory.law_variance(law), bias_variance,
                        p.activations[layer]))
        fan_in = width
    return tuple(network)


@functools.lru_cache(maxsize=1024)
def _predictions(network, second, slope):
    """Per layer (mean, std) and backward gain for ``network``, a tuple of (fan_in, width,
    Var W, Var b, activation). Cached: a sweep's seeds share one prediction."""
    predictions, gains = [], []
    for fan_in, width, weight_variance, bias_variance, activation in network:
        q = fan_in * weight_variance * second + bias_variance
        mean, std = theory.moments(q, activation, slope)
        predictions.append((float(mean), float(std)))
        # backward: Var G_{l-1} = width * Var(W) * E[phi'(Z_l)^2] * Var G_l
        slope2 = theory.gaussian_expectation(
            lambda x, a=activation: theory.dphi(x, a, slope) ** 2, q)
        gains.append(math.sqrt(width * weight_variance * float(slope2)))
        second = float(std) ** 2 + float(mean) ** 2
    return tuple(predictions), tuple(gains)


def attach_correlation_predictions(p, layers):
    """The mean-field correlation of the two signals per layer (theory.predict_correlation),
    where the theory applies (as for attach_predictions)."""
    network = _theory_network(p)
    if network is None:
        return
    predicted = theory.predict_correlation(network, p.input_correlation, p.negative_slope,
                                           input_variance=_input_second_moment(p))
    for stats, value in zip(layers, predicted):
        stats.predicted_correlation = float(value)


def jacobian_prediction(p):
    """(mean, variance, theory's arguments) of the eigenvalues of the network's J J^T from free
    probability (theory.jacobian_moments; the arguments are those of theory.jacobian_density),
    or None where it does not apply: a network of one width with zero-mean weights of a law,
    or orthogonal ones, and no bias or a zero-mean random one."""
    network = _jacobian_network(p)
    if network is None:
        return None
    arguments = (network, _input_second_moment(p), p.negative_slope)
    with np.errstate(all="ignore"):
        return (*theory.jacobian_moments(*arguments), arguments)


def _jacobian_network(p):
    """Per layer (width, sigma_w^2, Var b, activation, orthogonal), or None (as _theory_network,
    and square layers only: the free product of the theory is of N x N factors)."""
    network = []
    for layer, width in enumerate(p.widths):
        fan_in = p.input_dim if layer == 0 else p.widths[layer - 1]
        init, bias = p.weight_inits[layer], p.biases[layer]
        if fan_in != width or not isinstance(init, Initializer):
            return None
        law = init.law((fan_in, width))
        bias_law = bias.law((width,)) if isinstance(bias, Initializer) else None
        if (bias_law is None and bias != 0.0) or (bias_law is not None and
                                                  not _zero_mean(bias_law)):
            return None
        bias_variance = 0.0 if bias_law is None else theory.law_variance(bias_law)
        if law is None and init.name == "orthogonal":  # W = gain * Q: sigma_w^2 = gain^2
            gain = float(init.params.get("gain", 1.0))
            network.append((gain * gain, bias_variance, p.activations[layer], True))
        elif law is not None and _zero_mean(law):
            network.append((fan_in * theory.law_variance(law), bias_variance,
                            p.activations[layer], False))
        else:
            return None
    return tuple(network)

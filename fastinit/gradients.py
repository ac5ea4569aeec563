"""The backward pass: a gradient sent back from the last layer, measured at every layer, as in
Glorot & Bengio (2010)'s figures of back-propagated gradients.

With upstream gradient G_L = dL/dH_L (standard normal unless given), for each layer l from the
last down: D_l = G_l * phi'(Z_l), dL/dW_l = H_{l-1}^T D_l, G_{l-1} = D_l W_l^T. phi' is read from
the stored outputs H_l wherever the activation allows it (all but gelu, whose Z is recomputed).
Shared by the engine and the reference: both feed it their own forward pass.
"""
import numpy as np

from fastinit.activations import SELU_ALPHA, SELU_SCALE, dphi


def derivative(h, activation, slope, z=None):
    """phi'(z) from the layer's output h = phi(z) (z is needed for gelu only)."""
    if activation == "tanh":
        return 1.0 - h * h
    if activation == "sigmoid":
        return h * (1.0 - h)
    if activation == "relu":
        return (h > 0).astype(h.dtype)
    if activation == "leaky_relu":
        return np.where(h > 0, 1.0, slope).astype(h.dtype)
    if activation == "linear":
        return np.ones_like(h)
    if activation == "elu":
        return np.where(h > 0, 1.0, h + 1.0).astype(h.dtype)
    if activation == "selu":
        return np.where(h > 0, SELU_SCALE, h + SELU_SCALE * SELU_ALPHA).astype(h.dtype)
    return dphi(z, activation, slope).astype(h.dtype)


def backward_pass(p, inputs, outputs, weights, biases, upstream, matmul=np.matmul):
    """Per-layer gradient statistics, last layer first computed, returned in layer order.

    inputs[l], outputs[l]: H_{l-1} and H_l; weights(l): W_l; biases[l]: what was added to Z_l;
    matmul(a, b): the product to use (the engine passes its own, parallel one).
    """
    G = upstream
    stats = [None] * len(outputs)
    for layer in reversed(range(len(outputs))):
        W = weights(layer)
        z = None
        if p.activations[layer] == "gelu":
            z = inputs[layer] @ W + biases[layer]
        D = G * derivative(outputs[layer], p.activations[layer], p.negative_slope, z)
        dW = matmul(inputs[layer].T, D)
        stats[layer] = {"grad_std": float(G.std(dtype=np.float64)),
                        "weight_grad_norm": float(np.sqrt(np.sum(np.square(dW, dtype=np.float64)))),
                        "weight_grad_std": float(dW.std(dtype=np.float64))}
        G = matmul(D, W.T)
    return stats

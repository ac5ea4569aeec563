"""The backward pass: a gradient sent back from the last layer, measured at every layer, as in
Glorot & Bengio (2010)'s figures of back-propagated gradients.

With upstream gradient G_L = dL/dH_L (standard normal unless given), for each layer l from the
last down: D_l = G_l * phi'(Z_l), dL/dW_l = H_{l-1}^T D_l, G_{l-1} = D_l W_l^T. phi' is read from
the stored outputs H_l wherever the activation allows it (all but gelu, whose Z is recomputed).
Shared by the engine and the reference: both feed it their own forward pass.
"""
import numpy as np

from fastinit import activations


def derivative(h, activation, slope, z=None):
    """phi'(z) from the layer's output h = phi(z), in h's dtype (z is needed only where the
    activation table has no ``from_output``: gelu)."""
    row = activations.get(activation)
    if row.from_output is None:  # needs_preactivation
        return row.dphi(z, slope).astype(h.dtype)
    return row.from_output(h, slope)


def backward_pass(p, inputs, outputs, weights, biases, upstream, matmul=np.matmul):
    """Per-layer gradient statistics, last layer first computed, returned in layer order.

    inputs[l], outputs[l]: H_{l-1} and H_l; weights(l): W_l; biases[l]: what was added to Z_l;
    matmul(a, b): the product to use (the engine passes its own, parallel one).
    """
    G = upstream
    stats: list[dict[str, float] | None] = [None] * len(outputs)
    for layer in reversed(range(len(outputs))):
        W = weights(layer)
        z = None
        if activations.get(p.activations[layer]).needs_preactivation:
            z = matmul(inputs[layer], W) + biases[layer]  # the engine's: interruptible
        D = G * derivative(outputs[layer], p.activations[layer], p.negative_slope, z)
        dW = matmul(inputs[layer].T, D)
        stats[layer] = {"grad_std": float(G.std(dtype=np.float64)),
                        "weight_grad_norm": float(np.sqrt(np.sum(np.square(dW, dtype=np.float64)))),
                        "weight_grad_std": float(dW.std(dtype=np.float64))}
        G = matmul(D, W.T)
    return stats

"""One SGD step of the trainer (issue 33's targets), on a quiet machine: a 10 x 500 tanh
network with a 10-class readout on the digits' 64 features, batch 128, momentum SGD, against

- the GEMMs the step needs (3 per layer: forward, dL/dW, dL/dH of the layer below; the first
  layer has no dL/dH), np.matmul into preallocated arrays on NumPy's own BLAS threads;
- a plain NumPy step (the same network, loss and update, written as a user would);
- PyTorch's CPU step (nn.Sequential of Linear and Tanh, CrossEntropyLoss, optim.SGD with
  momentum), when torch is installed.

Blocked timing (fastinit.cli.bench.blocked_medians): each contender runs ``block`` steps in a
row, rounds repeated, medians per step. Run with
``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/train.py``.
"""
import fastinit  # noqa: F401  (first: its thread policy, then NumPy)

import argparse  # noqa: E402

import numpy as np  # noqa: E402

from fastinit import learning  # noqa: E402
from fastinit.backends import ENGINE  # noqa: E402
from fastinit.cli.bench import blocked_medians  # noqa: E402
from fastinit.training import _KernelOps, _layer_pass  # noqa: E402
from fastinit._kernels import openmp  # noqa: E402
from fastinit._kernels.threads import blas_single_threaded  # noqa: E402

WIDTH, DEPTH, BATCH, FEATURES, CLASSES = 500, 10, 128, 64, 10


def shapes():
    return [(FEATURES, WIDTH)] + [(WIDTH, WIDTH)] * (DEPTH - 1) + [(WIDTH, CLASSES)]


def fastinit_step(dtype):
    """The trainer's own step (learning.run's body) on a fixed batch, its buffers reused."""
    X, y = learning.digits()
    c = learning.check(learning.TrainArgs([WIDTH] * DEPTH, "lecun_normal", X, y, steps=1,
                                          batch_size=BATCH, dtype=dtype, rng=0), ENGINE)
    p = c["plan"]
    ops = _KernelOps(openmp.effective_num_threads(None))
    layers = learning.layer_list(p, _layer_pass)
    weights, biases = learning.initial_parameters(c)
    vw = [np.zeros_like(w) for w in weights]
    vb = [np.zeros_like(b) for b in biases]
    dw = [np.empty_like(w) for w in weights]
    outs = [np.empty((BATCH, w.shape[1]), dtype) for w in weights]
    ups = [np.empty((BATCH, w.shape[0]), dtype) for w in weights]
    rows = np.arange(BATCH)

    def step():
        inputs = [np.ascontiguousarray(c["X"][rows])]
        for layer, w in enumerate(weights):
            ops.step_forward(inputs[layer], w, biases[layer], outs[layer], layers[layer])
            inputs.append(outs[layer])
        _, _, g = learning.head(outs[-1], c["y"][rows], "cross_entropy")
        for layer in reversed(range(len(weights))):
            previous = ups[layer] if layer else None
            ops.step_backward(g, outs[layer], inputs[layer], weights[layer], vw[layer],
                              biases[layer], vb[layer], previous, dw[layer], 1e-3, 0.9,
                              layers[layer])
            g = previous

    def run():
        with blas_single_threaded():
            step()
    return run


def bare_gemms(dtype):
    rng = np.random.default_rng(0)
    Ws = [rng.standard_normal(s).astype(dtype) for s in shapes()]
    As = [rng.standard_normal((BATCH, s[0])).astype(dtype) for s in shapes()]
    Ds = [rng.standard_normal((BATCH, s[1])).astype(dtype) for s in shapes()]
    Hs = [np.empty((BATCH, s[1]), dtype) for s in shapes()]
    dWs = [np.empty(s, dtype) for s in shapes()]
    Gs = [np.empty((BATCH, s[0]), dtype) for s in shapes()]

    def run():
        for layer, (W, A, D) in enumerate(zip(Ws, As, Ds)):
            np.matmul(A, W, out=Hs[layer])
            np.matmul(A.T, D, out=dWs[layer])
            if layer:
                np.matmul(D, W.T, out=Gs[layer])
    return run


def numpy_step(dtype):
    """What a NumPy user writes: forward with np.tanh, softmax cross-entropy, backward,
    momentum SGD, allocating as it goes."""
    X, y = learning.digits()
    X = ((X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1)).astype(dtype)
    rng = np.random.default_rng(0)
    Ws = [(rng.standard_normal(s) / np.sqrt(s[0])).astype(dtype) for s in shapes()]
    bs = [np.zeros(s[1], dtype) for s in shapes()]
    vW = [np.zeros_like(W) for W in Ws]
    vb = [np.zeros_like(b) for b in bs]
    xb, yb = X[:BATCH], y[:BATCH]

    def run():
        hs = [xb]
        for layer, (W, b) in enumerate(zip(Ws, bs)):
            z = hs[-1] @ W + b
            hs.append(np.tanh(z) if layer < DEPTH else z)
        z = hs[-1] - hs[-1].max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(BATCH), yb] -= 1
        g = p / BATCH
        for layer in reversed(range(len(Ws))):
            if layer < DEPTH:
                g = g * (1 - hs[layer + 1] ** 2)
            dW, db = hs[layer].T @ g, g.sum(axis=0)
            if layer:
                g_below = g @ Ws[layer].T
            vW[layer] = 0.9 * vW[layer] + dW
            vb[layer] = 0.9 * vb[layer] + db
            Ws[layer] -= 1e-3 * vW[layer]
            bs[layer] -= 1e-3 * vb[layer]
            if layer:
                g = g_below
    return run


def torch_step(dtype):
    try:
        import torch
    except ImportError:
        return None
    X, y = learning.digits()
    torch_dtype = torch.float32 if dtype == "float32" else torch.float64
    xb = torch.tensor(X[:BATCH], dtype=torch_dtype)
    yb = torch.tensor(y[:BATCH])
    modules = []
    for layer, (fan_in, width) in enumerate(shapes()):
        modules.append(torch.nn.Linear(fan_in, width, dtype=torch_dtype))
        if layer < DEPTH:
            modules.append(torch.nn.Tanh())
    model = torch.nn.Sequential(*modules)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()

    def run():
        optimizer.zero_grad()
        loss_fn(model(xb), yb).backward()
        optimizer.step()
    return run


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--block", type=int, default=10)
    args = parser.parse_args(argv)
    print(f"one SGD step: {DEPTH} tanh layers of {WIDTH} + a {CLASSES}-class readout, "
          f"batch {BATCH}, {FEATURES} features; median ms per step")
    for dtype in ("float64", "float32"):
        contenders = {"GEMMs (3 per layer)": bare_gemms(dtype), "fastinit": fastinit_step(dtype),
                      "NumPy step": numpy_step(dtype)}
        torch = torch_step(dtype)
        if torch is not None:
            contenders["PyTorch step"] = torch
        times = blocked_medians(contenders, rounds=args.rounds, block=args.block)
        floor, ours = times["GEMMs (3 per layer)"], times["fastinit"]
        for label, seconds in times.items():
            note = ""
            if label == "fastinit":
                note = f"{seconds / floor:.2f}x the GEMMs"
            elif label != "GEMMs (3 per layer)":
                note = f"{seconds / ours:.2f}x fastinit's time"
            print(f"  {dtype}  {label:22s} {seconds * 1e3:8.2f}  {note}")


if __name__ == "__main__":
    main()

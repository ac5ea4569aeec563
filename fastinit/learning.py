"""Training the networks forward_prop runs: the loop, the data and the result, shared by the
engine (fastinit.training, kernels) and the reference (fastinit.reference, NumPy), which pass
their own per-layer arithmetic (``Ops``).

The network is forward_prop's for the same arguments (the same weights at step 0, drawn from
the same streams), plus a linear readout to one unit per class. Each step takes the next
``batch_size`` examples of a seeded shuffle of the training set, runs the network, the loss
(softmax cross-entropy, or squared error against one-hot targets), the backward pass and an
SGD step with momentum on every weight and bias:

    v <- momentum * v + dL/dw,   w <- w - lr * v.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from fastinit import activations
from fastinit._typing import Array
from fastinit._validation import integer, real
from fastinit.initializers import Initializer
from fastinit.network import ForwardArgs, Plan, plan
from fastinit.seeding import child

LOSSES = ("cross_entropy", "mse")
TRAINED = 0.5  # held-out accuracy from which a network counts as trained (digits: chance 0.1)

PARAMETER_DOCS = {
    "hidden_layer_sizes": "sequence of int\n    Widths of the hidden layers, as forward_prop's.",
    "weight_init": "str, Initializer or callable\n    Initializer of every weight matrix (the "
                   "readout's too, unless ``readout_init`` is given), as forward_prop's; or "
                   "``\"lsuv\"``: orthogonal, then each layer scaled in turn until its output "
                   "has variance 1 within 0.1 on the first 256 training examples (Mishkin & "
                   "Matas 2016, at most 10 passes a layer).",
    "X": "ndarray, optional\n    Training inputs, (examples, features). None: scikit-learn's "
         "handwritten digits (fastinit.learning.digits, ``pip install '.[train]'``).",
    "y": "ndarray, optional\n    Integer class labels, (examples,), from 0.",
    "activation": 'str or list of str, default "tanh"\n    Activation of every hidden layer, '
                  "or one per layer (not gelu: its derivative needs the pre-activation).",
    "bias": "float, str or Initializer, default 0.0\n    Initial bias of the hidden layers and "
            "the readout, as forward_prop's. Biases are trained.",
    "loss": 'str, default "cross_entropy"\n    ``"cross_entropy"`` (softmax) or ``"mse"`` '
            "(half the squared error against one-hot targets, summed over classes), averaged "
            "over the batch.",
    "lr": "float, default 0.01\n    Learning rate.",
    "momentum": "float, default 0.9\n    Momentum of SGD, in [0, 1).",
    "batch_size": "int, default 128\n    Examples per step.",
    "steps": "int, default 500\n    How many SGD steps.",
    "test": "float or (ndarray, ndarray), default 0.2\n    Held-out examples: a fraction of X "
            "(a seeded split; 0 for none) or an ``(X_test, y_test)`` pair.",
    "eval_every": "int, optional\n    Evaluate on the held-out examples and record per-layer "
                  "statistics every so many steps (and at step 0 and the last step). None: "
                  "about 20 times.",
    "standardize": "bool, default True\n    Scale every input feature to mean 0 and variance "
                   "1 on the training set (a constant feature stays 0): the input's q is 1.",
    "readout_init": "str or Initializer, optional\n    Initializer of the readout's weights. "
                    "None: ``weight_init``.",
    "rng": "int, SeedSequence or Generator, optional\n    Seed: weights from forward_prop's "
           "streams, the shuffle and the split from children of their own; a Generator is "
           "drawn in order.",
    "dtype": 'str, default "float64"\n    float64 or float32.',
    "negative_slope": "float, default 0.01\n    Slope of leaky_relu below 0.",
    "num_threads": "int, optional\n    Threads of the kernels (the reference ignores it).",
}
RETURNS = """Returns
-------
Training
    Loss and accuracy per step, held-out loss and accuracy and per-layer statistics at the
    evaluation steps, the trained weights and biases."""


def digits() -> tuple[Array, Array]:
    """scikit-learn's handwritten digits: 1,797 images of 8 x 8 pixels (values 0 to 16) as
    rows of 64 features, and their labels 0 to 9. Shipped inside scikit-learn: no download.

    Returns
    -------
    (X, y) : tuple of ndarray
        float64 inputs (1797, 64) and int64 labels (1797,).
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError("the digits data set comes with scikit-learn: pip install "
                          "'.[train]' (or pip install scikit-learn)") from None
    X, y = load_digits(return_X_y=True)
    return np.asarray(X, np.float64), np.asarray(y, np.int64)


@dataclass
class Training:
    """What ``train`` measured. Arrays are per step (``loss[i]`` is step i + 1's mini-batch
    loss, before its update) or per evaluation step (``eval_steps``, from 0)."""
    loss: Array
    accuracy: Array
    eval_steps: Array
    test_loss: Array
    test_accuracy: Array
    layers: dict = field(repr=False)   # eval step -> per layer {"std", "mean", "grad_std", ...}
    weights: list = field(repr=False)  # hidden layers' then the readout's, trained
    biases: list = field(repr=False)
    description: str = ""

    @property
    def final_test_accuracy(self) -> float:
        """Held-out accuracy after the last step (NaN without held-out examples)."""
        return float(self.test_accuracy[-1]) if len(self.test_accuracy) else float("nan")

    def plot(self, path: Any = None, label: str | None = None) -> Any:
        """Loss and held-out accuracy against steps (fastinit.plot.training_figure)."""
        from fastinit.plot import training_figure
        return training_figure({label or self.description: self}, path=path)


class Ops:
    """One backend's per-layer arithmetic (``layer``: the Layer being run).

    A training step: ``step_forward(x, w, b, out, layer)`` writes activation(x @ w + b) into
    out; ``step_backward(g, h_out, h_in, w, v_w, b, v_b, g_prev, dw, lr, momentum, layer)``
    turns g = dL/dH into D = dL/dZ in place, writes g_prev = D w^T (g_prev None: the first
    layer) with w as it was, dw = h_in^T D, and makes the SGD step on w and b (db = D summed
    over the batch) with their velocities v_w, v_b.

    Measuring (the evaluation steps): ``forward`` as step_forward, returning the statistics
    dict of out ({"mean", "std", ...}); ``backward(g, h_out, h_in, w, g_prev, dw, layer)`` as
    step_backward without the update, returning the std of g and of dw."""
    step_forward: Callable[..., None]
    step_backward: Callable[..., None]
    forward: Callable[..., dict]
    backward: Callable[..., tuple]


@dataclass
class Layer:
    activation: str
    code: int
    slope: float
    state: Any = None  # the backend's own (the engine's LayerPass)


def _labels(y, examples):
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != examples:
        raise ValueError(f"y must hold one label per row of X ({examples}), got shape {y.shape}")
    if y.size and (not np.issubdtype(y.dtype, np.integer) or y.min() < 0):
        raise ValueError("y must hold integer class labels from 0")
    return y.astype(np.int64)


def _split(X, y, test, source):
    """(X_train, y_train, X_test, y_test): ``test`` a fraction (a seeded split) or a pair."""
    if isinstance(test, tuple):
        if len(test) != 2:
            raise ValueError("test must be a fraction or an (X_test, y_test) pair")
        X_test = np.asarray(test[0], np.float64)
        if X_test.ndim != 2 or X_test.shape[1] != X.shape[1]:
            raise ValueError(f"X_test must have X's {X.shape[1]} features, got shape "
                             f"{X_test.shape}")
        return X, y, X_test, _labels(test[1], X_test.shape[0])
    fraction = real(test, "test")
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"test must be in [0, 1) or an (X_test, y_test) pair, got {test}")
    held = int(round(fraction * X.shape[0]))
    if held == 0:  # all of X trains, in its order
        return X, y, X[:0], y[:0]
    order = _generator(source, "split").permutation(X.shape[0])
    if X.shape[0] - held < 1:
        raise ValueError("test leaves no training example")
    return X[order[held:]], y[order[held:]], X[order[:held]], y[order[:held]]


_CHILDREN = {"readout": 0, "shuffle": 1, "split": 2}


def _generator(source, what):
    """A numpy Generator for ``what`` (the shuffle, the split): the user's Generator itself,
    else one seeded by a child of the seed beyond forward_prop's (which uses 0 to depth)."""
    if isinstance(source, np.random.Generator):
        return source
    return np.random.default_rng(child(child(source, 2**31), _CHILDREN[what]))


@dataclass
class TrainArgs:
    """train's arguments as given; ``check`` validates them all before anything is drawn."""
    hidden_layer_sizes: Any
    weight_init: Any
    X: Any = None
    y: Any = None
    activation: Any = "tanh"
    bias: Any = 0.0
    loss: Any = "cross_entropy"
    lr: Any = 0.01
    momentum: Any = 0.9
    batch_size: Any = 128
    steps: Any = 500
    test: Any = 0.2
    eval_every: Any = None
    standardize: Any = True
    readout_init: Any = None
    rng: Any = None
    dtype: Any = "float64"
    negative_slope: Any = 0.01
    num_threads: Any = None


def check(args: TrainArgs, backend: Any) -> dict:
    """Every argument checked and normalised (a ValueError or TypeError naming the one at
    fault), the data split and standardised: a dict the loop reads."""
    if args.X is None:
        if args.y is not None:
            raise ValueError("y was given without X")
        X, y = digits()
    else:
        if args.y is None:
            raise ValueError("X was given without y")
        X = np.asarray(args.X)
        if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
            raise ValueError(f"X must be a non-empty 2-D array (examples, features), got "
                             f"shape {X.shape}")
        if not np.issubdtype(X.dtype, np.number) or not np.isfinite(X).all():
            raise ValueError("X must hold finite numbers")
        X = X.astype(np.float64)
        y = args.y
    y = _labels(y, X.shape[0])
    if args.loss not in LOSSES:
        raise ValueError(f"loss must be one of {', '.join(LOSSES)}, got {args.loss!r}")
    lr = real(args.lr, "lr")
    momentum = real(args.momentum, "momentum")
    if not lr > 0 or not np.isfinite(lr):
        raise ValueError(f"lr must be a positive number, got {lr}")
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")
    batch_size = integer(args.batch_size, "batch_size")
    steps = integer(args.steps, "steps")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if steps < 0:
        raise ValueError(f"steps must be at least 0, got {steps}")
    lsuv = isinstance(args.weight_init, str) and args.weight_init == "lsuv"
    p = plan(ForwardArgs(args.hidden_layer_sizes, "orthogonal" if lsuv else args.weight_init,
                         activation=args.activation,
                         batch=batch_size, input_dim=X.shape[1], rng=args.rng,
                         dtype=args.dtype, bias=args.bias, negative_slope=args.negative_slope,
                         num_threads=args.num_threads, keep_activations=False, bins=0),
             backend)
    for name in p.activations:
        if activations.get(name).needs_preactivation:
            raise ValueError(f"train cannot use activation {name!r}: its derivative needs the "
                             f"pre-activation")
    readout = p.weight_inits[0] if args.readout_init is None and not lsuv else plan(
        ForwardArgs([1], args.readout_init or "orthogonal", batch=1, input_dim=1, rng=0), backend
    ).weight_inits[0]
    if not callable(readout):
        raise TypeError("readout_init must be an initializer (a name, spec or Initializer)")
    X_train, y_train, X_test, y_test = _split(X, y, args.test, p.source)
    if batch_size > X_train.shape[0]:
        raise ValueError(f"batch_size ({batch_size}) is larger than the {X_train.shape[0]} "
                         f"training examples")
    if bool(args.standardize):
        mean, std = X_train.mean(axis=0), X_train.std(axis=0)
        std[std == 0] = 1.0
        X_train, X_test = (X_train - mean) / std, (X_test - mean) / std
    classes = int(max(y_train.max(initial=0), y_test.max(initial=0))) + 1
    every = max(1, steps // 20) if args.eval_every is None else integer(args.eval_every,
                                                                         "eval_every")
    if every < 1:
        raise ValueError(f"eval_every must be at least 1, got {every}")
    evals = sorted({0, steps, *range(0, steps, every)})
    return dict(plan=p, readout=readout, classes=classes, lsuv=lsuv, loss=args.loss, lr=lr,
                momentum=momentum, batch_size=batch_size, steps=steps, evals=evals,
                X=np.ascontiguousarray(X_train, p.dtype), y=y_train,
                X_test=np.ascontiguousarray(X_test, p.dtype), y_test=y_test)


def initial_parameters(c: dict) -> tuple[list, list]:
    """(weights, biases) at step 0: the hidden layers' as forward_prop draws them, the
    readout's from a child of the seed of its own."""
    p: Plan = c["plan"]
    fan_ins = [p.input_dim, *p.widths]
    widths = [*p.widths, c["classes"]]
    weights, biases = [], []
    for layer, (fan_in, width) in enumerate(zip(fan_ins, widths)):
        readout = layer == len(p.widths)
        init = c["readout"] if readout else p.weight_inits[layer]
        if readout:
            rng = p.source if p.compat else child(child(p.source, 2**31), _CHILDREN["readout"])
        else:
            rng = p.weight_rng(layer)
        if isinstance(init, Initializer):
            W = init((fan_in, width), rng=rng, dtype=p.dtype, num_threads=p.threads)
        else:  # a callable (fan_in, fan_out) -> array, as forward_prop takes
            W = np.array(init(fan_in, width), dtype=p.dtype)
            if W.shape != (fan_in, width):
                raise ValueError(f"weight_init returned shape {W.shape} for layer {layer + 1}, "
                                 f"expected {(fan_in, width)}")
        bias = p.biases[min(layer, len(p.widths) - 1)]
        if isinstance(bias, Initializer):
            b = bias((width,), rng=p.source if p.compat else child(rng, 1), dtype=p.dtype,
                     num_threads=p.threads)
        else:
            b = np.full(width, bias, p.dtype)
        weights.append(np.ascontiguousarray(W))
        biases.append(np.ascontiguousarray(b))
    return weights, biases


def head(logits: Array, y: Array, loss: str) -> tuple[float, float, Array]:
    """(loss, accuracy, dL/dlogits) of a batch, the loss averaged over it."""
    batch = logits.shape[0]
    z = logits.astype(np.float64)
    hits = float(np.mean(np.argmax(z, axis=1) == y))
    if loss == "cross_entropy":
        z = z - z.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        value = -float(np.mean(log_p[np.arange(batch), y]))
        grad = np.exp(log_p)
        grad[np.arange(batch), y] -= 1.0
    else:
        grad = z.copy()
        grad[np.arange(batch), y] -= 1.0
        value = 0.5 * float(np.mean(np.sum(grad * grad, axis=1)))
    return value, hits, np.ascontiguousarray(grad / batch, logits.dtype)


def run(c: dict, ops: Ops, layers: list) -> Training:
    """The training loop of ``c`` (from check) on ``ops``; ``layers``: one Layer per layer,
    the readout's last (linear)."""
    p: Plan = c["plan"]
    weights, biases = initial_parameters(c)
    if c["lsuv"]:
        lsuv_rescale(weights, biases, c["X"][:LSUV_BATCH], [*p.activations, "linear"],
                     p.negative_slope)
    velocity_w = [np.zeros_like(w) for w in weights]
    velocity_b = [np.zeros_like(b) for b in biases]
    grads_w = [np.empty_like(w) for w in weights]
    batch, depth = c["batch_size"], len(weights)
    outputs = [np.empty((batch, w.shape[1]), p.dtype) for w in weights]
    upstream = [np.empty((batch, w.shape[0]), p.dtype) for w in weights]
    shuffle = _generator(p.source, "shuffle")
    X, y, n = c["X"], c["y"], c["X"].shape[0]
    order, position = shuffle.permutation(n), 0
    steps = c["steps"]
    loss, accuracy = np.empty(steps), np.empty(steps)
    test_loss, test_accuracy, recorded = [], [], {}
    evals = set(c["evals"])
    for step in range(steps + 1):
        if step in evals:
            stats = evaluate(c, ops, layers, weights, biases, test_loss, test_accuracy)
            recorded[step] = stats
        if step == steps:
            break
        if position + batch > n:  # a new epoch: a new shuffle
            order, position = shuffle.permutation(n), 0
        rows = order[position:position + batch]
        position += batch
        h = np.ascontiguousarray(X[rows])
        inputs = [h]
        for layer in range(depth):
            ops.step_forward(inputs[layer], weights[layer], biases[layer], outputs[layer],
                             layers[layer])
            inputs.append(outputs[layer])
        loss[step], accuracy[step], g = head(outputs[-1], y[rows], c["loss"])
        for layer in reversed(range(depth)):
            previous = upstream[layer] if layer else None
            ops.step_backward(g, outputs[layer], inputs[layer], weights[layer],
                              velocity_w[layer], biases[layer], velocity_b[layer], previous,
                              grads_w[layer], c["lr"], c["momentum"], layers[layer])
            g = previous
    return Training(loss=loss, accuracy=accuracy, eval_steps=np.array(sorted(recorded)),
                    test_loss=np.array(test_loss), test_accuracy=np.array(test_accuracy),
                    layers=recorded, weights=weights, biases=biases)


def evaluate(c, ops, layers, weights, biases, test_loss, test_accuracy) -> list:
    """Held-out loss and accuracy (appended) and, on the held-out examples (else the first
    training batch), per layer the activations' mean and std and the std of the gradient of
    the loss with respect to them, as forward_prop and backward=True report them."""
    X, y = (c["X_test"], c["y_test"]) if len(c["y_test"]) else (
        c["X"][:c["batch_size"]], c["y"][:c["batch_size"]])
    p = c["plan"]
    inputs = [np.ascontiguousarray(X, p.dtype)]
    stats = []
    for layer, w in enumerate(weights):
        out = np.empty((X.shape[0], w.shape[1]), p.dtype)
        stats.append(dict(ops.forward(inputs[layer], w, biases[layer], out, layers[layer])))
        inputs.append(out)
    value, hits, g = head(inputs[-1], y, c["loss"])
    if len(c["y_test"]):
        test_loss.append(value)
        test_accuracy.append(hits)
    for layer in reversed(range(len(weights))):  # gradients, without updating anything
        previous = np.empty((X.shape[0], weights[layer].shape[0]), p.dtype) if layer else None
        grad_std, weight_grad_std = ops.backward(g, inputs[layer + 1], inputs[layer],
                                                 weights[layer], previous,
                                                 np.empty_like(weights[layer]), layers[layer])
        stats[layer]["grad_std"] = grad_std
        stats[layer]["weight_grad_std"] = weight_grad_std
        g = previous
    return [{k: float(v) for k, v in s.items() if k in STAT_KEYS} for s in stats]


LSUV_BATCH = 256
LSUV_TOL = 0.1
LSUV_MAX_ITER = 10


def lsuv_rescale(weights: list, biases: list, X: Array, names: Sequence[str], slope: float,
                 tol: float = LSUV_TOL, max_iter: int = LSUV_MAX_ITER) -> list:
    """LSUV (Mishkin & Matas, ICLR 2016) on orthogonal ``weights``, in place: layer by layer,
    W /= std(X_l W + b) until the variance of the layer's output (before its activation) on
    the batch X is within ``tol`` of 1, at most ``max_iter`` passes. Returns each layer's
    (variance, passes)."""
    h = X.astype(np.float64)
    done = []
    for W, b, name in zip(weights, biases, names):
        variance, passes = float("nan"), 0
        for passes in range(1, max_iter + 1):
            z = h @ W.astype(np.float64) + b
            variance = float(z.var())
            if abs(variance - 1.0) < tol or variance == 0 or not np.isfinite(variance) or \
                    passes == max_iter:
                break
            W /= W.dtype.type(np.sqrt(variance))
        done.append((variance, passes))
        h = activations.get(name).phi(h @ W.astype(np.float64) + b, slope)
    return done


STAT_KEYS = ("mean", "std", "saturated", "dead", "grad_std", "weight_grad_std")


def layer_list(p: Plan, make_state: Callable[[str, int, float, Any], Any]) -> list:
    """The Layers of plan ``p``'s network and its linear readout."""
    names = [*p.activations, "linear"]
    return [Layer(name, activations.get(name).code, p.negative_slope,
                  make_state(name, activations.get(name).code, p.negative_slope, p.dtype))
            for name in names]


def describe(weight_init: Any, hidden: Sequence[int], activation: Any) -> str:
    """A short label: 'lecun_normal, 10 x 500 tanh'."""
    name = weight_init if isinstance(weight_init, str) else getattr(weight_init, "name",
                                                                    "custom")
    widths = list(hidden)
    shape = f"{len(widths)} x {widths[0]}" if len(set(widths)) == 1 else "x".join(
        map(str, widths))
    return f"{name}, {shape} {activation if isinstance(activation, str) else 'mixed'}"

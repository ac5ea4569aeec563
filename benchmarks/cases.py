"""The benchmark cases, shared by the pytest-benchmark suite and compare.py: each case is a
name, the fastinit call and the baselines it is measured against, all on the same buffers."""
import time

import numpy as np

import fastinit
import fastinit.reference as reference
from fastinit.cli.bench import plain_numpy_network

try:
    import torch
except ImportError:  # the torch rows are skipped where torch is absent
    torch = None


def jax_classic_network(width, dtype):
    """The classic loop in JAX, compiled once with jax.jit (XLA fuses the tanh and the
    statistics into the GEMMs' neighbourhood): a zero-argument callable that runs it and
    waits for the result, or None without JAX. float64 needs jax_enable_x64, set here for
    the benchmark's process only."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    if np.dtype(dtype) == np.float64:
        jax.config.update("jax_enable_x64", True)

    @jax.jit
    def run(key):
        key, k = jax.random.split(key)
        x = jax.random.normal(k, (1000, width), dtype)
        stats = []
        for _ in range(10):
            key, k = jax.random.split(key)
            W = jax.random.normal(k, (width, width), dtype) / np.sqrt(width).astype(dtype)
            x = jnp.tanh(x @ W)
            stats.append((x.mean(), x.std()))
        return stats

    key = jax.random.key(0)
    jax.block_until_ready(run(key))  # compile outside the timing
    return lambda: jax.block_until_ready(run(key))

N = 10**7


def fill_cases():
    """(name, {label: zero-argument callable}) with 'fastinit' first; ratios are against it."""
    cases = []
    stream = fastinit.Stream(0)
    gen = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        tag = np.dtype(dtype).name
        out = np.empty(N, dtype)
        normal = {"fastinit": lambda out=out: stream.normal(out),
                  "numpy standard_normal(out=)": lambda out=out, dt=dtype:
                      gen.standard_normal(out=out, dtype=dt)}
        uniform = {"fastinit": lambda out=out: stream.uniform(out),
                   "numpy random(out=)": lambda out=out, dt=dtype: gen.random(out=out, dtype=dt),
                   "np.copyto(out, 0.5) (memory floor)": lambda out=out: np.copyto(out, 0.5)}
        truncated = {"fastinit": lambda out=out: stream.truncated_normal(out),
                     "fastinit normal": lambda out=out: stream.normal(out)}
        if torch is not None:
            t = torch.from_numpy(out)
            normal["torch normal_"] = lambda t=t: t.normal_()
            uniform["torch uniform_"] = lambda t=t: t.uniform_()
            truncated["torch trunc_normal_"] = lambda t=t: torch.nn.init.trunc_normal_(t)
        cases += [(f"normal {tag} 1e7", normal), (f"uniform {tag} 1e7", uniform),
                  (f"truncated_normal {tag} 1e7", truncated)]
    ortho = {"fastinit": lambda: fastinit.orthogonal((2048, 2048), rng=0),
             "reference": lambda: reference.orthogonal((2048, 2048), rng=0)}
    if torch is not None:
        w = torch.empty(2048, 2048, dtype=torch.float64)
        ortho["torch orthogonal_"] = lambda: torch.nn.init.orthogonal_(w)
    cases.append(("orthogonal float64 2048x2048", ortho))
    he = {"fastinit": lambda: fastinit.he_normal((2000, 2000), rng=0),
          "reference": lambda: reference.he_normal((2000, 2000), rng=0),
          "numpy randn * sqrt(2/fan_in)": lambda: np.random.randn(2000, 2000) * np.sqrt(2 / 2000)}
    cases.append(("he_normal float64 2000x2000", he))
    return cases


def propagation_cases(widths=(128, 500, 2048, 4096)):
    """The classic workload (batch 1000, 10 tanh layers, lecun_normal) at several widths."""
    cases = []
    for dtype in (np.float64, np.float32):
        tag = np.dtype(dtype).name
        for width in widths:
            X = np.random.randn(1000, width).astype(dtype)
            Ws = [np.random.randn(width, width).astype(dtype) for _ in range(10)]
            H = np.empty((1000, width), dtype)

            def bare_gemms(X=X, Ws=Ws, H=H):
                for W in Ws:
                    np.matmul(X, W, out=H)
            contenders = {
                "fastinit": lambda w=width, d=dtype: fastinit.forward_prop(
                    [w] * 10, "lecun_normal", rng=0, dtype=d, keep_activations=False),
                "fastinit, activations kept": lambda w=width, d=dtype: fastinit.forward_prop(
                    [w] * 10, "lecun_normal", rng=0, dtype=d),
                "10 bare GEMMs (floor)": bare_gemms,
                "plain NumPy": lambda w=width, d=dtype: plain_numpy_network(
                    (w,) * 10, 1000, d, keep_activations=True),
            }
            if width == 500:
                contenders["fastinit, user init_fn"] = lambda d=dtype: fastinit.forward_prop(
                    [500] * 10, lambda i, o: np.random.randn(i, o) / np.sqrt(i),
                    rng=0, dtype=d, keep_activations=False)
            if torch is not None:
                tdtype = torch.float64 if dtype == np.float64 else torch.float32

                def torch_classic(w=width, td=tdtype):
                    x = torch.randn(1000, w, dtype=td)
                    for _ in range(10):
                        W = torch.randn(w, w, dtype=td) / w ** 0.5
                        x = torch.tanh(x @ W)
                        x.mean().item(), x.std().item()
                contenders["PyTorch"] = torch_classic
            jax_classic = jax_classic_network(width, dtype)
            if jax_classic is not None:
                contenders["JAX (jit)"] = jax_classic
            cases.append((f"forward {tag} width {width}", contenders))
    cases.append(("forward tiny (16 x 3, batch 8), 100 calls", {
        "fastinit": lambda: [fastinit.forward_prop([16] * 3, "lecun_normal", batch=8, rng=0)
                             for _ in range(100)],
        "fastinit, a new seed each call": lambda: [
            fastinit.forward_prop([16] * 3, "lecun_normal", batch=8, rng=seed)
            for seed in range(100)],
        "plain NumPy": lambda: [plain_numpy_network((16,) * 3, 8, np.float64)
                                for _ in range(100)],
    }))
    return cases


def after_numpy(width=500, dtype=np.float64, rounds=7):
    """(engine alone, engine right after a plain NumPy loop) in seconds, medians: the engine
    call timed on its own, then timed right after NumPy's BLAS work (whose OpenBLAS threads
    keep spinning for a while after NumPy returns)."""
    def engine():
        fastinit.forward_prop([width] * 10, "lecun_normal", rng=0, dtype=dtype)
    engine()
    alone, after = [], []
    for _ in range(rounds):
        for _ in range(3):
            start = time.perf_counter()
            engine()
            alone.append(time.perf_counter() - start)
        for _ in range(3):
            plain_numpy_network((width,) * 10, 1000, dtype, keep_activations=True)
            start = time.perf_counter()
            engine()
            after.append(time.perf_counter() - start)
    return float(np.median(alone)), float(np.median(after))


SMALL_SWEEP = dict(init="lecun_normal", activation="tanh", depth=20, width=64, batch=256,
                   dtype="float32")


def numpy_sweep_loop(configs):
    """What a notebook does for a sweep: per network, the plain NumPy network with the
    statistics a sweep records."""
    return [plain_numpy_network((c.width,) * c.depth, c.batch, c.dtype, seed=c.seed, full=True)
            for c in configs]


def sweep_cases(networks=200):
    """Many small networks (issue 4's workload), and the backward pass against the forward."""
    from fastinit import sweep
    configs = sweep.grid(**SMALL_SWEEP, seeds=networks)
    small = {"fastinit": lambda: sweep.sweep(configs, num_threads=2),
             "fastinit, 1 thread": lambda: sweep.sweep(configs, num_threads=1),
             "plain NumPy loop": lambda: numpy_sweep_loop(configs)}
    backward = {"fastinit": lambda: fastinit.forward_prop([500] * 10, "lecun_normal", rng=0,
                                                          backward=True, keep_activations=False),
                "forward only": lambda: fastinit.forward_prop([500] * 10, "lecun_normal",
                                                              rng=0, keep_activations=False)}
    return [(f"sweep {networks} nets 64x20 batch 256 float32", small),
            ("backward pass 500x10 float64", backward)]


def model_cases(parameters=10**9, width=4096):
    """Issue 15's cases: a stack of nn.Linear(width, width) holding ``parameters`` float32
    parameters (4 GB at 1e9), built on the meta device and materialised with to_empty:
    init_module with PyTorch's default laws against every module's reset_parameters() and
    against zero_() over the same parameters (the memory floor); and one shard of 1/8 of an
    8192 x 8192 float32 tensor, rows and columns, against 1/8 of the whole fill."""
    if torch is None:
        return []
    import fastinit.torch as fastinit_torch
    layers = max(1, round(parameters / (width * width + width)))
    with torch.device("meta"):
        model = torch.nn.Sequential(*[torch.nn.Linear(width, width) for _ in range(layers)])
    model = model.to_empty(device="cpu")
    params = list(model.parameters())

    def reset():
        for layer in model:
            layer.reset_parameters()

    def zero():
        with torch.no_grad():
            for p in params:
                p.zero_()
    count = sum(p.numel() for p in params)
    cases = [(f"init_module {layers} Linear({width}) {count / 1e9:.2f}e9 f32", {
        "fastinit": lambda: fastinit_torch.init_module(model, rng=0),
        "torch reset_parameters()": reset,
        "torch zero_() (memory floor)": zero})]
    half = {}
    for label, dtype in (("float32", torch.float32), ("bfloat16", torch.bfloat16),
                         ("float16", torch.float16)):
        tensor = torch.empty(4096, 4096, dtype=dtype)
        half[label] = lambda tensor=tensor: fastinit.kaiming_uniform_(tensor, seed=0)
    cases.append(("kaiming_uniform_ 4096^2 tensor, by dtype", {
        "fastinit": half["bfloat16"], "fastinit float16": half["float16"],
        "fastinit float32": half["float32"]}))
    shape = (8192, 8192)
    rows, cols = np.empty((1024, 8192), np.float32), np.empty((8192, 1024), np.float32)
    same_count = np.empty(1024 * 8192, np.float32)
    for label, out, region in (("rows", rows, (slice(1024, 2048),)),
                               ("columns", cols, (slice(None), slice(1024, 2048)))):
        # the baseline: an unsharded fill of the same count, i.e. 1/8 of the whole tensor's
        cases.append((f"he_normal 1/8 shard ({label}) of 8192^2 f32", {
            "fastinit": lambda out=out, region=region: fastinit.he_normal(
                shape, out=out, rng=0, region=region),
            "same-count fill (1/8 of the whole)": lambda: fastinit.normal(
                out=same_count, std=0.02, rng=0)}))
    return cases

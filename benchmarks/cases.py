"""The benchmark cases, shared by the pytest-benchmark suite and compare.py: each case is a
name, the fastinit call and the baselines it is measured against, all on the same buffers."""
import numpy as np

import fastinit
import fastinit.reference as reference

try:
    import torch
except ImportError:  # the torch rows are skipped where torch is absent
    torch = None

N = 10**7


def fill_cases():
    """(name, {label: zero-argument callable}) with 'fastinit' first; ratios are against it."""
    cases = []
    stream = fastinit.Stream(0)
    gen = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        tag = np.dtype(dtype).name
        out = np.empty(N, dtype)
        src = np.ones(N, dtype)
        normal = {"fastinit": lambda out=out: stream.normal(out),
                  "numpy standard_normal(out=)": lambda out=out, dt=dtype:
                      gen.standard_normal(out=out, dtype=dt)}
        uniform = {"fastinit": lambda out=out: stream.uniform(out),
                   "numpy random(out=)": lambda out=out, dt=dtype: gen.random(out=out, dtype=dt),
                   "np.copyto (memory floor)": lambda out=out, src=src: np.copyto(out, src)}
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

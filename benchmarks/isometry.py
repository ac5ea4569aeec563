"""The Jacobian spectrum's speed (issue 32's targets), on a quiet machine:

- the tangent propagation of a width-512, depth-32 tanh network for 16 inputs against the
  bare GEMMs it needs (16 x 32 products of (512 x 512) @ (512 x 512), np.matmul into a
  preallocated array), and the whole call with its SVDs;
- the moments path at width 4096 (32 probes per input, 2 inputs, depth 16);
- with ``--accuracy``: measured over predicted mean and variance of J J^T's eigenvalues at
  width 1000, depths 8, 32 and 64, each the average over seeds (one input each) until its
  standard error is below 1.5% (8 to 64 seeds): one network's values scatter by 10-25% at
  depth 32-64 (a product of random factors), so a single network cannot meet a 5% target;
  the average over enough seeds does. The variance averaged over networks also carries the
  spread of their means (E[mean^2] > E[mean]^2: +17% at depth 64); each network's relative
  variance (variance / mean^2) does not, and is printed beside it.

Blocked timing (fastinit.cli.bench.blocked_medians), medians of rounds. Run with
``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/isometry.py``.
"""
import fastinit  # noqa: F401  (first: its thread policy, then NumPy)

import numpy as np  # noqa: E402

from fastinit.cli.bench import blocked_medians  # noqa: E402
from fastinit.isometry import jacobian_spectrum  # noqa: E402
from fastinit.jacobians import batched_product, layer_factors  # noqa: E402
from fastinit.network import ForwardArgs, plan  # noqa: E402
from fastinit.backends import ENGINE  # noqa: E402
from fastinit.streams import Stream  # noqa: E402

WIDTH, DEPTH, INPUTS = 512, 32, 16


def main():
    p = plan(ForwardArgs([WIDTH] * DEPTH, "orthogonal", activation="tanh", batch=INPUTS, rng=0),
             ENGINE)
    factors = list(layer_factors(p, Stream))
    a = np.random.default_rng(0).standard_normal((INPUTS * WIDTH, WIDTH))
    out = np.empty_like(a)
    weights = [W for W, _ in factors]

    def gemms():
        for W in weights:
            np.matmul(a, W, out=out)

    medians = blocked_medians({
        "bare GEMMs": gemms,
        "tangent propagation": lambda: batched_product(factors, INPUTS),
        "jacobian_spectrum (draws, forward, tangents, SVD)": lambda: jacobian_spectrum(
            [WIDTH] * DEPTH, "orthogonal", activation="tanh", batch=INPUTS, rng=0),
    }, rounds=3, block=1)
    for name, seconds in medians.items():
        print(f"{name:52s} {seconds:8.3f} s")
    ratio = medians["tangent propagation"] / medians["bare GEMMs"]
    print(f"tangent propagation / GEMMs: {ratio:.2f}x")
    moments = blocked_medians({"moments path, width 4096, depth 16": lambda: jacobian_spectrum(
        [4096] * 16, "lecun_normal", activation="tanh", batch=2, rng=0, method="moments")},
        rounds=2, block=1)
    for name, seconds in moments.items():
        print(f"{name:52s} {seconds:8.3f} s")


CASES = [("lecun_normal", "tanh"), ("orthogonal", "tanh"), ("normal:std=0.05", "tanh"),
         ("he_normal", "relu"), ("lecun_normal", "linear")]


def accuracy(width=1000, depths=(8, 32, 64), target_se=0.015, min_seeds=8, max_seeds=64,
             cases=CASES):
    """Measured over predicted mean and variance of J J^T's eigenvalues, averaged over seeds
    (one network and one input each) until both standard errors are below ``target_se`` (or
    ``max_seeds``): one network's values scatter by 10-25% at depth 32-64 around the
    prediction (a product of random factors), so the 5% target is about their expectation."""
    print(f"measured / predicted, width {width}: mean over seeds (standard error); target: "
          "within 5%")
    for init, activation in cases:
        for depth in depths:
            ratios, means = [], []
            while len(ratios) < max_seeds:
                s = jacobian_spectrum([width] * depth, init, activation=activation,
                                      rng=len(ratios), batch=1)
                ratios.append((s.mean / s.predicted_mean, s.variance / s.predicted_variance,
                               (s.variance / s.mean ** 2) /
                               (s.predicted_variance / s.predicted_mean ** 2)))
                means.append(s.mean)
                if len(ratios) >= min_seeds:
                    r = np.array(ratios)
                    se = r.std(axis=0, ddof=1) / np.sqrt(len(r))
                    if se.max() < target_se:
                        break
            r = np.array(ratios)
            se = r.std(axis=0, ddof=1) / np.sqrt(len(r))
            m = r.mean(axis=0)
            verdict = "within 5%" if np.all(abs(m - 1) <= 0.05) else (
                "consistent (within 5% + 2 SE)" if np.all(abs(m - 1) <= 0.05 + 2 * se)
                else "OFF")
            print(f"  {init:>15s} {activation:6s} depth {depth:3d}: {len(r):2d} seeds, mean "
                  f"{m[0]:.3f} ({se[0]:.3f}), variance {m[1]:.3f} ({se[1]:.3f}), relative "
                  f"variance {m[2]:.3f} ({se[2]:.3f}); one network: mean "
                  f"{r[:, 0].min():.2f}-{r[:, 0].max():.2f}: {verdict}", flush=True)
            m_ = np.array(means)
            spread = np.mean(m_ ** 2) / np.mean(m_) ** 2
            print(f"      one network's mean m spreads: E[m^2]/E[m]^2 = {spread:.3f}; averaged "
                  f"variance / that = {m[1] / spread:.3f}", flush=True)


if __name__ == "__main__":
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accuracy", action="store_true")
    parser.add_argument("--depths", default="8,32,64", help="--accuracy's depths")
    parser.add_argument("--cases", default=None,
                        help="--accuracy's cases by number in CASES, e.g. 3,4 (default all)")
    args = parser.parse_args()
    if args.accuracy:
        accuracy(depths=tuple(int(d) for d in args.depths.split(",")),
                 cases=CASES if args.cases is None else
                 [CASES[int(i)] for i in args.cases.split(",")])
    else:
        main()

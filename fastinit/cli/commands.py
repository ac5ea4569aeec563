"""The ``fastinit`` commands: demo, run, sweep, report, phase, isometry, bench (their options:
fastinit.cli.parser).

Exit status: 0 on success, 2 on bad usage (one line on stderr, no traceback), 1 when a run
fails (for a sweep: when any configuration failed; the others are still written).
"""
import csv
import json
import math
import os
import sys
from typing import Any

from fastinit.results import MEASURED, PERTURBED, PREDICTED, format_value

# The classic study (CS231n): 10 layers of 500 units, batch 1000, under six initializations:
# (label, initializer spec, activation).
CLASSIC = [
    ("zeros", "zeros", "tanh"),
    ("normal std 0.01", "normal:std=0.01", "tanh"),
    ("normal std 1", "normal:std=1", "tanh"),
    ("xavier_normal", "xavier_normal", "tanh"),
    ("xavier_normal", "xavier_normal", "relu"),
    ("he_normal", "he_normal", "relu"),
]
CLASSIC_WIDTH, CLASSIC_DEPTH, CLASSIC_BATCH = 500, 10, 1000
RUN_COLUMNS = ("layer", *MEASURED[:6])
THEORY_COLUMNS = PREDICTED
BACKWARD_COLUMNS = ("grad_std", "predicted_grad_std", "weight_grad_norm")
PERTURBATION_COLUMNS = PERTURBED[:2]
MAX_PHASE_GRID = 512


class UsageError(Exception):
    """Bad usage found after parsing: exit 2 with its one-line message."""


def _threads_arg(value, flag="--threads"):
    """--threads checked as the API checks num_threads."""
    from fastinit._validation import num_threads
    try:
        return num_threads(value, flag)
    except (TypeError, ValueError) as error:
        raise UsageError(str(error)) from None


def _positive_arg(value, flag, minimum=1):
    if value < minimum:
        raise UsageError(f"{flag} must be >= {minimum}, got {value}")
    return value


def _output_file_arg(path, flag):
    """A file the run will write at the end: its folder must exist, and take a new file, now,
    not after the run."""
    if path is None:
        return None
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"{flag} {path}: the folder {folder} does not exist")
    if os.path.isdir(path):
        raise UsageError(f"{flag} {path} is a folder; give a file name")
    _writable_folder(folder, flag, path)
    return path


def _writable_folder(folder, flag, path):
    """A UsageError unless a file can be created in ``folder`` (tried, not guessed from the
    mode bits: root ignores them, a read-only mount does not)."""
    import tempfile
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".fastinit-probe-"):
            pass
    except OSError as error:
        raise UsageError(f"{flag} {path}: cannot write in {folder} "
                         f"({error.strerror or error})") from None


def _output_folder_arg(path, flag):
    """An output folder: created if missing, and writable, now, not after the run."""
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as error:
        raise UsageError(f"{flag} {path}: {error.strerror}") from None
    _writable_folder(os.path.abspath(path), flag, path)


def _digits_arg(command):
    """The digits data set's library (scikit-learn), for the commands that train on it."""
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise UsageError(f"{command} trains on scikit-learn's digits: pip install "
                         "'.[train]'") from None


def _plot_module():
    try:
        from fastinit import plot
        plot.require()
    except ImportError as error:
        raise UsageError(str(error)) from None
    return plot


def demo(args):
    """The classic study: a table per initialization, a CSV of every layer, the figure of all
    initializations, one figure per network and, with --report, one HTML page of it all."""
    from fastinit import text_specs as specs
    from fastinit.sweep.grid import Config
    from fastinit.propagation import forward_prop
    from fastinit.sweep.result_files import write_records
    from fastinit.sweep.runner import config_records
    _positive_arg(args.seed, "--seed", minimum=0)
    _output_folder_arg(args.out, "--out")
    try:
        plot = _plot_module()
    except UsageError:
        if args.report:
            raise
        plot = None
    studies = CLASSIC
    if not args.quiet and sys.stderr.isatty():
        from tqdm import tqdm
        studies = tqdm(CLASSIC, desc="demo", unit="network", file=sys.stderr, leave=False)
    subtitle = (f"{CLASSIC_DEPTH} layers of {CLASSIC_WIDTH}, batch {CLASSIC_BATCH}, float64, "
                f"seed {args.seed}")
    rows, runs = [], []
    for label, spec, activation in studies:
        config = Config(init=spec, activation=activation, depth=CLASSIC_DEPTH,
                        width=CLASSIC_WIDTH, batch=CLASSIC_BATCH, seed=args.seed)
        # kept activations: the figures bin every layer over one shared range
        result = forward_prop([CLASSIC_WIDTH] * CLASSIC_DEPTH, specs.initializer(spec),
                              activation=activation, rng=args.seed, batch=CLASSIC_BATCH,
                              backward=True, keep_activations=plot is not None)
        runs.append((label, activation, result))
        if not args.quiet:
            print(f"== {label} · {activation} ==\n{result.report()}\n-> {result.finding()}\n",
                  flush=True)
        rows += config_records(config, result.layers, False)
    # the sweep file format: `fastinit report` reads it like any sweep's
    write_records(os.path.join(args.out, "classic_study.csv"), rows, ".csv")
    written = ["classic_study.csv"]
    if plot is not None:
        if not args.quiet:
            print(f"drawing {len(runs) + 1} figures" + (" and the report" if args.report
                                                          else "") + " ...", flush=True)
        written += _demo_figures(plot, runs, args, subtitle)
    if not args.quiet:
        missing = "" if plot else " (no matplotlib: no figures)"
        print(f"wrote {', '.join(written)} to {args.out}{missing}")
    return 0


# what the demo's comparison figure says under its panels (the generic caption, then the
# study's own surprise: std 1 saturates tanh, yet its gradient grows going back)
DEMO_CAPTION = (
    "Hollow dots: measured; lines: the mean-field prediction. Middle: share of values tanh "
    "saturates (|a| > 0.99) or ReLU sets to 0. Right: dL/dh sent back from a unit-variance "
    "gradient at layer 10, so all curves meet at 1 there. std 1 looks healthy on the left "
    "(std 0.98) but 90% of its units are saturated; its gradient still grows going back "
    "(about x3.5 per layer), because each layer multiplies it by sqrt(sigma_w^2 fan_in "
    "E[tanh'(h)^2]) and sigma_w^2 fan_in = 500 outweighs tanh' ~ 0: it explodes rather than "
    "vanishes. std 0.01 collapses to 0 and its gradient vanishes.")


def _demo_figures(plot, runs, args, subtitle):
    """The demo's figures (the comparison first) and, with --report, its page."""
    comparison = plot.comparison_figure(runs, os.path.join(args.out, "all_initializations.png"),
                                        subtitle, caption=DEMO_CAPTION)
    written, classic = ["all_initializations.png"], []
    for label, activation, result in runs:
        filename = f"{label}_{activation}".replace(" ", "_").replace(".", "") + ".png"
        classic.append(plot.classic_figure(result, f"{label} · {activation}: "
                                           f"{result.finding()}",
                                           os.path.join(args.out, filename), subtitle))
        written.append(filename)
    if args.report:
        from fastinit.cli import report
        report.demo_report(runs, comparison, classic, os.path.join(args.out, "report.html"),
                           {"study": "the classic initialization study (CS231n)",
                            "network": subtitle, "initialization": "normal draws from the "
                            "seed's counter-based stream", "backward": "a unit-variance dL/dh "
                            "at the top, back-propagated"})
        written.append("report.html")
    return written


def _table(rows, columns):
    def cell(value):
        if isinstance(value, float) and not math.isnan(value):
            return f"{value:.6g}"
        return format_value(value)
    cells = [[cell(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(row, widths)) for row in cells]
    return "\n".join(lines)


def run(args):
    """One network, its per-layer statistics as a table, JSON or CSV."""
    from fastinit import text_specs as specs
    from fastinit.propagation import forward_prop
    from fastinit.results import nan_to_none
    try:
        _output_file_arg(args.plot, "--plot")
        widths = specs.layers(args.layers)
        init = specs.initializer(args.init, "--init")
        activation = specs.activation(args.activation)
        bias = _bias_arg(args.bias)
        if args.perturbation is not None:
            specs.number(args.perturbation, "--perturbation")
        plan_args: dict[str, Any] = dict(activation=activation, batch=args.batch, rng=args.seed,
                         dtype=args.dtype, bias=bias, keep_activations=bool(args.plot),
                         bins=args.bins,
                         num_threads=args.threads, backward=args.backward,
                         perturbation=args.perturbation,
                         input_correlation=args.input_correlation)
    except (ValueError, TypeError) as error:
        raise UsageError(str(error)) from None
    try:
        result = forward_prop(widths, init, **plan_args)
    except (ValueError, TypeError) as error:  # what the engine's own checks reject
        raise UsageError(str(error)) from None
    columns: list[str] = list(RUN_COLUMNS)
    if args.theory:
        columns += THEORY_COLUMNS
    if args.backward:
        columns += BACKWARD_COLUMNS
    if args.perturbation is not None:
        columns += PERTURBATION_COLUMNS
    if args.input_correlation is not None:
        columns += (*PERTURBATION_COLUMNS, "predicted_correlation")
    records: list[dict[str, Any]] = [{k: r[k] for k in columns} for r in result.to_records()]
    config = {"init": args.init, "activation": activation, "layers": widths,
              "batch": args.batch, "dtype": args.dtype, "seed": args.seed, "bias": args.bias}
    if args.quiet:
        pass
    elif args.format == "json":
        print(json.dumps({"config": config, "layers": [
            {k: nan_to_none(v) for k, v in r.items()} for r in records]}))
    elif args.format == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
    else:
        print(_table(records, columns))
    if args.plot:
        _plot_module().classic_figure(
            result, f"{args.init} · {activation}", args.plot,
            f"{len(widths)} layers ({args.layers}), batch {args.batch}, {args.dtype}, "
            f"seed {args.seed}")
    return 0


def _bias_arg(text):
    from fastinit import text_specs as specs
    value = specs.bias(text)
    return value if isinstance(value, float) else specs.initializer(value, "--bias")


def _sweep_grid(args):
    """The grid's values: the defaults, then the TOML file's, then the flags given."""
    from fastinit import text_specs as specs
    from fastinit.sweep.grid import DEFAULTS, KEYS as SWEEP_KEYS
    values = {"init": None, **DEFAULTS}
    if args.config:
        values.update(_read_toml(args.config))
    for key in SWEEP_KEYS:
        if getattr(args, key) is not None:
            values[key] = getattr(args, key)
    if values["init"] is None:
        raise UsageError("sweep needs --init (or init in --config)")
    grid = {}
    for key in SWEEP_KEYS:
        value = values[key]
        if isinstance(value, str):
            items = specs.split_list(value, key)
        else:
            items = list(value) if isinstance(value, (list, tuple)) else [value]
        if key in ("depth", "width", "batch"):
            items = [specs.count(v, key) for v in items]
        elif key == "bias":
            items = [specs.bias(v) for v in items]
        grid[key] = items
    if len(grid["seeds"]) != 1:
        raise UsageError("--seeds is a count N (seeds 0..N-1)")
    grid["seeds"] = specs.count(grid["seeds"][0], "seeds")
    return grid


def _read_toml(path):
    from fastinit.sweep.grid import KEYS as SWEEP_KEYS
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        import tomli as tomllib  # pyright: ignore[reportMissingImports]
    try:
        with open(path, "rb") as f:
            table = tomllib.load(f)
    except OSError as error:
        raise UsageError(f"--config: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"--config: {path} is not valid TOML: {error}") from None
    table = table.get("sweep", table)
    unknown = sorted(set(table) - set(SWEEP_KEYS))
    if unknown:
        raise UsageError(f"--config: unknown keys {unknown}; valid: {', '.join(SWEEP_KEYS)}")
    return table


def _executor(args):
    if args.workers is None and args.scheduler is None:
        return None, None
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise UsageError("--workers/--scheduler need dask: pip install '.[dask]' in the "
                         "fastinit checkout") \
            from None
    if args.scheduler:
        client = Client(args.scheduler)
        return client, client
    # the worker processes start with SIGINT ignored (a disposition children inherit): Ctrl-C
    # reaches this process alone, which closes the cluster, instead of every worker printing
    # its own traceback; and Dask's log lines stay out of the CLI's output (a worker whose
    # heartbeat meets the closing scheduler after Ctrl-C logs a traceback): a failed
    # configuration is reported in the records and the summary, a lost worker by a retry
    import logging
    import signal
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                               dashboard_address=None,  # pyright: ignore[reportArgumentType]
                               silence_logs=logging.CRITICAL)
    finally:
        signal.signal(signal.SIGINT, previous)
    return Client(cluster), cluster


def sweep(args):
    """A grid of networks to a CSV/JSON-lines file, on all cores or a Dask cluster."""
    from fastinit import sweep as sweeps
    from fastinit.sweep.result_files import check_out_path
    try:
        grid = _sweep_grid(args)
        configs = sweeps.grid(**grid)
        if args.workers is not None and args.workers < 1:
            raise ValueError(f"--workers must be >= 1, got {args.workers}")
        check_out_path(args.out)
    except ValueError as error:
        raise UsageError(str(error)) from None
    out_folder = os.path.dirname(os.path.abspath(args.out.rstrip("/" + os.sep)))
    _writable_folder(args.out if os.path.isdir(args.out) else out_folder, "--out", args.out)
    threads = _threads_arg(args.threads)
    _output_file_arg(args.plot, "--plot")
    _output_file_arg(args.heatmap, "--heatmap")
    plot = _plot_module() if (args.plot or args.heatmap) else None
    client, closer = _executor(args)
    try:
        result = sweeps.sweep(configs, executor=client, num_threads=threads, out=args.out,
                              resume=args.resume, histograms=args.histograms,
                              backward=args.backward,
                              progress=_progress(args))
    except ValueError as error:  # the result file cannot be resumed, or is not one
        raise UsageError(str(error)) from None
    finally:  # the client first: a cluster closed under a client warns of lost tasks
        if client is not None:
            client.close()
        if closer is not None and closer is not client:
            closer.close()
    if not args.quiet:
        print(f"{result.summary()}; wrote {args.out}")
        for record in result.failed[:5]:
            print(f"  failed: {record['init']} {record['activation']} depth {record['depth']} "
                  f"width {record['width']} seed {record['seed']}: {record['error']}")
    if args.plot:
        assert plot is not None
        plot.sweep_overlay(result.records, args.plot)
    if args.heatmap:
        assert plot is not None
        plot.sweep_heatmap(result.records, args.heatmap)
    return 1 if result.failed else 0


def phase(args):
    """chi_1 over (sigma_w^2, sigma_b^2): the critical line, as a table and a figure."""
    import numpy as np

    from fastinit import text_specs as specs, theory
    try:
        activation = specs.activation(args.activation)
        size = specs.count(args.grid, "--grid", minimum=2)
        if size > MAX_PHASE_GRID:
            raise ValueError(f"--grid must be at most {MAX_PHASE_GRID} points per axis (each "
                             f"point solves for a fixed point), got {size}")
        w_max = specs.number(args.w_max, "--w-max")
        b_max = specs.number(args.b_max, "--b-max")
        if w_max <= 0 or b_max < 0:
            raise ValueError("--w-max must be > 0 and --b-max >= 0")
    except ValueError as error:
        raise UsageError(str(error)) from None
    _output_file_arg(args.plot, "--plot")
    sigma_w2 = np.linspace(w_max / size, w_max, size)
    sigma_b2 = np.linspace(0.0, b_max, size)
    chi = theory.phase_diagram(sigma_w2, sigma_b2, activation)
    critical = theory.critical_line(sigma_b2, activation, w_max=w_max)
    rows = [{"sigma_b2": float(b2), "critical_sigma_w2": None if np.isnan(w2) else float(w2)}
            for b2, w2 in zip(sigma_b2, critical)]
    if args.quiet:
        pass
    elif args.format == "json":
        print(json.dumps({"activation": activation, "critical_line": rows}))
    else:
        step = max(1, len(rows) // 8)
        print(f"{activation}: chi_1 = 1 (ordered for smaller sigma_w^2, chaotic for larger)")
        print(_table(rows[::step], ("sigma_b2", "critical_sigma_w2")))
    if args.plot:
        _plot_module().phase_figure(sigma_w2, sigma_b2, chi, activation, args.plot)
    return 0


# The isometry study (Pennington et al. 2017, fig. 1): tanh on the critical line at q* = 1/64
# (sigma_w^2 = 1 / E[tanh'(h)^2], sigma_b^2 = q* - sigma_w^2 E[tanh(h)^2], h ~ N(0, q*), inputs
# of second moment E[tanh(h)^2] so that every layer sits at q*), with Gaussian and with
# orthogonal weights; ReLU on its critical line (He's sigma_w^2 = 2, no bias).
ISOMETRY_Q_STAR = 1.0 / 64


def _isometry_cases(width, batch, seed):
    """(label, weight_init, activation, bias, X) of the study's three networks."""
    import math

    import numpy as np

    from fastinit import initializers, theory
    from fastinit.seeding import child
    q = ISOMETRY_Q_STAR
    mu1 = float(theory.gaussian_expectation(lambda x: (1 - np.tanh(x) ** 2) ** 2, q))
    second = float(theory.gaussian_expectation(lambda x: np.tanh(x) ** 2, q))
    sigma_w2 = 1.0 / mu1
    sigma_b2 = q - sigma_w2 * second
    bias = initializers.get_initializer("normal", std=math.sqrt(sigma_b2))
    X = initializers.normal((batch, width), std=math.sqrt(second),
                            rng=child(np.random.SeedSequence(seed), 1000))
    gaussian = initializers.get_initializer("variance_scaling", scale=sigma_w2,
                                            distribution="untruncated_normal")
    orthogonal = initializers.get_initializer("orthogonal", gain=math.sqrt(sigma_w2))
    return [("tanh, Gaussian weights", gaussian, "tanh", bias, X),
            ("tanh, orthogonal weights", orthogonal, "tanh", bias, X),
            ("ReLU, Gaussian weights", "he_normal", "relu", 0.0, None)]


ISOMETRY_COLUMNS = ("case", "depth", "mean", "predicted_mean", "variance",
                    "predicted_variance", "max_singular_value")
MAX_ISOMETRY_WORK = 2e12  # multiply-adds: about a minute on 2 cores


def isometry(args):
    """Singular values of J for the study's three networks at several depths."""
    from fastinit import text_specs as specs
    from fastinit.isometry import jacobian_spectrum
    try:
        width = specs.count(args.width, "--width")
        batch = specs.count(args.batch, "--batch")
        depths = [specs.count(d, "--depths") for d in specs.split_list(args.depths, "--depths")]
        work = 3 * batch * width ** 3 * sum(depths)
        if work > MAX_ISOMETRY_WORK:
            raise ValueError(f"--width {width}, --batch {batch} and --depths {args.depths} "
                             f"need {work:.1e} multiply-adds (over a minute on 2 cores; at "
                             f"most {MAX_ISOMETRY_WORK:.0e}): lower one of them")
    except ValueError as error:
        raise UsageError(str(error)) from None
    threads = _threads_arg(args.threads)
    _output_file_arg(args.plot, "--plot")
    _output_file_arg(args.report, "--report")
    plot = _plot_module() if args.plot or args.report else None
    spectra = {}
    for label, init, activation, bias, X in _isometry_cases(width, batch, args.seed):
        spectra[label] = [jacobian_spectrum([width] * depth, init, activation=activation,
                                            bias=bias, X=X, batch=batch, rng=args.seed,
                                            num_threads=threads)
                          for depth in depths]
    rows = [{"case": label, "depth": s.depth, "mean": s.mean,
             "predicted_mean": s.predicted_mean, "variance": s.variance,
             "predicted_variance": s.predicted_variance,
             "max_singular_value": s.max_singular_value}
            for label, runs in spectra.items() for s in runs]
    if args.quiet:
        pass
    elif args.format == "json":
        print(json.dumps({"width": width, "batch": batch, "seed": args.seed, "rows": rows}))
    else:
        print(f"singular values of J at width {width}, {batch} inputs, seed {args.seed}: mean "
              "and variance of J J^T's eigenvalues, measured and predicted")
        print(_table(rows, ISOMETRY_COLUMNS))
    if plot is not None:
        figure = plot.isometry_figure(spectra, args.plot)
        if args.report:
            from fastinit.cli import report
            report.isometry_report(figure, rows, ISOMETRY_COLUMNS, args.report, {
                "width": width, "inputs": batch, "depths": ", ".join(map(str, depths)),
                "seed": args.seed, "tanh": f"critical line at q* = {ISOMETRY_Q_STAR:g}",
                "ReLU": "he_normal, no bias"})
    return 0


# The seed study, trained: its initializations of 10 tanh layers of 500 (zeros, small, large,
# Xavier, LeCun) and LSUV on scikit-learn's digits, the same steps and batches for each
TRAIN_DEMO = [("zeros", "zeros"), ("std 0.01", "normal:std=0.01"), ("std 1", "normal:std=1"),
              ("xavier_normal", "xavier_normal"), ("lecun_normal", "lecun_normal"),
              ("LSUV", "lsuv")]
TRAIN_DEMO_COLUMNS = ("init", "loss_start", "loss_end", "accuracy_start", "accuracy_end",
                      "last_layer_std_start", "last_layer_std_end")


def train_demo(args):
    """The seed study's initializations trained on the digits: a table, a CSV, a figure."""
    from fastinit import text_specs as specs
    from fastinit.training import train
    _positive_arg(args.steps, "--steps")
    _positive_arg(args.width, "--width")
    _positive_arg(args.depth, "--depth")
    _positive_arg(args.seed, "--seed", minimum=0)
    threads = _threads_arg(args.threads)
    _output_folder_arg(args.out, "--out")
    _digits_arg("train-demo")
    try:
        plot = _plot_module()
    except UsageError:
        plot = None
    if not args.quiet:
        print(f"training {len(TRAIN_DEMO)} networks ({args.depth} tanh layers of {args.width}, "
              f"{args.steps} SGD steps of {args.batch_size} digits, lr {args.lr}, momentum "
              f"0.9, {args.dtype}) ...", flush=True)
    runs, rows = {}, []
    for label, spec in TRAIN_DEMO:
        init = spec if spec == "lsuv" else specs.initializer(spec)
        run = train([args.width] * args.depth, init, steps=args.steps,
                    batch_size=args.batch_size, lr=args.lr, rng=args.seed, dtype=args.dtype,
                    num_threads=threads)
        runs[label] = run
        first, last = run.layers[int(run.eval_steps[0])], run.layers[int(run.eval_steps[-1])]
        rows.append({"init": label, "loss_start": float(run.loss[0]),
                     "loss_end": float(run.loss[-10:].mean()),
                     "accuracy_start": float(run.test_accuracy[0]),
                     "accuracy_end": run.final_test_accuracy,
                     "last_layer_std_start": first[-2]["std"],
                     "last_layer_std_end": last[-2]["std"]})
        if not args.quiet:
            print(f"  {label:14s} held-out accuracy {run.test_accuracy[0]:.2f} -> "
                  f"{run.final_test_accuracy:.2f}", flush=True)
    with open(os.path.join(args.out, "train_demo.csv"), "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["init", "step", "loss", "accuracy", "test_accuracy"])
        for label, run in runs.items():
            tests = dict(zip(run.eval_steps.tolist(), run.test_accuracy.tolist()))
            for step, (loss, hits) in enumerate(zip(run.loss, run.accuracy), 1):
                writer.writerow([label, step, repr(float(loss)), repr(float(hits)),
                                 repr(tests[step]) if step in tests else ""])
    written = ["train_demo.csv"]
    if plot is not None:
        plot.training_figure(runs, os.path.join(args.out, "train_demo.png"))
        written.append("train_demo.png")
    if not args.quiet:
        print(_table(rows, TRAIN_DEMO_COLUMNS))
        missing = "" if plot else " (no matplotlib: no figure)"
        print(f"wrote {', '.join(written)} to {args.out}{missing}")
    return 0


def _sigma_w2_arg(text):
    """--sigma-w2: LO:HI:N (N values from LO to HI) or a comma-separated list."""
    from fastinit.sweep.trainability import sigma_w2_grid
    try:
        if ":" in text:
            lo, hi, count = text.split(":")
            values = sigma_w2_grid(float(lo), float(hi), int(count))
        else:
            values = [float(v) for v in text.split(",")]
    except ValueError:
        raise UsageError(f"--sigma-w2 must be LO:HI:N or a comma-separated list of numbers, "
                         f"got {text!r}") from None
    if not values or min(values) <= 0 or not all(math.isfinite(v) for v in values):
        raise UsageError(f"--sigma-w2 values must be positive numbers, got {text!r}")
    return values


def trainability(args):
    """Accuracy after training over (sigma_w^2, depth), beside 6 xi_c: a CSV and a figure."""
    from fastinit import text_specs as specs
    from fastinit.sweep.trainability import trainability as run_grid
    sigma_w2 = _sigma_w2_arg(args.sigma_w2)
    try:
        depths = [specs.count(d, "--depths") for d in specs.split_list(args.depths, "--depths")]
    except ValueError as error:
        raise UsageError(str(error)) from None
    for flag, value in (("--width", args.width), ("--steps", args.steps)):
        _positive_arg(value, flag)
    if not args.sigma_b2 >= 0:
        raise UsageError(f"--sigma-b2 must be >= 0, got {args.sigma_b2}")
    if not args.lr > 0:
        raise UsageError(f"--lr must be positive, got {args.lr}")
    threads = _threads_arg(args.threads)
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers must be >= 1, got {args.workers}")
    _output_file_arg(args.plot, "--plot")
    _output_file_arg(args.report, "--report")
    if not args.resume:
        if os.path.exists(args.out):
            raise UsageError(f"--out {args.out} exists: --resume continues it (or remove it)")
        _output_file_arg(args.out, "--out")
    _digits_arg("trainability")
    plot = _plot_module() if args.plot or args.report else None
    total = len(sigma_w2) * len(depths)
    if not args.quiet:
        print(f"training {total} tanh networks of width {args.width} ({len(sigma_w2)} values of "
              f"sigma_w^2 x {len(depths)} depths, sigma_b^2 {args.sigma_b2}, {args.steps} SGD "
              f"steps each) on the digits ...", file=sys.stderr, flush=True)
    bar = None
    if not args.quiet and sys.stderr.isatty():
        from tqdm import tqdm
        bar = tqdm(total=total, desc="trainability", unit="network", file=sys.stderr)

    def progress(done, todo):
        if bar is not None:
            bar.total = todo
            bar.update(1)
        elif not args.quiet and (done % 10 == 0 or done == todo):
            print(f"  {done}/{todo} networks trained", file=sys.stderr, flush=True)
    client, closer = _executor(args)
    try:
        result = run_grid(sigma_w2, depths, width=args.width, sigma_b2=args.sigma_b2,
                          steps=args.steps, lr=args.lr, seed=args.seed, out=args.out,
                          resume=args.resume, num_threads=threads, executor=client,
                          progress=progress)
    except ValueError as error:
        raise UsageError(str(error)) from None
    finally:
        if bar is not None:
            bar.close()
        if client is not None:  # the client first, as in sweep
            client.close()
        if closer is not None and closer is not client:
            closer.close()
    counts = result.fractions()
    (b_ok, b_n), (a_ok, a_n) = counts["below"], counts["above"]
    if not args.quiet:
        print(f"trained (held-out accuracy >= 0.5): {b_ok} of {b_n} networks with depth below "
              f"6 xi_c, {a_ok} of {a_n} at or above it")
    if plot is not None:
        figure = result.plot(args.plot)
        if args.report:
            from fastinit.cli import report
            report.trainability_report(figure, result, args.report, {
                "network": f"tanh, width {args.width}, weights N(0, sigma_w^2 / fan_in), "
                           f"biases N(0, {args.sigma_b2:g})",
                "training": f"{args.steps} SGD steps, lr {args.lr:g}, momentum 0.9, "
                            "scikit-learn's digits",
                "seed": args.seed, "result file": args.out})
    if not args.quiet:
        written = [args.out] + [f for f in (args.plot, args.report) if f]
        print("wrote " + " and ".join(written))
    return 0


def report(args):
    """A sweep's result file as one self-contained HTML page."""
    from fastinit.cli import report as reports
    from fastinit.sweep.result_files import read_records
    _results_arg(args.results)
    _output_file_arg(args.out, "--out")
    _report_out_arg(args)
    _plot_module()
    try:
        records = read_records(args.results)
    except FileNotFoundError:
        raise UsageError(f"{args.results}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{args.results} is a folder; give a .csv or .jsonl result file, or "
                         "a .parquet result folder") from None
    except ValueError as error:
        raise UsageError(str(error)) from None
    try:
        reports.sweep_report(records, args.out, source=args.results)
    except ValueError as error:
        raise UsageError(f"{args.results}: {error}") from None
    if not args.quiet:
        print(f"wrote {args.out}")
    return 0


def _results_arg(path):
    """The report's input is a sweep's result file: say so in the report's words (the check
    inside read_records speaks of a sweep's ``out``)."""
    from fastinit.sweep.result_files import _suffix
    try:
        _suffix(path)
    except ValueError:
        hint = (f"; {path} looks like a grid: run it with fastinit sweep --config {path} "
                "--out sweep.csv, then report sweep.csv") if path.endswith(".toml") else ""
        raise UsageError(f"FILE must be a sweep's result file (.csv, .jsonl, or a .parquet "
                         f"folder), got {path!r}{hint}") from None


def _report_out_arg(args):
    """The report never overwrites its input, nor (without --force) a file that is not a
    fastinit HTML report."""
    if os.path.exists(args.results) and os.path.exists(args.out) and \
            os.path.samefile(args.results, args.out):
        raise UsageError(f"--out {args.out} is the results file itself; give another name, "
                         "e.g. report.html")
    if os.path.isfile(args.out) and not args.force:
        with open(args.out, "rb") as f:
            head = f.read(4096)
        from fastinit.cli.report import GENERATOR_TAG
        if GENERATOR_TAG.encode() not in head:
            raise UsageError(f"--out {args.out} exists and is not a fastinit report; give "
                             "another name, or --force to overwrite it")


def bench(args):
    """Engine vs the NumPy reference and a plain NumPy loop, side by side."""
    from fastinit.cli import bench as timing
    from fastinit._config import config
    _positive_arg(args.depth, "--depth")
    _positive_arg(args.batch, "--batch")
    try:
        widths = [int(w) for w in args.widths.split(",")]
        if min(widths) < 1 or args.repeats < 1:
            raise ValueError
    except ValueError:
        raise UsageError("--widths takes positive ints like 128,500; --repeats >= 1") \
            from None
    facts = config()
    if not args.quiet:
        print(f"workload: {args.depth} tanh layers per width, batch {args.batch}, "
              f"lecun_normal, float64 then float32; {facts['threads']} threads; BLAS "
              f"{facts['blas']}; medians of {args.repeats} rounds of 3 calls each", flush=True)

    import time
    if not args.quiet:
        print(f"  about {timing.estimate_seconds(widths, args.depth, args.batch, args.repeats):.0f}"
              " s on this machine ...", file=sys.stderr, flush=True)
    started = time.monotonic()

    def progress(done, total, what):
        if not args.quiet and done < total:
            print(f"  [{done + 1}/{total}] timing {what} ... ({time.monotonic() - started:.0f} s "
                  "so far)", file=sys.stderr, flush=True)
    rows = timing.propagation_table(widths, depth=args.depth, batch=args.batch,
                                    rounds=args.repeats, progress=progress)
    print(_table(rows, list(rows[0])))
    if not args.quiet:
        print("\n".join(f"  {name}: {meaning}" for name, meaning in
                        timing.BENCH_COLUMNS.items()))
    return 0


def _progress(args):
    """A bar on a terminal, a line every ~10 s in a log or a pipe, nothing with --quiet."""
    if args.quiet:
        return False
    return True if sys.stderr.isatty() else "lines"


def main(argv=None):
    from fastinit.cli.parser import build_parser
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from fastinit._config import show_config
        show_config()
        return 0
    if args.command is None:
        parser.print_help()
        return 2
    handlers = {"demo": demo, "run": run, "sweep": sweep, "report": report, "phase": phase,
                "isometry": isometry, "bench": bench, "train-demo": train_demo,
                "trainability": trainability}
    try:
        return handlers[args.command_name](args)
    except UsageError as error:
        print(f"fastinit {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fastinit: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # a failed run: one line, and the traceback only on request
        if os.environ.get("FASTINIT_DEBUG"):
            raise
        print(f"fastinit {args.command}: failed: {type(error).__name__}: {error}",
              file=sys.stderr)
        return 1

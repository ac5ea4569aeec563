"""The ``fastinit`` command line's arguments: one parser per command (the handlers are in
fastinit.cli). Every option's help says what it takes and its default."""
import argparse

from fastinit.activations import NAMES as ACTIVATIONS
from fastinit.initializers import SCHEMES
from fastinit.sweep.grid import DEFAULTS

INIT_HELP = ("an initializer spec NAME or NAME:key=value,...; NAME one of "
             + ", ".join(SCHEMES) + " (e.g. he_normal, normal:std=0.01, "
             "he_normal:nonlinearity=tanh)")
ACTIVATION_HELP = "one of " + ", ".join(ACTIVATIONS)


class HelpFormatter(argparse.HelpFormatter):
    """Adds "(default: X)" to an option's help where it has a default worth showing (not None,
    not a flag's False) and the help does not state it already."""

    def _get_help_string(self, action):
        text = action.help or ""
        if ("default" not in text and action.option_strings and action.default is not None
                and action.default is not False and action.default is not argparse.SUPPRESS):
            text += " (default: %(default)s)"
        return text


class Parser(argparse.ArgumentParser):
    """Bad usage: one line on stderr and exit status 2 (argparse's own behaviour, kept)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser():
    parser = Parser(prog="fastinit", description="Weight initialization and signal "
                    "propagation: fast initializers, per-layer statistics, sweeps.")
    parser.add_argument("--version", action="store_true",
                        help="print the version, OpenMP status and thread count")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in (_add_demo, _add_run, _add_sweep, _add_report, _add_phase, _add_isometry,
                _add_train_demo, _add_trainability, _add_bench):
        add(commands)
    return parser


def _add_quiet(p):
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")


def _add_threads(p):
    p.add_argument("--threads", type=int, default=None, metavar="N",
                   help="threads for the kernels (default: OMP_NUM_THREADS, else one per core)")


def _add_dask(p):
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, metavar="N",
                       help="start a local Dask cluster of N processes (default: run here)")
    where.add_argument("--scheduler", metavar="ADDRESS", help="a Dask scheduler to use")


def _add_demo(commands):
    p = commands.add_parser("demo", help="run the classic initialization study")
    p.add_argument("--out", default="fastinit-demo", metavar="FOLDER",
                   help="folder for the CSV, the figures and the report")
    p.add_argument("--seed", type=int, default=0, help="seed of every draw")
    p.add_argument("--report", action="store_true",
                   help="also write report.html, one self-contained page")
    _add_quiet(p)
    p.set_defaults(command_name="demo")


def _add_run(commands):
    p = commands.add_parser("run", help="one network's per-layer statistics")
    p.add_argument("--init", default="lecun_normal", metavar="SPEC", help=INIT_HELP)
    p.add_argument("--activation", default="tanh", metavar="NAME", help=ACTIVATION_HELP)
    p.add_argument("--layers", default="500x10", metavar="LAYERS",
                   help="WIDTHxDEPTH (e.g. 500x10) or the widths, e.g. 500,300,100")
    p.add_argument("--batch", type=int, default=1000, metavar="N", help="rows of the input")
    p.add_argument("--seed", type=int, default=0, help="seed of every draw")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float64",
                   help="float32 or float64")
    p.add_argument("--bias", default="0", metavar="SPEC",
                   help="a constant, or an initializer spec")
    p.add_argument("--bins", type=int, default=30, metavar="N", help="histogram bins")
    _add_threads(p)
    p.add_argument("--format", choices=("table", "json", "csv"), default="table",
                   help="table, json or csv")
    p.add_argument("--theory", action="store_true", help="add the mean-field prediction")
    p.add_argument("--backward", action="store_true", help="add back-propagated gradients")
    p.add_argument("--perturbation", type=float, default=None, metavar="EPS",
                   help="add distance and correlation to the run on X + EPS * noise")
    p.add_argument("--input-correlation", type=float, default=None, metavar="C",
                   help="add distance, correlation and its prediction for a second input "
                   "correlated C with the first")
    p.add_argument("--plot", metavar="FILE.png", help="write the per-layer figure")
    _add_quiet(p)
    p.set_defaults(command_name="run")


def _add_sweep(commands):
    p = commands.add_parser("sweep", help="a grid of networks to a result file")
    for key, what, default in (
            ("init", "initializer specs, e.g. lecun_normal,normal:std=0.01|1 (| lists a "
             "parameter's values); NAME one of " + ", ".join(SCHEMES), None),
            ("activation", "activations, e.g. tanh,relu; one of " + ", ".join(ACTIVATIONS),
             DEFAULTS["activation"]),
            ("depth", "depths, e.g. 10,50", DEFAULTS["depth"]),
            ("width", "widths, e.g. 64,500", DEFAULTS["width"]),
            ("batch", "batch sizes, e.g. 1000", DEFAULTS["batch"]),
            ("dtype", "float32 and/or float64", DEFAULTS["dtype"]),
            ("bias", "biases: constants or specs, e.g. 0,normal:std=0.05", DEFAULTS["bias"])):
        stated = (f"default: {default:g}" if isinstance(default, float) else
                  f"default: {default}" if default is not None else
                  "required, here or in --config")
        p.add_argument(f"--{key}", default=None, metavar="LIST",
                       help=f"comma-separated {what} ({stated})")
    p.add_argument("--seeds", default=None, metavar="N",
                   help=f"run seeds 0..N-1 (default: {DEFAULTS['seeds']})")
    p.add_argument("--config", metavar="FILE.toml",
                   help="grid values from a TOML file (flags override it)")
    p.add_argument("--out", required=True, metavar="FILE",
                   help="the result file, .csv or .jsonl, or a .parquet folder (required)")
    p.add_argument("--resume", action="store_true", help="run only what --out lacks")
    _add_dask(p)
    _add_threads(p)
    p.add_argument("--histograms", action="store_true", help="add each layer's histogram")
    p.add_argument("--backward", action="store_true", help="add back-propagated gradients")
    p.add_argument("--plot", metavar="FILE.png",
                   help="per-layer std, one panel per init and activation, seeds as a band")
    p.add_argument("--heatmap", metavar="FILE.png",
                   help="last-layer std over depth x width, one panel per init and activation")
    _add_quiet(p)
    p.set_defaults(command_name="sweep")


def _add_report(commands):
    p = commands.add_parser("report", help="a sweep file as one self-contained HTML page")
    p.add_argument("results", metavar="FILE", help="a sweep's .csv or .jsonl result file or .parquet folder")
    p.add_argument("--out", default="report.html", metavar="FILE.html",
                   help="the page to write (never the results file; a file that is not a "
                        "fastinit report only with --force)")
    p.add_argument("--force", action="store_true",
                   help="overwrite --out even if it is not a fastinit report")
    _add_quiet(p)
    p.set_defaults(command_name="report")


def _add_phase(commands):
    p = commands.add_parser("phase", help="the order-to-chaos phase diagram")
    p.add_argument("--activation", default="tanh", metavar="NAME", help=ACTIVATION_HELP)
    p.add_argument("--grid", default=64, metavar="N", help="points per axis")
    p.add_argument("--w-max", default=4.0, metavar="X", help="largest sigma_w^2")
    p.add_argument("--b-max", default=0.5, metavar="X", help="largest sigma_b^2")
    p.add_argument("--format", choices=("table", "json"), default="table",
                   help="table or json")
    p.add_argument("--plot", metavar="FILE.png", help="write the diagram")
    _add_quiet(p)
    p.set_defaults(command_name="phase")


def _add_isometry(commands):
    p = commands.add_parser(
        "isometry", help="the input-output Jacobian's singular values (dynamical isometry)",
        description="Measures the singular values of J, the input-output Jacobian, for tanh "
        "with Gaussian and with orthogonal weights (on the critical line at q* = 1/64) and for "
        "ReLU (He's weights) at several depths, beside the free-probability prediction of "
        "the mean and variance of J J^T's eigenvalues (Pennington et al. 2017).")
    p.add_argument("--width", type=int, default=400, metavar="N", help="units per layer")
    p.add_argument("--depths", default="2,8,32", metavar="LIST",
                   help="comma-separated depths")
    p.add_argument("--batch", type=int, default=4, metavar="N",
                   help="inputs, one Jacobian each")
    p.add_argument("--seed", type=int, default=0, help="seed of every draw")
    p.add_argument("--threads", type=int, default=None, metavar="N",
                   help="BLAS threads (default: BLAS's own)")
    p.add_argument("--format", choices=("table", "json"), default="table",
                   help="table or json")
    p.add_argument("--plot", metavar="FILE.png", help="write the figure")
    p.add_argument("--report", metavar="FILE.html",
                   help="write the study as one HTML page (figure and table)")
    _add_quiet(p)
    p.set_defaults(command_name="isometry")


def _add_train_demo(commands):
    p = commands.add_parser(
        "train-demo", help="train the classic study's initializations on the digits",
        description="Trains the classic study's network (10 tanh layers of 500, plus a "
        "linear readout) from six initializations (zeros, std 0.01, std 1, Xavier, LeCun, LSUV) "
        "with the same SGD steps on scikit-learn's handwritten digits, and draws loss, "
        "held-out accuracy and the last hidden layer's std against the step "
        "(pip install '.[train]').")
    p.add_argument("--out", default="fastinit-train-demo", metavar="FOLDER",
                   help="folder for train_demo.csv and train_demo.png")
    p.add_argument("--steps", type=int, default=200, metavar="N", help="SGD steps")
    p.add_argument("--batch-size", type=int, default=128, metavar="N", help="digits per step")
    p.add_argument("--lr", type=float, default=0.01, help="learning rate (momentum 0.9)")
    p.add_argument("--width", type=int, default=500, metavar="N", help="units per layer")
    p.add_argument("--depth", type=int, default=10, metavar="N", help="hidden layers")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                   help="float32 or float64")
    p.add_argument("--seed", type=int, default=0, help="seed of every draw")
    _add_threads(p)
    _add_quiet(p)
    p.set_defaults(command_name="train-demo")


def _add_trainability(commands):
    p = commands.add_parser(
        "trainability", help="accuracy after training over (sigma_w^2, depth), beside 6 xi_c",
        description="Trains a tanh network for every (sigma_w^2, depth) of a grid (weights "
        "N(0, sigma_w^2 / fan_in), biases N(0, sigma_b^2)) for the same SGD steps on "
        "scikit-learn's digits, on every core or a Dask cluster, a CSV line per network "
        "(--resume continues an interrupted run), and draws the held-out accuracy with the mean-field curve depth = "
        "6 xi_c over it (Schoenholz et al. 2017, Fig. 5; pip install '.[train]').")
    p.add_argument("--sigma-w2", default="1:4:20", metavar="LO:HI:N",
                   help="N values from LO to HI, or a comma-separated list")
    p.add_argument("--depths", default="4,8,12,16,24,32,48,64,80,100", metavar="LIST",
                   help="comma-separated depths")
    p.add_argument("--width", type=int, default=100, metavar="N", help="units per layer")
    p.add_argument("--sigma-b2", type=float, default=0.05, metavar="X", help="bias variance")
    p.add_argument("--steps", type=int, default=400, metavar="N", help="SGD steps per network")
    p.add_argument("--lr", type=float, default=0.005, help="learning rate (momentum 0.9)")
    p.add_argument("--seed", type=int, default=0, help="seed of every draw")
    p.add_argument("--out", default="trainability.csv", metavar="FILE.csv",
                   help="the result file, a line per network")
    p.add_argument("--resume", action="store_true",
                   help="keep the networks --out holds and train the rest")
    p.add_argument("--plot", metavar="FILE.png", help="write the heatmap")
    p.add_argument("--report", metavar="FILE.html",
                   help="write the heatmap, the counts and every cell as one HTML page")
    _add_dask(p)
    _add_threads(p)
    _add_quiet(p)
    p.set_defaults(command_name="trainability")


def _add_bench(commands):
    p = commands.add_parser("bench", help="engine vs NumPy ratios on this machine",
                            description="Times one tanh network per width (lecun_normal, "
                            "float64): the engine, the NumPy reference and a plain NumPy loop, "
                            "as medians of blocks of calls, and prints the ratios.")
    p.add_argument("--widths", default="128,500,2048", metavar="LIST",
                   help="comma-separated layer widths")
    p.add_argument("--depth", type=int, default=10, metavar="N", help="layers")
    p.add_argument("--batch", type=int, default=1000, metavar="N", help="rows of the input")
    p.add_argument("--repeats", type=int, default=3, metavar="N", help="rounds of blocks")
    _add_quiet(p)
    p.set_defaults(command_name="bench")

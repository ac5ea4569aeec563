"""The ``fastinit`` command line's arguments: one parser per command (the handlers are in
fastinit.cli)."""
import argparse


class Parser(argparse.ArgumentParser):
    """Bad usage: one line on stderr and exit status 2 (argparse's own behaviour, kept)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser():
    parser = Parser(prog="fastinit", description="Weight initialization and signal "
                    "propagation: fast initializers, per-layer statistics, sweeps.")
    parser.add_argument("--version", action="store_true",
                        help="print the version, OpenMP status and thread count")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in (_add_demo, _add_run, _add_sweep, _add_phase, _add_bench):
        add(commands)
    return parser


def _add_demo(commands):
    p = commands.add_parser("demo", help="run the classic initialization study")
    p.add_argument("--out", default="fastinit-demo", help="folder for the CSV and PNGs")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(command_name="demo")


def _add_run(commands):
    p = commands.add_parser("run", help="one network's per-layer statistics")
    p.add_argument("--init", default="lecun_normal", help="initializer spec, e.g. "
                   "he_normal or normal:std=0.01 (default lecun_normal)")
    p.add_argument("--activation", default="tanh")
    p.add_argument("--layers", default="500x10", help="WIDTHxDEPTH or w1,w2,... (500x10)")
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dtype", choices=("float32", "float64"), default="float64")
    p.add_argument("--bias", default="0", help="a constant, or an initializer spec")
    p.add_argument("--bins", type=int, default=30)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--format", choices=("table", "json", "csv"), default="table")
    p.add_argument("--theory", action="store_true", help="add the mean-field prediction")
    p.add_argument("--backward", action="store_true", help="add back-propagated gradients")
    p.add_argument("--perturbation", type=float, default=None, metavar="EPS",
                   help="add distance and correlation to the run on X + EPS * noise")
    p.add_argument("--input-correlation", type=float, default=None, metavar="C",
                   help="add distance, correlation and its prediction for a second input "
                   "correlated C with the first")
    p.add_argument("--plot", metavar="FILE", help="write the classic figure (PNG)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(command_name="run")


def _add_sweep(commands):
    p = commands.add_parser("sweep", help="a grid of networks to a result file")
    for key, example in (("init", "lecun_normal,normal:std=0.01|1"), ("activation", "tanh,relu"),
                         ("depth", "10,50"), ("width", "64,500"), ("batch", "1000"),
                         ("dtype", "float32,float64"), ("bias", "0,normal:std=0.05")):
        p.add_argument(f"--{key}", default=None, help=f"comma-separated, e.g. {example}")
    p.add_argument("--seeds", default=None, help="run seeds 0..N-1 (default 1)")
    p.add_argument("--config", metavar="FILE.toml", help="grid values (flags override)")
    p.add_argument("--out", required=True, metavar="FILE", help="a .csv or .jsonl file")
    p.add_argument("--resume", action="store_true", help="run only what --out lacks")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, help="start a local Dask cluster of N processes")
    where.add_argument("--scheduler", metavar="ADDRESS", help="a Dask scheduler to use")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--histograms", action="store_true")
    p.add_argument("--backward", action="store_true")
    p.add_argument("--plot", metavar="FILE", help="overlay of per-layer std (PNG)")
    p.add_argument("--heatmap", metavar="FILE", help="last-layer std over depth x width (PNG)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(command_name="sweep")


def _add_phase(commands):
    p = commands.add_parser("phase", help="the order-to-chaos phase diagram")
    p.add_argument("--activation", default="tanh")
    p.add_argument("--grid", default=64, help="points per axis (64)")
    p.add_argument("--w-max", default=4.0, help="largest sigma_w^2 (4)")
    p.add_argument("--b-max", default=0.5, help="largest sigma_b^2 (0.5)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--plot", metavar="FILE", help="write the diagram (PNG)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(command_name="phase")


def _add_bench(commands):
    p = commands.add_parser("bench", help="engine vs NumPy ratios on this machine")
    p.add_argument("--widths", default="128,500,2048")
    p.add_argument("--depth", type=int, default=10)
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--repeats", type=int, default=3)
    p.set_defaults(command_name="bench")

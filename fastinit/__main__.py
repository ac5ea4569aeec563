"""``python -m fastinit`` / ``fastinit``: the command line."""
import argparse
import csv
import os
import sys

# The classic study (CS231n): 10 layers of 500 units, batch 1000, under five initializations.
CLASSIC = [
    ("zeros", "zeros", {}, "tanh"),
    ("normal std 0.01", "normal", {"std": 0.01}, "tanh"),
    ("normal std 1", "normal", {"std": 1.0}, "tanh"),
    ("xavier_normal", "xavier_normal", {}, "tanh"),
    ("xavier_normal relu", "xavier_normal", {}, "relu"),
    ("he_normal relu", "he_normal", {}, "relu"),
]


def demo(out_dir, seed, quiet):
    """Run the classic study: a table per initialization, a CSV of every layer, and figures."""
    import fastinit
    os.makedirs(out_dir, exist_ok=True)
    rows = []
    try:
        import matplotlib  # noqa: F401  (the plot extra)

        from fastinit.plot import classic_figure
    except ImportError:
        classic_figure = None
    for label, name, params, activation in CLASSIC:
        result = fastinit.forward_prop([500] * 10, fastinit.get_initializer(name, **params),
                                       activation=activation, rng=seed, batch=1000,
                                       keep_activations=False)
        if not quiet:
            print(f"== {label} ({activation}) ==\n{result.report()}\n")
        for record in result.to_records():
            record.pop("hist"), record.pop("bin_edges")
            rows.append({"init": label, **record})
        if classic_figure is not None:
            filename = label.replace(" ", "_").replace(".", "") + ".png"
            classic_figure(result, f"{label}, {activation}", os.path.join(out_dir, filename))
    with open(os.path.join(out_dir, "classic_study.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    if not quiet:
        figures = "figures and " if classic_figure else "(no matplotlib: no figures) "
        print(f"wrote {figures}classic_study.csv to {out_dir}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="fastinit", description=__doc__)
    parser.add_argument("--version", action="store_true",
                        help="print the version, OpenMP status and thread count")
    commands = parser.add_subparsers(dest="command")
    demo_parser = commands.add_parser("demo", help="run the classic initialization study")
    demo_parser.add_argument("--out", default="fastinit-demo", help="folder for CSV and PNGs")
    demo_parser.add_argument("--seed", type=int, default=0)
    demo_parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.version:
        from fastinit import show_config
        show_config()
        return 0
    if args.command == "demo":
        demo(args.out, args.seed, args.quiet)
        return 0
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())

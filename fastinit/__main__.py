"""``python -m fastinit`` / ``fastinit``: the command line."""
import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="fastinit", description=__doc__)
    parser.add_argument("--version", action="store_true",
                        help="print the version, OpenMP status and thread count")
    args = parser.parse_args(argv)
    from fastinit import show_config
    if args.version:
        show_config()
        return 0
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())

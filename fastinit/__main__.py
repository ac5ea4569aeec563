"""``python -m fastinit`` / ``fastinit``: the command line (fastinit.cli)."""
import os
import sys


def _kernels_importable():
    """Whether the compiled kernels load. From a source checkout's root after a non-editable
    install, ``python -m fastinit`` imports the source folder, which has none."""
    try:
        from fastinit._kernels import openmp  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    if not _kernels_importable():
        folder = os.path.dirname(os.path.abspath(__file__))
        print(f"fastinit: {folder} has no compiled kernels (this is the source folder, found "
              "before the installed package): run the `fastinit` command, or run from another "
              "folder, or build in place with pip install -e .", file=sys.stderr)
        sys.exit(1)
    from fastinit.cli import main
    sys.exit(main())

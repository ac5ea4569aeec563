"""``python -m fastinit`` / ``fastinit``: the command line (fastinit.cli)."""
import sys

from fastinit.cli import main

if __name__ == "__main__":
    sys.exit(main())

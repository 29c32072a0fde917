"""`python -m eval`: the same as `rag eval`."""

import sys

from rag.cli import app

if __name__ == "__main__":
    sys.exit(app(args=["eval", *sys.argv[1:]], prog_name="python -m eval"))

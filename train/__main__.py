"""`python -m gradspace.train`: an alias of `gradspace` (train/cli.py)."""
import sys

from gradspace.train.cli import console_main

if __name__ == "__main__":
    sys.exit(console_main())

"""`python -m gradspace`: the same command line as the `gradspace` script (train/cli.py)."""
import sys

from gradspace.train.cli import console_main

if __name__ == "__main__":
    sys.exit(console_main())

"""The command line: `python -m train <recipe> [flags]`.

    python -m train --help
    python -m train skipgram --help
    python -m train skipgram --loss negative --epochs 3 --out runs/neg
    python -m train charlm --block-size 5 --hidden 100

Each recipe module (train/recipes) adds its own flags (`add_arguments`) and runs from a Config
built from them; the exit status is 0 when done, 130 after Ctrl-C (a checkpoint was saved:
continue with --resume), 2 for a problem the message explains.
"""
import argparse
import importlib
import sys

from train.recipes import RECIPES


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m train",
        description="Train a token model on the corpus shipped with gradspace (or your own "
                    "text) and look at what it learned. Each run writes a checkpoint, a loss "
                    "curve and pictures to its --out folder.")
    subparsers = parser.add_subparsers(dest="recipe", metavar="RECIPE", required=True)
    for name in RECIPES:
        module = importlib.import_module(f"train.recipes.{name}")
        summary = module.__doc__.split("\n")[0]
        sub = subparsers.add_parser(name, help=summary, description=summary)
        module.add_arguments(sub)
        sub.set_defaults(module=module)
    return parser


def main(argv=None):
    from train.recipes.common import run_from_args
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    return run_from_args(args.module, args)

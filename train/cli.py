"""The command line: `gradspace <command> [flags]`, also run as `python -m gradspace`.

    gradspace --help
    gradspace skipgram --help
    gradspace skipgram --loss negative --epochs 3 --out runs/neg
    gradspace charlm --block-size 5 --hidden 100
    gradspace demo

Each recipe module (train/recipes) adds its own flags (`add_arguments`) and runs from a Config
built from them; the exit status is 0 when done, 130 after Ctrl-C (a checkpoint was saved:
continue with --resume), 2 for a problem the message explains.
"""
import argparse
import importlib
import os
import sys

from gradspace.train.recipes import RECIPES

PROG = "gradspace"
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def build_parser():
    from gradspace import __version__
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Train a token model on the corpus shipped with gradspace (or your own "
                    "text) and look at what it learned. Each run writes a checkpoint, a loss "
                    "curve and pictures to its --out folder.")
    parser.add_argument("--version", action="version", version=f"gradspace {__version__}")
    subparsers = parser.add_subparsers(dest="recipe", metavar="COMMAND", required=True)
    for name in RECIPES:
        module = importlib.import_module(f"gradspace.train.recipes.{name}")
        summary = module.__doc__.split("\n")[0]
        sub = subparsers.add_parser(name, help=summary, description=summary)
        module.add_arguments(sub)
        sub.set_defaults(module=module)
    demo = subparsers.add_parser(
        "demo", help="The engine alone: micrograd's example and a directional derivative.",
        description="Differentiate micrograd's example and check a directional derivative "
                    "against difference quotients.")
    demo.set_defaults(module=None)
    return parser


def main(argv=None):
    """Run the command line in this process; returns the exit status."""
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    if args.module is None:
        from gradspace.autograd import demo
        demo.main()
        return 0
    from gradspace.train.recipes.common import run_from_args
    return run_from_args(args.module, args)


def console_main():
    """The `gradspace` script and `python -m gradspace`.

    The recipes multiply small matrices (a few hundred rows), where BLAS threads only add
    synchronisation, and on a busy machine spinning threads can make a run several times
    slower. So unless the user chose (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS or MKL_NUM_THREADS
    is set), the command re-runs itself once with those set to 1: they must be set before numpy
    loads, and importing gradspace has loaded it already.
    """
    if os.name == "posix" and not any(v in os.environ for v in THREAD_VARS):
        os.environ.update({v: "1" for v in THREAD_VARS})
        sys.stdout.flush()
        os.execv(sys.executable, [sys.executable, "-m", "gradspace", *sys.argv[1:]])
    return main()

"""The command line: `gradspace <command> [flags]`, also run as `python -m gradspace`.

    gradspace --help
    gradspace skipgram --help
    gradspace skipgram --loss negative --epochs 3 --out runs/neg
    gradspace charlm --block-size 5 --hidden 100
    gradspace demo

Each recipe module (train/recipes) adds its own flags (`add_arguments`) and runs from a Config
built from them. Every flag and the corpus are checked before any work (recipes/checks.py).
"""
import argparse
import dataclasses
import importlib
import os
import sys
import time
from pathlib import Path

from gradspace.train.recipes import RECIPES

PROG = "gradspace"
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
EXIT_STATUS = """exit status: 0 done; 1 training failed (the loss diverged or nothing was
learned: the message says what to change); 2 a bad flag or input, refused before anything was
written; 130 interrupted by Ctrl-C (the message says what was saved)."""


class Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line like every other refusal of the command line."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser():
    from gradspace import __version__
    parser = Parser(
        prog=PROG, epilog=EXIT_STATUS,
        description="Train a token model on the corpus shipped with gradspace (or your own "
                    "text) and look at what it learned. Each run writes a checkpoint, a loss "
                    "curve and pictures to its --out folder.")
    parser.add_argument("--version", action="version", version=f"gradspace {__version__}")
    subparsers = parser.add_subparsers(dest="recipe", metavar="COMMAND", required=True)
    for name in RECIPES:
        module = importlib.import_module(f"gradspace.train.recipes.{name}")
        summary = module.__doc__.split("\n")[0]
        sub = subparsers.add_parser(name, help=summary, description=describe(module),
                                    epilog=EXIT_STATUS,
                                    formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(sub)
        sub.set_defaults(module=module)
    demo = subparsers.add_parser(
        "demo", help="The engine alone: micrograd's example and a directional derivative.",
        description="Differentiate micrograd's example and check a directional derivative "
                    "against difference quotients.")
    demo.set_defaults(module=None)
    return parser


def describe(module):
    """A recipe's --help description: its docstring's summary and its HELP paragraph."""
    return module.__doc__.split("\n")[0] + "\n\n" + getattr(module, "HELP", "").strip()


def add_common_arguments(parser, config, default_out):
    """The flags every recipe has, with defaults from its Config (and `default_out`, the run
    folder's name when --out is not given)."""
    parser.add_argument("--corpus", metavar="PATH", default=config.corpus,
                        help="a UTF-8 text file to train on (default: the shipped corpus)")
    parser.add_argument("--epochs", type=int, default=config.epochs,
                        help=f"passes over the data (default {config.epochs})" if config.epochs
                        else "passes over the data (default: 5, or more on a small text so "
                             "that training takes 2,000 steps, at most 200)")
    parser.add_argument("--batch-size", type=int, default=config.batch_size,
                        help=f"examples per step (default {config.batch_size})")
    parser.add_argument("--lr", type=float, default=config.lr,
                        help=f"the optimizer's learning rate (default {config.lr})")
    parser.add_argument("--seed", type=int, default=config.seed,
                        help=f"seeds weights, shuffles and samples (default {config.seed})")
    parser.add_argument("--out", metavar="DIR", default=config.out,
                        help=f"run folder for the outputs (default {default_out}); a folder "
                             f"holding a run is refused unless --force or --resume")
    again = parser.add_mutually_exclusive_group()
    again.add_argument("--force", action="store_true",
                       help="replace the run already in the --out folder")
    again.add_argument("--resume", action="store_true",
                       help="continue the run in the --out folder from its checkpoint (model, "
                            "optimizer, epoch) up to --epochs")
    parser.add_argument("--no-progress", dest="progress", action="store_false",
                        help="no progress bar")


def run_from_args(recipe, args, prog=PROG):
    """Build the recipe's Config from parsed flags and run it; returns the exit status."""
    from gradspace.train.recipes import checks, common
    fields = {f.name for f in dataclasses.fields(recipe.Config)}
    config = recipe.Config(**{k: v for k, v in vars(args).items() if k in fields})
    config.out = config.out or recipe.default_out(config)
    out = Path(config.out)
    missing = [f for f in reversed((out, *out.parents)) if not f.exists()]
    started, status = time.perf_counter(), 1
    try:
        refuse_a_run_folder_in_use(out, args.force, args.resume)
        recipe.run(config)
        status = 0
    except common.Interrupted:
        status = 130
    except KeyboardInterrupt:
        print("\ninterrupted before training: nothing was saved", file=sys.stderr)
        status = 130
    except common.TrainingFailed as exc:
        print(f"{prog}: training failed: {exc}", file=sys.stderr)
    except common.RecipeError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        status = 2
    finally:
        if status:
            checks.remove_empty(missing)        # a folder this run made and left empty
    if status == 0:
        print(f"done in {time.perf_counter() - started:.1f} s")
    return status


def refuse_a_run_folder_in_use(out, force, resume):
    from gradspace.train.recipes import checks, common
    held = common.RunFolder(out, ()).holding()
    if resume and common.CHECKPOINT not in held:
        checks.fail("out", out, f"holds no {common.CHECKPOINT} for --resume to continue from; "
                                f"run without --resume (or pass the --out folder of that run)")
    if held and not (force or resume):
        checks.fail("out", out, f"already holds a run ({', '.join(held)}); --force replaces "
                                f"it, --resume continues it, or choose another --out")


def main_for(recipe, argv, prog):
    parser = Parser(prog=prog, description=describe(recipe), epilog=EXIT_STATUS,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    recipe.add_arguments(parser)
    return run_from_args(recipe, parser.parse_args(argv), prog)


def main(argv=None):
    """Run the command line in this process; returns the exit status."""
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    if args.module is None:
        from gradspace.autograd import demo
        demo.main()
        return 0
    return run_from_args(args.module, args, f"{PROG} {args.recipe}")


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

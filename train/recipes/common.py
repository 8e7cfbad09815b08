"""What the recipes share: the run folder, checkpoints (each epoch, on Ctrl-C, and --resume),
figures saved without pyplot, and running a recipe from the command line."""
import argparse
import dataclasses
import sys
import time
from pathlib import Path

from gradspace.train import checkpoint
from gradspace.train.loop import History

CHECKPOINT = "checkpoint.npz"


class RecipeError(Exception):
    """A problem the user can fix (e.g. --resume without a checkpoint): printed, no traceback."""


class Checkpointer:
    """Saves model, optimizer and everything needed to resume to `<out>/checkpoint.npz`.

    Used as a `fit` callback it saves after every epoch, so a crash loses at most one epoch;
    `save(interrupted=True)` is called on Ctrl-C. Besides model and optimizer (whose groups
    keep the schedule's "initial_lr"), the metadata holds the config, the completed epochs, the
    History, and the state of every random generator (loader shuffles, negative samples), so
    resuming at an epoch boundary continues exactly as if the run had never stopped. After a
    Ctrl-C mid-epoch, the weights and the steps already taken are kept, and that epoch is run
    again from its start (with the next shuffle).
    """

    def __init__(self, out, model, optimizer, history, config, generators):
        self.path = Path(out) / CHECKPOINT
        self.model, self.optimizer = model, optimizer
        self.history, self.config, self.generators = history, config, generators

    def __call__(self, event, info):
        if event == "epoch":
            self.save()

    def save(self, interrupted=False):
        checkpoint.save(self.path, self.model, self.optimizer,
                        epoch=self.history.epochs, interrupted=interrupted,
                        config=dataclasses.asdict(self.config),
                        history=self.history.to_dict(),
                        rng={name: g.bit_generator.state for name, g in self.generators.items()})
        return self.path

    def save_interrupted(self):
        """On Ctrl-C: save, and say where and how to continue."""
        self.save(interrupted=True)
        print(f"\ninterrupted after {self.history.epochs} complete epochs; saved {self.path}. "
              f"Continue with --resume.", file=sys.stderr, flush=True)

    def resume(self, epochs):
        """Load the checkpoint of the run folder into model, optimizer, history and generators;
        say so, and return the number of epochs it had completed."""
        if not self.path.exists():
            raise RecipeError(f"--resume: there is no checkpoint at {self.path}; run without "
                              f"--resume first (or pass the --out folder of that run)")
        try:
            meta = checkpoint.load(self.path, self.model, self.optimizer)
        except ValueError as exc:
            raise RecipeError(f"--resume: {exc}. Was it made with other settings "
                              f"(--dim, --hidden, --corpus...)?") from None
        for name, state in meta.get("rng", {}).items():
            if name in self.generators:
                self.generators[name].bit_generator.state = state
        self.history.__dict__.update(History.from_dict(meta["history"]).__dict__)
        done = meta["epoch"]
        print(f"resuming from {self.path} after epoch {done}"
              + ("" if done < epochs else f": nothing left to train for --epochs {epochs}"))
        return done


def out_dir(path):
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_figure(width=7.0, height=4.0):
    """A matplotlib Figure that is not registered with pyplot: no GUI, no global state."""
    from matplotlib.figure import Figure
    return Figure(figsize=(width, height), layout="constrained")


def save_loss_plot(history, path, title, levels=None):
    """The loss curve as a PNG; `levels` {label: loss} adds dashed reference lines."""
    fig = new_figure()
    ax = history.plot(ax=fig.add_subplot(), title=title)
    for k, (label, value) in enumerate((levels or {}).items()):
        ax.axhline(value, ls="--", lw=1, color=f"C{k + 2}", label=label)
    if levels:
        ax.legend()
    fig.savefig(path, dpi=120)
    return path


def add_common_arguments(parser, config):
    """The flags every recipe has, with defaults from its Config."""
    parser.add_argument("--corpus", metavar="PATH", default=config.corpus,
                        help="a UTF-8 text file to train on (default: the shipped corpus)")
    parser.add_argument("--epochs", type=int, default=config.epochs,
                        help=f"passes over the data (default {config.epochs})")
    parser.add_argument("--batch-size", type=int, default=config.batch_size,
                        help=f"examples per step (default {config.batch_size})")
    parser.add_argument("--lr", type=float, default=config.lr,
                        help=f"Adam's learning rate (default {config.lr})")
    parser.add_argument("--seed", type=int, default=config.seed,
                        help=f"seeds weights, shuffles and samples (default {config.seed})")
    parser.add_argument("--out", metavar="DIR", default=config.out,
                        help=f"run folder for the outputs (default {config.out})")
    parser.add_argument("--resume", action="store_true",
                        help="continue from the checkpoint in the run folder (model, "
                             "optimizer, epoch) up to --epochs")
    parser.add_argument("--no-progress", dest="progress", action="store_false",
                        help="no progress bar")


def run_from_args(recipe, args):
    """Build the recipe's Config from parsed flags, run it; returns the exit status
    (0 done, 130 interrupted by Ctrl-C, 2 a problem to fix)."""
    fields = {f.name for f in dataclasses.fields(recipe.Config)}
    config = recipe.Config(**{k: v for k, v in vars(args).items() if k in fields})
    started = time.perf_counter()
    try:
        recipe.run(config)
    except KeyboardInterrupt:
        return 130
    except RecipeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"done in {time.perf_counter() - started:.1f} s")
    return 0


def main_for(recipe, argv, prog):
    parser = argparse.ArgumentParser(prog=prog, description=recipe.__doc__.split("\n")[0])
    recipe.add_arguments(parser)
    return run_from_args(recipe, parser.parse_args(argv))

"""What the recipes share: the run folder (probed before any work, written one whole file at a
time, consistent after a Ctrl-C in any phase), checkpoints (each epoch, on Ctrl-C, --resume),
training that stops honestly when the loss diverges or nothing is learned, and figures saved
without pyplot. The command line's side is in cli.py."""
import contextlib
import dataclasses
import math
import sys
import time
from pathlib import Path

from gradspace.train import checkpoint
from gradspace.train.loop import History
from gradspace.train.recipes import checks
from gradspace.train.recipes.checks import ConfigError, RecipeError, TrainingFailed

__all__ = ["CHECKPOINT", "Checkpointer", "ConfigError", "Interrupted", "RecipeError",
           "RunFolder", "TrainingFailed", "new_figure", "save_loss_plot", "stop_if_diverging"]

CHECKPOINT = "checkpoint.npz"
# Every file a recipe may write: a folder holding any of them holds a run.
RUN_FILES = (CHECKPOINT, "vocab.json", "loss.png", "embeddings.png", "neighbors.txt",
             "samples.txt", "vectors.tsv", "metadata.tsv")
# A step loss above DIVERGED times the first step's is divergence: a learning rate too large
# sends it up by orders of magnitude within a few steps (Adam at lr 1e9 on skip-gram: 5.2, then
# 1.6e8), while a sound run's spikes stay well under this.
DIVERGED = 10.0
SAVE_EVERY = 30.0          # seconds of training a crash may lose at most
# A run whose last epoch's mean loss is not at least 1% below the first step's learned nothing.
LEARNED = 0.99


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, after the run folder was left consistent and what it holds was printed."""


class RunFolder:
    """The --out folder of one run and the files this run writes into it (`outputs`)."""

    def __init__(self, path, outputs):
        self.path = Path(path)
        self.outputs = tuple(outputs)
        self.checkpointer = None      # set by Checkpointer: says what the checkpoint holds

    def claim(self):
        """Create the folder and check it is writable (ConfigError if not), before any work."""
        checks.writable_folder(self.path)
        return self

    def file(self, name):
        return self.path / name

    def holding(self, names=RUN_FILES):
        """Which of `names` the folder holds."""
        return [n for n in names if (self.path / n).is_file()]

    def clear(self, keep=()):
        """Remove every run file but `keep`: what is in the folder is then this run's."""
        for name in self.holding():
            if name not in keep:
                (self.path / name).unlink()

    @contextlib.contextmanager
    def write(self, name, mode="wb", **kwargs):
        """Open <folder>/name to write it whole: a temporary file renamed into place."""
        with checkpoint.atomic_open(self.path / name, mode, **kwargs) as f:
            yield f

    @contextlib.contextmanager
    def interrupt_report(self):
        """On Ctrl-C anywhere inside, say what the folder holds and how to go on."""
        try:
            yield self
        except KeyboardInterrupt:
            message = self.describe_interrupt()
            print(message, file=sys.stderr, flush=True)
            raise Interrupted(message) from None

    def describe_interrupt(self):
        ckpt, held = self.checkpointer, self.holding(self.outputs)
        if ckpt is None or ckpt.saved is None:
            return f"\ninterrupted before the first checkpoint: nothing was saved in {self.path}"
        epochs, steps = ckpt.saved
        where = f"{epochs} complete epochs" + (f" and {steps} steps of the next" if steps else "")
        if not ckpt.finished:
            return (f"\ninterrupted: saved {ckpt.path} ({where}). "
                    f"Continue with --resume (and the same flags).")
        missing = [n for n in self.outputs if n not in held]
        return (f"\ninterrupted while writing the results: {self.path}/ holds "
                f"{', '.join(held)} ({where}); not written: {', '.join(missing) or 'none'}. "
                f"Run again with --resume (and the same flags) to write them.")


class Checkpointer:
    """Saves model, optimizer and everything needed to resume to `<out>/checkpoint.npz`.

    Used as a `fit` callback it saves after the first and the last epoch, and after any epoch
    ending SAVE_EVERY seconds or more after the previous save, so a crash loses at most that
    much training (a small text's epochs take a fraction of a second: saving each one, with
    its flush to disk, would cost more than the training); `training()` saves on Ctrl-C.
    Besides model and optimizer (whose groups keep the schedule's "initial_lr"), the metadata
    holds the config, the completed epochs, the History, and the state of every random
    generator (loader shuffles, negative samples), so resuming at an epoch boundary continues
    exactly as if the run had never stopped. After a Ctrl-C
    mid-epoch, the weights and the steps already taken are kept, and that epoch is run again
    from its start (with the next shuffle).
    """

    def __init__(self, folder, model, optimizer, history, config, generators):
        self.folder = folder
        self.path = folder.file(CHECKPOINT)
        self.model, self.optimizer = model, optimizer
        self.history, self.config, self.generators = history, config, generators
        self.saved = None          # (complete epochs, steps of the next) in the file on disk
        self.saved_at = time.monotonic()
        self.finished = False      # training is over: what follows writes the results
        folder.checkpointer = self

    def __call__(self, event, info):
        if event == "epoch" and (self.saved is None or info["epoch"] + 1 == self.config.epochs
                                 or time.monotonic() - self.saved_at >= SAVE_EVERY):
            self.save()

    def save(self, interrupted=False):
        history = self.history
        checkpoint.save(self.path, self.model, self.optimizer,
                        epoch=history.epochs, interrupted=interrupted,
                        config=dataclasses.asdict(self.config),
                        history=history.to_dict(),
                        rng={name: g.bit_generator.state for name, g in self.generators.items()})
        self.saved_at = time.monotonic()
        ends = history.epoch_ends[:history.epochs]
        self.saved = (history.epochs, len(history.step_losses) - (ends[-1] if ends else 0))
        return self.path

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
        self.saved = (done, 0)
        print(f"resuming from {self.path} after epoch {done}"
              + ("" if done < epochs else f": nothing left to train for --epochs {epochs}"))
        return done

    @contextlib.contextmanager
    def training(self):
        """Around `fit`: the folder then holds only this run's files; Ctrl-C saves a
        checkpoint; a non-finite loss stops the run as diverged."""
        self.folder.clear(keep=(CHECKPOINT,) if self.saved else ())
        try:
            yield
        except KeyboardInterrupt:
            self.save(interrupted=True)
            raise
        except FloatingPointError as exc:       # fit's check: the loss became NaN or inf
            raise TrainingFailed(f"training diverged: {exc} This run's --lr is "
                                 f"{self.config.lr:g}: try a smaller one.") from None
        self.finished = True


def stop_if_diverging(event, info):
    """A fit callback: a step loss far above the first step's stops the run (TrainingFailed)."""
    history = info["history"]
    if event != "step" or not history.step_losses:
        return
    start, loss = history.step_losses[0], info["loss"]
    if start > 0 and loss > DIVERGED * start:
        lr = info["optimizer"].param_groups[0].get("initial_lr",
                                                   info["optimizer"].param_groups[0]["lr"])
        raise TrainingFailed(
            f"training diverged at epoch {info['epoch'] + 1}, step {info['step'] + 1}: the loss "
            f"is {loss:.4g}, more than {DIVERGED:g} times its start {start:.4g}; nothing was "
            f"saved from this epoch. Try a smaller --lr (this run: {lr:g}).")


def check_learned(history, lr, default_lr):
    """TrainingFailed when the last epoch's loss is not clearly below the first step's."""
    start, end = history.step_losses[0], history.train_losses[-1]
    if not (math.isfinite(end) and end < LEARNED * start):
        raise TrainingFailed(
            f"the model learned nothing: the loss went from {start:.4g} at the first step to "
            f"{end:.4g} in epoch {history.epochs}. Try another --lr (this run: {lr:g}, "
            f"default {default_lr:g}) or more --epochs; the files written show this run.")


def new_figure(width=7.0, height=4.0):
    """A matplotlib Figure that is not registered with pyplot: no GUI, no global state."""
    from matplotlib.figure import Figure
    return Figure(figsize=(width, height), layout="constrained")


def save_figure(fig, folder, name, dpi):
    with folder.write(name) as f:
        fig.savefig(f, format="png", dpi=dpi)


def save_loss_plot(history, folder, name, title, levels=None):
    """The loss curve as a PNG; `levels` {label: loss} adds dashed reference lines."""
    fig = new_figure()
    ax = history.plot(ax=fig.add_subplot(), title=title)
    for k, (label, value) in enumerate((levels or {}).items()):
        ax.axhline(value, ls="--", lw=1, color=f"C{k + 2}", label=label)
    if levels:
        ax.legend()
    save_figure(fig, folder, name, dpi=120)

"""The training loop: `fit` runs epochs of minibatch steps and returns a `History`.

One step is the four lines every training loop has:

    loss = loss_fn(model(x), y)          # or step_fn(model, batch) for other recipes
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

around which `fit` adds what a user wants to see and what protects the run: a progress bar
with the running loss, a NaN/inf check that stops *before* the optimizer step (so the weights
are those of the last good step), evaluation and the learning-rate schedule once per epoch,
and `model.train()` / `model.eval()` switching.
"""
import math
import signal
import threading
import time

from gradspace.autograd import Tensor, no_grad


class StopTraining(Exception):
    """Raise from a callback to end `fit` cleanly after the current step (early stopping)."""


class History:
    """What a run of `fit` recorded.

    step_losses:  the training loss of every step, in order
    epoch_ends:   len(step_losses) at the end of each epoch (where each epoch ends on a plot)
    train_losses: the mean training loss of each epoch (weighted by batch size)
    eval_losses:  the evaluation loss after each epoch (empty without an eval_loader)
    lrs:          the first group's learning rate during each epoch
    epoch_times:  seconds per epoch, evaluation included
    """

    FIELDS = ("step_losses", "epoch_ends", "train_losses", "eval_losses", "lrs", "epoch_times")

    def __init__(self):
        for name in self.FIELDS:
            setattr(self, name, [])

    @property
    def epochs(self):
        """Number of completed epochs."""
        return len(self.train_losses)

    def to_dict(self):
        """The record as a dict of lists of floats (JSON-safe)."""
        return {name: [float(v) for v in getattr(self, name)] for name in self.FIELDS}

    @classmethod
    def from_dict(cls, record):
        """A History holding `record` (from `to_dict`), e.g. to continue a resumed run."""
        history = cls()
        for name in cls.FIELDS:
            values = list(record.get(name, []))
            setattr(history, name, [int(v) for v in values] if name == "epoch_ends" else values)
        return history

    def plot(self, ax=None, title="training loss"):
        """Draw the loss curve: every step faintly, each epoch's mean train (and eval) loss as
        points at the step where the epoch ended. Returns the matplotlib axes."""
        if ax is None:
            import matplotlib.pyplot as plt
            _, ax = plt.subplots(figsize=(7, 4))
        steps = range(1, len(self.step_losses) + 1)
        ax.plot(steps, self.step_losses, lw=0.7, alpha=0.4, color="C0", label="train (step)")
        ends = self.epoch_ends[:len(self.train_losses)]
        if ends:
            ax.plot(ends, self.train_losses[:len(ends)], "o-", color="C0",
                    label="train (epoch mean)")
        if self.eval_losses:
            ax.plot(ends[:len(self.eval_losses)], self.eval_losses[:len(ends)], "s-",
                    color="C1", label="eval")
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
        ax.set_title(title)
        ax.legend()
        return ax

    def __repr__(self):
        last = f", last train loss {self.train_losses[-1]:.4f}" if self.train_losses else ""
        return f"History({self.epochs} epochs, {len(self.step_losses)} steps{last})"


class _NoBar:
    """Stands in for a tqdm bar when progress=False."""

    def update(self, n=1):
        pass

    def set_description(self, *args, **kwargs):
        pass

    def set_postfix(self, *args, **kwargs):
        pass

    def close(self):
        pass


def _progress_bar(total, enabled):
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm  # the notebook widget in Jupyter, text elsewhere
    return tqdm(total=total, unit="step", dynamic_ncols=True, mininterval=0.2)


def _batch_size(batch):
    first = batch[0] if isinstance(batch, (tuple, list)) and batch else batch
    shape = getattr(first, "shape", ())
    return shape[0] if shape else 1


def _default_step(loss_fn):
    def step(model, batch):
        x, y = batch
        return loss_fn(model(x), y)
    return step


def _finite(value, epoch, step, global_step):
    if not math.isfinite(value):
        raise FloatingPointError(
            f"fit: the loss is {value} at epoch {epoch + 1}, step {step + 1} (global step "
            f"{global_step}); training stopped before the optimizer step, so the weights are "
            f"those after the previous step. Try a lower learning rate or check the data.")


def evaluate(model, loader, step_fn):
    """Mean of step_fn(model, batch) over `loader`, weighted by batch size, in eval mode and
    without recording a graph."""
    was_training = getattr(model, "training", True)
    _set_mode(model, training=False)
    total, count = 0.0, 0
    try:
        with no_grad():
            for batch in loader:
                value = step_fn(model, batch)
                n = _batch_size(batch)
                total += (value.item() if isinstance(value, Tensor) else float(value)) * n
                count += n
    finally:
        _set_mode(model, training=was_training)
    return total / max(count, 1)


def _set_mode(model, training):
    method = getattr(model, "train" if training else "eval", None)
    if callable(method):
        method()


def fit(model, loss_fn, optimizer, loader, epochs=1, scheduler=None, eval_loader=None,
        eval_fn=None, progress=True, callbacks=(), step_fn=None, start_epoch=0, history=None):
    """Train `model` for epochs `start_epoch .. epochs - 1`; returns the History.

    loader: yields batches; a batch is `(x, y)` and its loss `loss_fn(model(x), y)`, unless
        `step_fn(model, batch) -> scalar loss Tensor` is given (negative sampling, ...).
    scheduler: stepped once after each epoch. eval_loader: evaluated after each epoch with
        `eval_fn(model, batch) -> loss` (default: step_fn, else loss_fn(model(x), y)).
    progress: a tqdm bar (`tqdm.auto`: a widget in notebooks) showing the epoch's running loss.
    callbacks: callables `cb(event, info)`, event "step" after every optimizer step and "epoch"
        after every epoch; info is a dict with model, optimizer, history, epoch, step, loss.
        Raising `StopTraining` in one ends training after the current step.
    history: a History to append to (continuing a resumed run); a new one by default. The
        caller keeps it when fit is interrupted: KeyboardInterrupt propagates, and one that
        arrives during an optimizer step is held until the step is complete.
    An optimizer with `needs_per_example_grads` (NaturalGradient) is stepped with the
    per-example gradients of loss_fn, computed here.

    A NaN or inf loss raises FloatingPointError naming the epoch and step, before that step's
    update. Returns `history`.
    """
    if loss_fn is None and step_fn is None:
        raise ValueError("fit: pass loss_fn (the loss is loss_fn(model(x), y)) or step_fn")
    history = History() if history is None else history
    if getattr(optimizer, "needs_per_example_grads", False):
        if step_fn is not None or loss_fn is None:
            raise ValueError(f"fit: {type(optimizer).__name__} needs per-example gradients, "
                             f"which fit computes from loss_fn(model(x), y): pass loss_fn "
                             f"and no step_fn")
        one_step = _per_example_step(model, loss_fn, optimizer)
    else:
        one_step = _step(model, step_fn or _default_step(loss_fn), optimizer)
    eval_fn = eval_fn or step_fn or _default_step(loss_fn)
    total = len(loader) * max(epochs - start_epoch, 0) if hasattr(loader, "__len__") else None
    bar = _progress_bar(total, progress)
    try:
        for epoch in range(start_epoch, epochs):
            bar.set_description(f"epoch {epoch + 1}/{epochs}")
            started, lr = time.perf_counter(), optimizer.param_groups[0]["lr"]
            mean, stop = _epoch(model, one_step, loader, epoch, history, bar, callbacks,
                                optimizer)
            history.epoch_ends.append(len(history.step_losses))
            history.train_losses.append(mean)
            history.lrs.append(lr)
            if eval_loader is not None:
                history.eval_losses.append(evaluate(model, eval_loader, eval_fn))
                bar.set_postfix(loss=f"{mean:.4f}", eval=f"{history.eval_losses[-1]:.4f}")
            history.epoch_times.append(time.perf_counter() - started)
            if scheduler is not None:
                scheduler.step()
            info = dict(epoch=epoch, step=None, loss=mean)
            if _notify(callbacks, "epoch", model, optimizer, history, info) or stop:
                break
    finally:
        bar.close()
    return history


def _epoch(model, one_step, loader, epoch, history, bar, callbacks, optimizer):
    """One pass over the loader; returns (mean loss weighted by batch size, stop?)."""
    _set_mode(model, training=True)
    total, count = 0.0, 0
    for step, batch in enumerate(loader):
        value = one_step(batch, epoch, step, len(history.step_losses) + 1)
        n = _batch_size(batch)
        history.step_losses.append(value)
        total, count = total + value * n, count + n
        bar.update(1)
        bar.set_postfix(loss=f"{total / count:.4f}", refresh=False)
        info = dict(epoch=epoch, step=step, loss=value)
        if _notify(callbacks, "step", model, optimizer, history, info):
            return total / count, True
    if count == 0:
        raise ValueError(f"fit: the loader gave no batch in epoch {epoch + 1}")
    return total / count, False


def _step(model, step_fn, optimizer):
    def one_step(batch, epoch, step, global_step):
        loss = step_fn(model, batch)
        value = loss.item()
        _finite(value, epoch, step, global_step)      # before anything changes
        optimizer.zero_grad()
        loss.backward()
        with _HoldInterrupt():
            optimizer.step()
        return value
    return one_step


def _per_example_step(model, loss_fn, optimizer):
    from gradspace.train.optim.natural_gradient import per_example_gradients
    params = [p for group in optimizer.param_groups for p in group["params"]]

    def one_step(batch, epoch, step, global_step):
        x, y = batch
        losses, G = per_example_gradients(model, loss_fn, x, y, params=params)
        value = float(losses.mean())
        _finite(value, epoch, step, global_step)
        extra = {}
        if getattr(optimizer, "fisher", "empirical") == "true":    # the model's own labels
            extra["fisher_rows"] = optimizer.fisher_rows(model, loss_fn, x, y)
        with _HoldInterrupt():
            optimizer.step(G, **extra)
        return value
    return one_step


class _HoldInterrupt:
    """Hold a Ctrl-C that arrives during an optimizer step until the step is done, so an
    interrupted run never has some parameters updated and others not. Only in the main thread
    and only over Python's default handler (a custom SIGINT handler is left alone)."""

    def __enter__(self):
        self.held, self.previous = False, None
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
            self.previous = signal.signal(signal.SIGINT, self._hold)
        return self

    def _hold(self, signum, frame):
        self.held = True

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        if self.held and exc[0] is None:
            raise KeyboardInterrupt
        return False


def _notify(callbacks, event, model, optimizer, history, info):
    """Call every callback; True when one asks to stop."""
    info = dict(info, model=model, optimizer=optimizer, history=history)
    stop = False
    for callback in callbacks:
        try:
            callback(event, info)
        except StopTraining:
            stop = True
    return stop

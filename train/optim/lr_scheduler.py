"""Learning-rate schedules, as PyTorch's `torch.optim.lr_scheduler`.

A scheduler owns a counter `last_epoch` and sets every group's "lr" from it. Making one
records each group's starting lr as `group["initial_lr"]` (the `base_lrs`) and takes a first
step, so right after construction `last_epoch == 0` and the lr is the schedule's value at 0.
Call `scheduler.step()` once per epoch, after `optimizer.step()`:

    for epoch in range(epochs):
        train_one_epoch()                 # optimizer.step() inside
        scheduler.step()                  # last_epoch += 1; lr = schedule(last_epoch)

Each schedule here is written in its closed form, lr(last_epoch); PyTorch computes the same
values recursively from the previous lr (they differ only if something else also changes the
lr). To resume, pass `last_epoch=k` with an optimizer whose groups hold "initial_lr" (one loaded
from a checkpoint does), or restore `state_dict()` with `load_state_dict`.
"""
import math

from gradspace.train.optim.optimizer import Optimizer


class LRScheduler:
    """Base class: subclasses define `lr_at(base_lr, epoch)`."""

    def __init__(self, optimizer, last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected an Optimizer, got "
                            f"{type(optimizer).__name__}")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for k, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{k}] "
                                   f"when resuming with last_epoch={last_epoch}")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def lr_at(self, base_lr, epoch):
        raise NotImplementedError

    def get_lr(self):
        """The lr of every group at `last_epoch`."""
        return [self.lr_at(base, self.last_epoch) for base in self.base_lrs]

    def step(self):
        """Advance one epoch and set every group's lr."""
        self.last_epoch += 1
        lrs = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = lrs

    def get_last_lr(self):
        """The lrs set by the last step(), one per group."""
        return list(self._last_lr)

    def state_dict(self):
        """Everything but the optimizer (plain numbers and lists: JSON-safe)."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)
        for group, lr in zip(self.optimizer.param_groups, self._last_lr):
            group["lr"] = lr


def _positive_int(name, key, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name}: {key} must be an int >= 1, got {value!r}")


class StepLR(LRScheduler):
    """lr = base_lr * gamma ** (last_epoch // step_size): decay by gamma every step_size epochs."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        _positive_int("StepLR", "step_size", step_size)
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, epoch):
        return base_lr * self.gamma ** (epoch // self.step_size)


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * last_epoch / T_max)) / 2.

    Half a cosine from base_lr at epoch 0 down to eta_min at epoch T_max (and, as in PyTorch,
    back up again after T_max: the schedule is periodic with period 2 T_max).
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        _positive_int("CosineAnnealingLR", "T_max", T_max)
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, epoch):
        return self.eta_min + (base_lr - self.eta_min) * (
            1 + math.cos(math.pi * epoch / self.T_max)) / 2


class LinearLR(LRScheduler):
    """lr = base_lr * (start_factor + (end_factor - start_factor) * min(last_epoch, total_iters)
    / total_iters): a straight line from start_factor to end_factor, then flat (warm-up)."""

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5,
                 last_epoch=-1):
        if not 0 < start_factor <= 1:
            raise ValueError(f"LinearLR: start_factor must be in (0, 1], got {start_factor!r}")
        if not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: end_factor must be in [0, 1], got {end_factor!r}")
        _positive_int("LinearLR", "total_iters", total_iters)
        self.start_factor, self.end_factor = start_factor, end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, epoch):
        done = min(epoch, self.total_iters) / self.total_iters
        return base_lr * (self.start_factor + (self.end_factor - self.start_factor) * done)

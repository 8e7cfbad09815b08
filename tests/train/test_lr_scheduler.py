"""Learning-rate schedules: PyTorch's semantics (a first step at construction, last_epoch,
get_last_lr, state_dict) and their closed forms."""
import math

import numpy as np
import pytest

from gradspace.autograd import Tensor
from gradspace.train.optim import SGD
from gradspace.train.optim.lr_scheduler import CosineAnnealingLR, LinearLR, StepLR

EPOCHS = 30


def optimizer(lrs=(0.5,)):
    return SGD([{"params": [Tensor(np.zeros(2), requires_grad=True)], "lr": lr} for lr in lrs],
               lr=1.0)


def closed_step(base, e, step_size, gamma):
    return base * gamma ** math.floor(e / step_size)


def closed_cosine(base, e, T_max, eta_min):
    return eta_min + 0.5 * (base - eta_min) * (1 + math.cos(e * math.pi / T_max))


def closed_linear(base, e, start, end, total):
    return base * (start + (end - start) * min(e, total) / total)


CASES = [
    (lambda o: StepLR(o, step_size=4, gamma=0.5), lambda b, e: closed_step(b, e, 4, 0.5)),
    (lambda o: StepLR(o, step_size=1), lambda b, e: closed_step(b, e, 1, 0.1)),
    (lambda o: CosineAnnealingLR(o, T_max=10), lambda b, e: closed_cosine(b, e, 10, 0.0)),
    (lambda o: CosineAnnealingLR(o, T_max=7, eta_min=0.01),
     lambda b, e: closed_cosine(b, e, 7, 0.01)),
    (lambda o: LinearLR(o), lambda b, e: closed_linear(b, e, 1 / 3, 1.0, 5)),
    (lambda o: LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=12),
     lambda b, e: closed_linear(b, e, 1.0, 0.1, 12)),
]


@pytest.mark.parametrize("make, closed", CASES)
def test_schedules_match_their_closed_forms(make, closed):
    opt = optimizer(lrs=(0.5, 0.02))
    sched = make(opt)
    assert sched.last_epoch == 0                       # constructing takes the first step
    for epoch in range(EPOCHS):
        expected = [closed(0.5, epoch), closed(0.02, epoch)]
        np.testing.assert_allclose(sched.get_last_lr(), expected, rtol=1e-12)
        np.testing.assert_allclose([g["lr"] for g in opt.param_groups], expected, rtol=1e-12)
        opt.step()
        sched.step()
        assert sched.last_epoch == epoch + 1
    assert [g["initial_lr"] for g in opt.param_groups] == [0.5, 0.02]


@pytest.mark.parametrize("make, closed", CASES)
def test_state_dict_and_last_epoch_resume_the_schedule(make, closed):
    opt = optimizer()
    sched = make(opt)
    for _ in range(9):
        sched.step()
    saved = sched.state_dict()
    assert "optimizer" not in saved
    opt2 = optimizer(lrs=(123.0,))
    opt2.load_state_dict(opt.state_dict())             # carries "initial_lr" along
    sched2 = make(opt2)
    sched2.load_state_dict(saved)
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    for _ in range(5):
        sched.step()
        sched2.step()
        assert sched2.get_last_lr() == sched.get_last_lr()
    np.testing.assert_allclose(sched2.get_last_lr(), [closed(0.5, 14)], rtol=1e-12)


def test_resuming_with_last_epoch_needs_initial_lr():
    with pytest.raises(KeyError, match="initial_lr"):
        StepLR(optimizer(), step_size=2, last_epoch=5)
    opt = optimizer()
    opt.param_groups[0]["initial_lr"] = 0.5
    sched = StepLR(opt, step_size=2, gamma=0.5, last_epoch=5)
    assert sched.last_epoch == 6
    assert sched.get_last_lr() == [0.5 * 0.5 ** 3]


@pytest.mark.parametrize("make", [
    lambda o: StepLR(o, step_size=0), lambda o: CosineAnnealingLR(o, T_max=0),
    lambda o: LinearLR(o, start_factor=0.0), lambda o: LinearLR(o, end_factor=1.5),
    lambda o: LinearLR(o, total_iters=0)])
def test_bad_schedule_arguments_raise(make):
    opt = optimizer()
    with pytest.raises(ValueError):
        make(opt)
    assert opt.param_groups[0]["lr"] == 0.5


def test_a_scheduler_needs_an_optimizer():
    with pytest.raises(TypeError, match="Optimizer"):
        StepLR([0.1], step_size=1)

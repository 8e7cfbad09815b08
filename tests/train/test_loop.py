"""train.fit and History: training works, a NaN stops it before the weights are hurt, the
record is right, schedules and modes switch per epoch, Ctrl-C never splits an update."""
import json
import os
import signal

import numpy as np
import pytest

import gradspace.nn.functional as F
from gradspace import nn
from gradspace.autograd import Tensor
from gradspace.train import History, StopTraining, fit
from gradspace.train.data import DataLoader, TensorDataset
from gradspace.train.loop import evaluate
from gradspace.train.optim import SGD, NaturalGradient
from gradspace.train.optim.lr_scheduler import StepLR

RNG = np.random.default_rng(0)
X = RNG.standard_normal((64, 3)).astype(np.float32)
W_TRUE = np.array([[1.5], [-2.0], [0.5]], dtype=np.float32)
Y = X @ W_TRUE + 0.3


def regression(batch_size=16, x=X):
    model = nn.Linear(3, 1)
    loader = DataLoader(TensorDataset(x, Y), batch_size=batch_size, shuffle=True, seed=0)
    return model, loader


def test_loss_decreases_on_a_tiny_regression():
    model, loader = regression()
    history = fit(model, F.mse_loss, SGD(model.parameters(), lr=0.1), loader, epochs=20,
                  progress=False)
    assert history.train_losses[-1] < 0.01 * history.train_losses[0]
    np.testing.assert_allclose(model.weight.data.T, W_TRUE, atol=0.05)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_nan_or_inf_loss_stops_before_the_step_and_says_where(bad):
    x = X.copy()
    model, loader = regression(batch_size=16, x=x)
    loader.shuffle = False                  # rows 32..47 are batch 3 of every epoch
    x[40, 1] = bad
    seen = []
    with pytest.raises(FloatingPointError, match=r"epoch 1, step 3 \(global step 3\)"):
        fit(model, F.mse_loss, SGD(model.parameters(), lr=0.1), loader, epochs=2,
            progress=False, callbacks=[lambda event, info: seen.append(
                [p.data.copy() for p in info["model"].parameters()])])
    assert len(seen) == 2                   # two good steps ran
    for now, before in zip(model.parameters(), seen[-1]):
        np.testing.assert_array_equal(now.data, before)
        assert np.all(np.isfinite(now.data))


def test_history_records_every_step_and_epoch():
    model, loader = regression(batch_size=20)         # 64 rows: batches of 20, 20, 20, 4
    eval_loader = DataLoader(TensorDataset(X[:10], Y[:10]), batch_size=4)
    history = fit(model, F.mse_loss, SGD(model.parameters(), lr=0.05), loader, epochs=3,
                  eval_loader=eval_loader, progress=False)
    assert history.epochs == 3 and len(history.step_losses) == 12
    assert history.epoch_ends == [4, 8, 12]
    sizes = np.array([20, 20, 20, 4])
    for k in range(3):
        steps = np.array(history.step_losses[4 * k:4 * k + 4])
        assert history.train_losses[k] == pytest.approx((steps * sizes).sum() / 64)
    assert len(history.eval_losses) == 3 and len(history.epoch_times) == 3
    by_hand = F.mse_loss(model(Tensor(X[:10])), Tensor(Y[:10])).item()
    assert history.eval_losses[-1] == pytest.approx(by_hand, rel=1e-5)
    record = json.loads(json.dumps(history.to_dict()))
    again = History.from_dict(record)
    assert again.to_dict() == history.to_dict() and again.epochs == 3


def test_history_plot_draws_the_curves():
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    model, loader = regression()
    history = fit(model, F.mse_loss, SGD(model.parameters(), lr=0.05), loader, epochs=2,
                  eval_loader=loader, progress=False)
    ax = Figure().add_subplot()
    assert history.plot(ax=ax) is ax
    assert len(ax.lines) == 3
    np.testing.assert_allclose(ax.lines[0].get_ydata(), history.step_losses)
    assert History().plot() is not None        # makes its own axes; empty is fine


def test_the_schedule_steps_once_per_epoch_and_lrs_are_recorded():
    model, loader = regression()
    opt = SGD(model.parameters(), lr=0.1)
    history = fit(model, F.mse_loss, opt, loader, epochs=5, progress=False,
                  scheduler=StepLR(opt, step_size=2, gamma=0.5))
    assert history.lrs == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])
    assert opt.param_groups[0]["lr"] == pytest.approx(0.025)


class ModeSpy(nn.Module):
    """A Linear that records whether it was in training mode at each call."""

    def __init__(self):
        super().__init__()
        self.inner = nn.Linear(3, 1)
        self.modes = []

    def forward(self, x):
        self.modes.append(self.training)
        return self.inner(x)


def test_train_and_eval_modes_switch():
    model = ModeSpy()
    _, loader = regression(batch_size=32)
    model.eval()
    fit(model, F.mse_loss, SGD(model.parameters(), lr=0.01), loader, epochs=2,
        eval_loader=DataLoader(TensorDataset(X, Y), batch_size=64), progress=False)
    assert model.modes == [True, True, False, True, True, False]
    assert model.training


def test_step_fn_replaces_the_default_loss():
    model, loader = regression()
    calls = []

    def step_fn(m, batch):
        x, y = batch
        calls.append(len(x.data))
        return ((m(x) - y) ** 2).sum() * 0.0 + 7.0 + (m(x) * 0).sum()

    history = fit(model, None, SGD(model.parameters(), lr=0.1), loader, epochs=1,
                  step_fn=step_fn, progress=False)
    assert calls == [16, 16, 16, 16]
    assert history.step_losses == [7.0] * 4


def test_a_callback_can_stop_training_and_interrupts_propagate():
    model, loader = regression()

    def stop_at_six(event, info):
        if event == "step" and len(info["history"].step_losses) == 6:
            raise StopTraining

    history = fit(model, F.mse_loss, SGD(model.parameters(), lr=0.1), loader, epochs=5,
                  callbacks=[stop_at_six], progress=False)
    assert len(history.step_losses) == 6 and history.epochs == 2

    def interrupt(event, info):
        if event == "step" and info["step"] == 1:
            raise KeyboardInterrupt

    kept = History()
    with pytest.raises(KeyboardInterrupt):
        fit(model, F.mse_loss, SGD(model.parameters(), lr=0.1), loader, epochs=5,
            callbacks=[interrupt], progress=False, history=kept)
    assert len(kept.step_losses) == 2 and kept.epochs == 0


class SlowSGD(SGD):
    """SGD that receives Ctrl-C between updating its first and its second parameter."""

    def _update(self, p, grad, state, group):
        super()._update(p, grad, state, group)
        if p is self.param_groups[0]["params"][0]:
            os.kill(os.getpid(), signal.SIGINT)


def test_ctrl_c_during_the_optimizer_step_waits_for_the_step_to_finish():
    model, loader = regression()
    opt = SlowSGD(model.parameters(), lr=0.1)
    before = [p.data.copy() for p in model.parameters()]
    history = History()
    with pytest.raises(KeyboardInterrupt):
        fit(model, F.mse_loss, opt, loader, epochs=1, progress=False, history=history)
    assert history.step_losses == []                   # interrupted inside the first step...
    for p, b in zip(model.parameters(), before):       # ...but after all of its updates
        assert not np.array_equal(p.data, b)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_progress_bar_shows_epoch_and_running_loss(capsys):
    model, loader = regression()
    fit(model, F.mse_loss, SGD(model.parameters(), lr=0.1), loader, epochs=2, progress=True)
    err = capsys.readouterr().err
    assert "epoch 2/2" in err and "loss=" in err


def test_resuming_continues_epochs_and_history():
    model, loader = regression()
    opt = SGD(model.parameters(), lr=0.1)
    history = fit(model, F.mse_loss, opt, loader, epochs=2, progress=False)
    history = fit(model, F.mse_loss, opt, loader, epochs=5, start_epoch=2, history=history,
                  progress=False)
    assert history.epochs == 5 and len(history.step_losses) == 20


def test_natural_gradient_trains_through_fit():
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 3))
    labels = (X[:, 0] > 0).astype(np.int64) + (X[:, 1] > 0)
    loader = DataLoader(TensorDataset(X, labels), batch_size=16, shuffle=True, seed=0)
    opt = NaturalGradient(model.parameters(), lr=0.3, damping=0.1)
    history = fit(model, F.cross_entropy, opt, loader, epochs=6, progress=False)
    assert history.train_losses[-1] < 0.6 * history.train_losses[0]
    with pytest.raises(ValueError, match="per-example"):
        fit(model, None, opt, loader, step_fn=lambda m, b: None, progress=False)


def test_evaluate_weights_batches_by_size():
    model = nn.Linear(3, 1)
    loader = DataLoader(TensorDataset(X[:10], Y[:10]), batch_size=4)
    whole = F.mse_loss(model(Tensor(X[:10])), Tensor(Y[:10])).item()
    assert evaluate(model, loader, lambda m, b: F.mse_loss(m(b[0]), b[1])) == \
        pytest.approx(whole, rel=1e-5)


def test_record_parameters_keeps_the_path_of_theta_through_training():
    from gradspace import autograd
    from gradspace.nn.utils import parameters_to_vector
    from gradspace.train import RecordParameters
    from gradspace.train.optim import SGD

    autograd.manual_seed(0)
    model = nn.Linear(3, 1)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((12, 3)), rng.standard_normal((12, 1))
    loader = DataLoader(TensorDataset(x, y), batch_size=4)           # 3 steps an epoch
    start = parameters_to_vector(model.parameters()).numpy().copy()
    recorder = RecordParameters(model, every=2)
    fit(model, F.mse_loss, SGD(model.parameters(), lr=0.1), loader, epochs=2, progress=False,
        callbacks=[recorder])
    path = recorder.path
    assert path.shape == (1 + 6 // 2, 4)                               # start + every 2nd step
    np.testing.assert_array_equal(path[0], start)
    np.testing.assert_array_equal(path[-1], parameters_to_vector(model.parameters()).numpy())
    assert not np.allclose(path[1], path[0])                          # it moved
    with pytest.raises(ValueError, match="every"):
        RecordParameters(model, every=0)


def test_record_parameters_without_a_model_binds_at_the_first_step():
    from gradspace.train import RecordParameters
    from gradspace.train.optim import SGD

    model = nn.Linear(2, 1)
    x, y = np.ones((4, 2)), np.zeros((4, 1))
    recorder = RecordParameters(every=3)
    with pytest.raises(ValueError, match="nothing recorded"):
        _ = recorder.path
    fit(model, F.mse_loss, SGD(model.parameters(), lr=0.1),
        DataLoader(TensorDataset(x, y), batch_size=1), epochs=2, progress=False,
        callbacks=[recorder])                                # 8 steps: points after 1, 3, 6
    assert recorder.path.shape == (3, 3)

"""SparseAdam: only the rows in the gradient move (value and moments), step for step as
PyTorch's torch.optim.SparseAdam (recorded values, and torch itself when installed); errors."""
import math

import numpy as np
import pytest

from gradspace import nn
from gradspace.autograd import Tensor
from gradspace.train.optim import Adam, SparseAdam

TABLE = np.random.default_rng(5).standard_normal((6, 3))
# Batches of looked-up ids (repeats included, row 5 never seen) and a fixed target per batch.
BATCHES = [np.array([0, 2, 2]), np.array([1, 4]), np.array([0, 0, 3, 1]), np.array([2])]
TARGET = np.linspace(-1, 1, 3)


def loss_of(emb, ids):
    return ((emb(Tensor(ids)) - Tensor(TARGET)) ** 2).sum()


def run_gradspace(steps, **options):
    emb = nn.Embedding(6, 3)
    emb.weight.data[...] = TABLE
    opt = SparseAdam(emb.parameters(), **options)
    out = []
    for ids in BATCHES[:steps]:
        opt.zero_grad()
        loss_of(emb, ids).backward()
        opt.step()
        out.append(emb.weight.numpy().copy())
    return out, opt


def sparse_adam_by_hand(steps, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
    """The docstring's formula in numpy, gradients by hand: d/de sum (e - target)^2 = 2(e - t)."""
    theta, m, v, out = TABLE.copy(), np.zeros_like(TABLE), np.zeros_like(TABLE), []
    for t, ids in enumerate(BATCHES[:steps], start=1):
        rows = np.unique(ids)
        g = np.array([2 * (theta[r] - TARGET) * np.count_nonzero(ids == r) for r in rows])
        m[rows] = betas[0] * m[rows] + (1 - betas[0]) * g
        v[rows] = betas[1] * v[rows] + (1 - betas[1]) * g * g
        step_size = lr * math.sqrt(1 - betas[1] ** t) / (1 - betas[0] ** t)
        theta[rows] -= step_size * m[rows] / (np.sqrt(v[rows]) + eps)
        out.append(theta.copy())
    return out


@pytest.mark.parametrize("options", [{}, {"lr": 0.1, "betas": (0.5, 0.9), "eps": 1e-3}])
def test_steps_follow_the_formula_and_only_seen_rows_move(options):
    got, opt = run_gradspace(4, **options)
    want = sparse_adam_by_hand(4, **options)
    for step, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-7, err_msg=f"step {step + 1}")
    previous = TABLE.astype(np.float32)           # nn.Embedding keeps float32
    for ids, now in zip(BATCHES, got):
        moved = np.flatnonzero(np.any(now != previous, axis=1))
        assert set(moved) == set(ids.tolist())       # exactly the looked-up rows
        previous = now
    state = opt.state[opt.param_groups[0]["params"][0]]
    assert state["step"] == 4
    assert np.all(state["exp_avg"][5] == 0) and np.all(got[-1][5] == TABLE[5].astype(np.float32))


def test_recorded_values_of_torch_sparse_adam():
    # torch 2.13.0: torch.optim.SparseAdam(lr=0.1) on this problem, float32 table, 4 steps.
    got, _ = run_gradspace(4, lr=0.1)
    np.testing.assert_allclose(got[-1][[0, 2]], RECORDED_ROWS_0_2, rtol=1e-5, atol=1e-6)


def test_matches_torch_step_for_step():
    torch = pytest.importorskip("torch")
    for options in ({}, {"lr": 0.1, "betas": (0.5, 0.9), "eps": 1e-3}, {"lr": 0.05,
                                                                         "maximize": True}):
        got, _ = run_gradspace(4, **options)
        emb = torch.nn.Embedding(6, 3, sparse=True)
        with torch.no_grad():
            emb.weight.copy_(torch.tensor(TABLE, dtype=torch.float32))
        opt = torch.optim.SparseAdam(emb.parameters(), **options)
        for step, ids in enumerate(BATCHES):
            opt.zero_grad()
            ((emb(torch.tensor(ids)) - torch.tensor(TARGET, dtype=torch.float32)) ** 2
             ).sum().backward()
            opt.step()
            np.testing.assert_allclose(got[step], emb.weight.detach().numpy(), rtol=1e-5,
                                       atol=1e-6, err_msg=f"{options}, step {step + 1}")


def test_differs_from_adam_which_keeps_moving_unseen_rows():
    emb = nn.Embedding(6, 3)
    emb.weight.data[...] = TABLE
    opt = Adam(emb.parameters(), lr=0.1)
    for ids in BATCHES[:2]:
        opt.zero_grad()
        loss_of(emb, ids).backward()
        opt.step()
    adam_second = emb.weight.numpy()
    sparse_first, sparse_second = run_gradspace(2, lr=0.1)[0]
    assert not np.array_equal(adam_second[[0, 2]], sparse_first[[0, 2]])    # Adam moved them
    assert np.array_equal(sparse_second[[0, 2]], sparse_first[[0, 2]])      # SparseAdam did not


def test_dense_gradient_raises_before_any_change():
    a = Tensor(np.ones((2, 2)), requires_grad=True)
    emb = nn.Embedding(6, 3)
    opt = SparseAdam([emb.weight, a], lr=0.1)
    loss_of(emb, BATCHES[0]).backward()
    (a * 2).sum().backward()
    before = emb.weight.numpy().copy()
    with pytest.raises(RuntimeError, match="SparseAdam does not support dense gradients"):
        opt.step()
    assert np.array_equal(emb.weight.numpy(), before) and not opt.state


@pytest.mark.parametrize("options, bad", [({"lr": 0.0}, "lr=0.0"), ({"lr": -1.0}, "lr=-1.0"),
                                          ({"eps": 0.0}, "eps=0.0"),
                                          ({"betas": (1.0, 0.9)}, r"betas\[0\]=1.0"),
                                          ({"betas": (0.9, -0.1)}, r"betas\[1\]=-0.1"),
                                          ({"betas": (0.9,)}, "pair")])
def test_bad_hyperparameters_name_the_value(options, bad):
    with pytest.raises(ValueError, match=f"SparseAdam.*{bad}"):
        SparseAdam(nn.Embedding(3, 2).parameters(), **options)


RECORDED_ROWS_0_2 = np.array([[-0.98775458, -1.14080894, -0.06476964],
                              [-0.72246552, -0.61357421, 0.91560799]])

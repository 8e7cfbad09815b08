"""NaturalGradient: the Woodbury solve equals a dense solve of the damped empirical Fisher, the
per-example gradients are right, and a step is theta - lr F^{-1} g."""
import numpy as np
import pytest

import gradspace.nn.functional as F
from gradspace import nn
from gradspace.autograd import Tensor, gradients
from gradspace.train.data import DataLoader, TensorDataset
from gradspace.train.loop import fit
from gradspace.train.optim import NaturalGradient, natural_direction, per_example_gradients

RNG = np.random.default_rng(3)


def dense_fisher_solve(G, g, damping):
    B, N = G.shape
    F = G.T @ G / B + damping * np.eye(N)
    return np.linalg.solve(F, g)


@pytest.mark.parametrize("B, N", [(4, 9), (9, 4), (1, 5), (16, 16)])
@pytest.mark.parametrize("damping", [1e-3, 0.5])
def test_woodbury_equals_the_dense_solve(B, N, damping):
    G = RNG.standard_normal((B, N))
    g = G.mean(axis=0)
    np.testing.assert_allclose(natural_direction(G, g, damping),
                               dense_fisher_solve(G, g, damping), rtol=1e-7, atol=1e-9)
    other = RNG.standard_normal(N)                # any vector, not only the mean gradient
    np.testing.assert_allclose(natural_direction(G, other, damping),
                               dense_fisher_solve(G, other, damping), rtol=1e-7, atol=1e-9)


def test_large_n_never_forms_an_n_by_n_matrix():
    B, N, damping = 8, 300_000, 1e-2               # N x N float64 would be 720 GB
    G = RNG.standard_normal((B, N))
    g = G.mean(axis=0)
    d = natural_direction(G, g, damping)
    F_d = G.T @ (G @ d) / B + damping * d          # F d, applied without forming F
    np.testing.assert_allclose(F_d, g, rtol=1e-6, atol=1e-8)


# -- a tiny softmax regression, whose per-example gradients are known in closed form -------------

X = RNG.standard_normal((6, 3))
Y = np.array([0, 2, 1, 1, 0, 2])
W_INIT = RNG.standard_normal((3, 3)) * 0.1
B_INIT = np.zeros(3)


class SoftmaxRegression:
    def __init__(self):
        self.W = Tensor(W_INIT.copy(), requires_grad=True)
        self.b = Tensor(B_INIT.copy(), requires_grad=True)

    def parameters(self):
        return [self.W, self.b]

    def __call__(self, x):
        return x @ self.W + self.b


def cross_entropy(logits, y):
    picked = logits.log_softmax(dim=1)[np.arange(len(y.data)), y.data]
    return -picked.mean()


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def grads_by_hand(W, b):
    """Rows: d(-log p_y)/d(W, b) for each example = (x (p - onehot)^T, p - onehot)."""
    delta = softmax(X @ W + b) - np.eye(3)[Y]                        # (6, 3)
    per_W = X[:, :, None] * delta[:, None, :]                         # (6, 3, 3)
    return np.concatenate([per_W.reshape(6, -1), delta], axis=1)      # (6, 12)


def test_per_example_gradients_match_the_closed_form():
    model = SoftmaxRegression()
    losses, G = per_example_gradients(model, cross_entropy, Tensor(X), Tensor(Y))
    np.testing.assert_allclose(G, grads_by_hand(W_INIT, B_INIT), rtol=1e-10, atol=1e-12)
    p = softmax(X @ W_INIT + B_INIT)
    np.testing.assert_allclose(losses, -np.log(p[np.arange(6), Y]), rtol=1e-12)
    assert model.W.grad is None                                        # .grad untouched
    full = gradients(cross_entropy(model(Tensor(X)), Tensor(Y)), model.parameters())
    np.testing.assert_allclose(G.mean(axis=0), np.concatenate(
        [full[0].data.ravel(), full[1].data]), rtol=1e-10)


def test_steps_are_theta_minus_lr_times_the_dense_fisher_solve():
    lr, damping = 0.5, 1e-2
    model = SoftmaxRegression()
    opt = NaturalGradient(model.parameters(), lr=lr, damping=damping)
    theta = np.concatenate([W_INIT.ravel(), B_INIT])
    for _ in range(5):
        _, G = per_example_gradients(model, cross_entropy, X, Y)
        opt.step(G)
        G_ref = grads_by_hand(theta[:9].reshape(3, 3), theta[9:])
        theta = theta - lr * dense_fisher_solve(G_ref, G_ref.mean(axis=0), damping)
        np.testing.assert_allclose(model.W.data.ravel(), theta[:9], rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(model.b.data, theta[9:], rtol=1e-8, atol=1e-10)
    assert opt.state[model.W]["step"] == 5


def test_natural_gradient_trains_the_model():
    model = SoftmaxRegression()
    opt = NaturalGradient(model.parameters(), lr=0.5, damping=0.1)
    first = cross_entropy(model(Tensor(X)), Tensor(Y)).item()
    for _ in range(10):
        opt.step(per_example_gradients(model, cross_entropy, X, Y)[1])
    assert cross_entropy(model(Tensor(X)), Tensor(Y)).item() < 0.5 * first


def test_bad_arguments_raise_and_change_nothing():
    model = SoftmaxRegression()
    with pytest.raises(ValueError, match="damping=0"):
        NaturalGradient(model.parameters(), lr=0.1, damping=0)
    with pytest.raises(ValueError, match="-1"):
        NaturalGradient(model.parameters(), lr=-1)
    opt = NaturalGradient(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match="per_example_gradients"):
        opt.step()
    with pytest.raises(ValueError, match=r"\(B, 12\).*\(6, 11\)"):
        opt.step(np.zeros((6, 11)))
    G = np.ones((2, 12))
    G[1, 3] = np.nan
    with pytest.raises(FloatingPointError):
        opt.step(G)
    np.testing.assert_array_equal(model.W.data, W_INIT)


# -- the true Fisher: the model's own predictive distribution -----------------------------------

def _logistic_problem():
    rng = np.random.default_rng(11)
    x = rng.standard_normal((10, 3))
    y = (rng.random(10) < 0.5).astype(np.float64)[:, None]
    return x, y, rng.standard_normal(3) * 0.5


def _bce(out, target):
    return F.binary_cross_entropy_with_logits(out, target)


def test_true_fisher_step_on_logistic_regression_is_the_newton_step():
    # Logistic regression: the true Fisher is (1/B) sum p(1-p) x x^T, the Hessian of the mean
    # loss, so lr = 1 with tiny damping takes Newton's step theta - H^{-1} g.
    x, y, w0 = _logistic_problem()
    model = nn.Linear(3, 1, bias=False)
    model.weight.data[...] = w0
    opt = NaturalGradient(model.parameters(), lr=1.0, damping=1e-9, fisher="true")
    losses, G = per_example_gradients(model, _bce, x, y)
    S = opt.fisher_rows(model, _bce, x, y)
    assert S.shape == (20, 3)                               # two labels per example, exact
    opt.step(G, fisher_rows=S)
    p = 1 / (1 + np.exp(-x @ w0))
    g = x.T @ (p - y[:, 0]) / 10
    H = (x * (p * (1 - p))[:, None]).T @ x / 10
    np.testing.assert_allclose(model.weight.numpy()[0], w0 - np.linalg.solve(H, g), rtol=1e-5)


def test_empirical_fisher_step_is_not_the_newton_step():
    x, y, w0 = _logistic_problem()
    model = nn.Linear(3, 1, bias=False)
    model.weight.data[...] = w0
    opt = NaturalGradient(model.parameters(), lr=1.0, damping=1e-9)
    opt.step(per_example_gradients(model, _bce, x, y)[1])
    p = 1 / (1 + np.exp(-x @ w0))
    H = (x * (p * (1 - p))[:, None]).T @ x / 10
    newton = w0 - np.linalg.solve(H, x.T @ (p - y[:, 0]) / 10)
    assert np.abs(model.weight.numpy()[0] - newton).max() > 1e-2


def test_true_fisher_of_softmax_regression_is_exact():
    model = SoftmaxRegression()
    opt = NaturalGradient(model.parameters(), fisher="true")
    S = opt.fisher_rows(model, cross_entropy, Tensor(X), Tensor(Y))
    p = softmax(X @ W_INIT + B_INIT)                               # (6, 3)
    want = np.zeros((12, 12))
    for xb, pb in zip(X, p):
        J = np.concatenate([np.kron(xb[:, None], np.eye(3)), np.eye(3)])   # (12, 3): dz/dtheta^T
        want += J @ (np.diag(pb) - np.outer(pb, pb)) @ J.T / 6
    np.testing.assert_allclose(S.T @ S / len(S), want, rtol=1e-8, atol=1e-12)


def test_true_fisher_of_mse_is_sampled_and_near_the_hessian():
    # y = f(x) + noise, exp(-(y - f)^2): noise variance 1/2, F = E[4 (y-f)^2 x x^T] = 2 X^T X / B
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((3, 2)), rng.standard_normal((3, 1))
    model = nn.Linear(2, 1, bias=False)
    opt = NaturalGradient(model.parameters(), fisher="true", samples=3000, seed=1)
    S = opt.fisher_rows(model, F.mse_loss, x, y)
    assert S.shape == (9000, 2)
    np.testing.assert_allclose(S.T @ S / len(S), 2 * x.T @ x / 3, rtol=0.1, atol=0.05)


def test_fit_drives_the_true_fisher_and_bad_settings_raise():
    x, y, w0 = _logistic_problem()
    model = nn.Linear(3, 1, bias=False)
    opt = NaturalGradient(model.parameters(), lr=1.0, damping=1e-6, fisher="true")
    loader = DataLoader(TensorDataset(x, y), batch_size=10)
    history = fit(model, _bce, opt, loader, epochs=6, progress=False)
    assert history.step_losses[-1] < history.step_losses[0]
    with pytest.raises(TypeError, match="fisher_rows"):
        opt.step(per_example_gradients(model, _bce, x, y)[1])
    with pytest.raises(ValueError, match="fisher must be 'empirical' or 'true', got 'ture'"):
        NaturalGradient(model.parameters(), fisher="ture")
    with pytest.raises(ValueError, match="not a negative log-likelihood"):
        opt.fisher_rows(SoftmaxRegression(), lambda o, t: 2 * cross_entropy(o, t),
                        Tensor(X), Tensor(Y))

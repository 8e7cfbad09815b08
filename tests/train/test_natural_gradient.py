"""NaturalGradient: the Woodbury solve equals a dense solve of the damped empirical Fisher, the
per-example gradients are right, and a step is theta - lr F^{-1} g."""
import numpy as np
import pytest

from gradspace.autograd import Tensor, gradients
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

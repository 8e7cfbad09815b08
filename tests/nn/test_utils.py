"""nn.utils: theta as one vector and back, the gradient vector, and gradient clipping."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gradspace import autograd, nn
from gradspace.autograd import RowSparseGrad, Tensor
from gradspace.nn.utils import (
    clip_grad_norm_,
    grads_to_vector,
    parameters_to_vector,
    vector_to_parameters,
)

rng = np.random.default_rng(0)


def mlp():
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))


shapes = st.lists(st.lists(st.integers(1, 3), max_size=3).map(tuple), min_size=1, max_size=4)


@given(shapes=shapes, seed=st.integers(0, 100))
def test_vector_round_trip_is_the_identity(shapes, seed):
    r = np.random.default_rng(seed)
    params = [nn.Parameter(r.standard_normal(s).astype(np.float32)) for s in shapes]
    originals = [p.data.copy() for p in params]
    theta = parameters_to_vector(params)
    assert theta.shape == (sum(int(np.prod(s)) for s in shapes),)
    np.testing.assert_array_equal(theta.data, np.concatenate([o.ravel() for o in originals]))
    for p in params:
        p.data[...] = 0
    vector_to_parameters(theta, params)
    for p, o in zip(params, originals):
        np.testing.assert_array_equal(p.data, o)
    new = r.standard_normal(theta.shape[0])
    vector_to_parameters(new, params)
    np.testing.assert_allclose(parameters_to_vector(params).data, new, rtol=1e-6)


def test_theta_has_the_length_of_num_parameters_and_is_differentiable():
    model = mlp()
    theta = parameters_to_vector(model.parameters())
    assert theta.shape == (model.num_parameters(),)
    (theta * theta).sum().backward()                 # d |theta|^2 / d p = 2 p
    for p in model.parameters():
        np.testing.assert_allclose(p.grad.data, 2 * p.data, rtol=1e-6)


def test_vector_of_the_wrong_length_names_n_and_changes_nothing():
    model = mlp()
    before = parameters_to_vector(model.parameters()).data.copy()
    with pytest.raises(ValueError, match=r"has 5 elements .* N = 26 \(12 \+ 4 \+ 8 \+ 2\)"):
        vector_to_parameters(np.zeros(5), model.parameters())
    with pytest.raises(ValueError, match="1-d"):
        vector_to_parameters(np.zeros((2, 13)), model.parameters())
    np.testing.assert_array_equal(parameters_to_vector(model.parameters()).data, before)


def test_grads_to_vector_fills_missing_grads_with_zeros_and_densifies_sparse_ones():
    embed = nn.Embedding(4, 2)
    lin = nn.Linear(2, 1)
    lin(embed(np.array([1, 1, 3]))).sum().backward()
    lin.bias.grad = None
    assert isinstance(embed.weight.grad, RowSparseGrad)
    g = grads_to_vector([embed.weight, lin.weight, lin.bias])
    expected = np.concatenate([embed.weight.grad.data.ravel(), lin.weight.grad.data.ravel(), [0]])
    np.testing.assert_allclose(g.data, expected)
    assert not g.data[:2].any() and not g.data[4:6].any()     # rows 0 and 2 were not looked up


def test_grads_to_vector_is_the_gradient_of_a_function_of_theta(f64):
    model = mlp()
    x = Tensor(rng.standard_normal((5, 3)))
    model(x).sum().backward()
    params = list(model.parameters())

    def loss_of_theta(theta):
        """The same model written as a function of theta (the guide's f_theta)."""
        sizes = np.cumsum([0] + [p.numel() for p in params])
        w1, b1, w2, b2 = [theta[int(a):int(b)].reshape(p.shape) for a, b, p in
                          zip(sizes[:-1], sizes[1:], params)]
        return ((x @ w1.T + b1).tanh() @ w2.T + b2).sum()

    numeric = autograd.grad(loss_of_theta)(parameters_to_vector(params).data)
    np.testing.assert_allclose(grads_to_vector(params).data, numeric.data, rtol=1e-10)


def set_grads(params, grads):
    for p, g in zip(params, grads):
        p.grad = Tensor(np.asarray(g, dtype=p.dtype))


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0, np.inf])
def test_clip_returns_the_norm_before_clipping_and_scales_to_max_norm(norm_type):
    params = [nn.Parameter(np.zeros((2, 3))), nn.Parameter(np.zeros(4))]
    grads = [rng.standard_normal((2, 3)), rng.standard_normal(4)]
    set_grads(params, grads)
    flat = np.concatenate([g.ravel() for g in grads])
    expected = np.abs(flat).max() if norm_type == np.inf else np.sum(
        np.abs(flat) ** norm_type) ** (1 / norm_type)
    total = clip_grad_norm_(params, max_norm=0.5, norm_type=norm_type)
    np.testing.assert_allclose(float(total), expected, rtol=1e-6)
    after = np.concatenate([p.grad.data.ravel() for p in params])
    np.testing.assert_allclose(after, flat * 0.5 / (expected + 1e-6), rtol=1e-6)


def test_clip_leaves_small_gradients_alone():
    p = nn.Parameter(np.zeros(3))
    set_grads([p], [[0.1, 0.2, 0.2]])
    grad = p.grad
    total = clip_grad_norm_(p, max_norm=1.0)
    np.testing.assert_allclose(float(total), 0.3, rtol=1e-6)
    assert p.grad is grad


def test_clip_never_scales_a_shared_gradient_twice():
    a, b = nn.Parameter(np.zeros(2)), nn.Parameter(np.zeros(2))
    shared = Tensor(np.array([3.0, 4.0]))
    a.grad = b.grad = shared
    total = clip_grad_norm_([a, b], max_norm=1.0)
    np.testing.assert_allclose(float(total), np.sqrt(2 * 25), rtol=1e-6)    # both count
    factor = 1.0 / (np.sqrt(50) + 1e-6)
    for p in (a, b):
        np.testing.assert_allclose(p.grad.data, [3 * factor, 4 * factor], rtol=1e-6)
    np.testing.assert_array_equal(shared.data, [3.0, 4.0])                # not touched


def test_clip_keeps_a_row_sparse_gradient_sparse_and_coalesces_for_the_norm():
    table = nn.Parameter(np.zeros((5, 2)))
    table.grad = RowSparseGrad(np.array([1, 3, 1]), np.array([[1.0, 0.0], [0.0, 2.0],
                                                             [2.0, 0.0]]), (5, 2))
    total = clip_grad_norm_([table], max_norm=1.0)
    np.testing.assert_allclose(float(total), np.sqrt(3 ** 2 + 2 ** 2), rtol=1e-6)  # 1+2 first
    assert isinstance(table.grad, RowSparseGrad)
    dense = np.zeros((5, 2))
    dense[1, 0], dense[3, 1] = 3, 2
    np.testing.assert_allclose(table.grad.data, dense / (np.sqrt(13) + 1e-6), rtol=1e-6)


def test_clip_errors():
    p = nn.Parameter(np.zeros(2))
    p.grad = Tensor(np.array([np.inf, 0.0]))
    with pytest.raises(RuntimeError, match="inf"):
        clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    with pytest.raises(ValueError):
        clip_grad_norm_(p, -1.0)
    assert float(clip_grad_norm_([nn.Parameter(np.zeros(2))], 1.0)) == 0.0   # no gradients

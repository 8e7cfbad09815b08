"""Reparameterization (the guide's appendix C): theta = psi(phi) leaves the function and the loss
unchanged, while the gradient becomes J_psi(phi)^T grad_theta L and the optimization path moves."""
import copy

import numpy as np
import pytest
from nn_helpers import module_check

import gradspace.nn.functional as F
from gradspace import autograd, nn
from gradspace.autograd import Tensor
from gradspace.nn.parametrize import (
    Exp,
    Scale,
    WeightNorm,
    is_parametrized,
    register_parametrization,
    remove_parametrizations,
)

rng = np.random.default_rng(0)


def positive_linear():
    lin = nn.Linear(3, 2)
    lin.weight.data[...] = np.abs(lin.weight.data) + 0.1        # Exp needs theta > 0
    return lin


def loss_of(module, x, y):
    return F.mse_loss(module(x), y)


def data():
    return Tensor(rng.standard_normal((5, 3))), Tensor(rng.standard_normal((5, 2)))


PSIS = [lambda: Scale(3.0), lambda: Exp(), lambda: WeightNorm(dim=0), lambda: WeightNorm(None)]


@pytest.mark.parametrize("make_psi", PSIS)
def test_same_function_and_same_loss_after_registration(f64, make_psi):
    lin = positive_linear()
    x, y = data()
    before_out, before_loss = lin(x).data.copy(), loss_of(lin, x, y).item()
    register_parametrization(lin, "weight", make_psi())
    assert is_parametrized(lin, "weight") and "weight" not in lin._parameters
    np.testing.assert_allclose(lin(x).data, before_out, rtol=1e-12)
    np.testing.assert_allclose(loss_of(lin, x, y).item(), before_loss, rtol=1e-12)


def gradient_wrt_theta(lin, x, y):
    """grad_theta L for the weight, from an ordinary Linear holding the same theta."""
    plain = nn.Linear(3, 2)
    plain.weight = nn.Parameter(lin.weight.data.copy())
    plain.bias = nn.Parameter(lin.bias.data.copy())
    loss_of(plain, x, y).backward()
    return plain.weight.grad.data


def j_transpose(fn, point, grad_theta):
    """J_fn(point)^T grad_theta, with the Jacobian from autograd.jacobian."""
    jac = autograd.jacobian(fn, point).data                 # theta.shape + point.shape
    return np.tensordot(grad_theta, jac, axes=grad_theta.ndim)


@pytest.mark.parametrize("make_psi", PSIS[:2])
def test_phi_gradient_is_jacobian_transpose_times_theta_gradient(f64, make_psi):
    lin = positive_linear()
    psi = make_psi()
    register_parametrization(lin, "weight", psi)
    x, y = data()
    grad_theta = gradient_wrt_theta(lin, x, y)
    loss_of(lin, x, y).backward()
    phi = lin.parametrizations.weight.original
    expected = j_transpose(psi, phi.data.copy(), grad_theta)
    np.testing.assert_allclose(phi.grad.data, expected, rtol=1e-10, atol=1e-14)
    assert not np.allclose(phi.grad.data, grad_theta)       # but not grad_theta itself


def test_weight_norm_gradients_are_jacobian_transposes_for_g_and_v(f64):
    lin = positive_linear()
    psi = WeightNorm(dim=0)
    register_parametrization(lin, "weight", psi)
    plist = lin.parametrizations.weight
    g, v = plist.original0, plist.original1
    assert g.shape == (2, 1) and v.shape == (2, 3)
    x, y = data()
    grad_theta = gradient_wrt_theta(lin, x, y)
    loss_of(lin, x, y).backward()
    g0, v0 = g.data.copy(), v.data.copy()
    np.testing.assert_allclose(g.grad.data, j_transpose(lambda t: psi(t, Tensor(v0)), g0,
                                                        grad_theta), rtol=1e-10)
    np.testing.assert_allclose(v.grad.data, j_transpose(lambda t: psi(Tensor(g0), t), v0,
                                                        grad_theta), rtol=1e-10)
    # v's gradient is orthogonal to v in each row: moving v along itself does not change theta.
    np.testing.assert_allclose((v.grad.data * v.data).sum(axis=1), 0, atol=1e-12)


def test_same_loss_different_gradient_direction_and_path(f64):
    x, y = data()
    plain = positive_linear()
    reparam = copy.deepcopy(plain)
    register_parametrization(reparam, "weight", Exp())
    assert loss_of(plain, x, y).item() == pytest.approx(loss_of(reparam, x, y).item(), rel=1e-12)
    loss_of(plain, x, y).backward()
    loss_of(reparam, x, y).backward()
    grad_theta = plain.weight.grad.data
    phi = reparam.parametrizations.weight.original
    # The step that plain gradient descent in phi makes in theta, to first order: J J^T grad.
    step = reparam.weight.data * phi.grad.data                   # J = diag(exp(phi))
    cosine = (step * grad_theta).sum() / np.linalg.norm(step) / np.linalg.norm(grad_theta)
    assert cosine > 0 and cosine < 0.999                         # descent, but another direction
    lr = 0.1
    with autograd.no_grad():
        plain.weight.data -= lr * grad_theta
        phi.data -= lr * phi.grad.data
    assert not np.allclose(plain.weight.data, reparam.weight.data, atol=1e-6)


def test_optimizers_see_phi_through_parameters_and_the_old_parameter_object(f64):
    lin = nn.Linear(3, 2)
    old = lin.weight
    theta = old.data.copy()
    register_parametrization(lin, "weight", Scale(2.0))
    names = [n for n, _ in lin.named_parameters()]
    assert names == ["bias", "parametrizations.weight.original"]
    assert lin.parametrizations.weight.original is old           # same object, now phi
    np.testing.assert_allclose(old.data, theta / 2)
    assert list(lin.state_dict()) == ["bias", "parametrizations.weight.original"]


def test_parametrized_module_passes_gradcheck(f64):
    lin = positive_linear()
    register_parametrization(lin, "weight", WeightNorm())
    assert module_check(lin, rng.standard_normal((2, 3)))


@pytest.mark.parametrize("make_psi", PSIS)
def test_remove_keeps_outputs_and_restores_a_plain_parameter(f64, make_psi):
    lin = positive_linear()
    x, _ = data()
    register_parametrization(lin, "weight", make_psi())
    with autograd.no_grad():
        lin.parametrizations.weight.originals()[-1].data[...] *= 1.5      # train a little
    out = lin(x).data.copy()
    remove_parametrizations(lin, "weight")
    assert not is_parametrized(lin) and "parametrizations" not in lin._modules
    assert isinstance(lin.weight, nn.Parameter)
    np.testing.assert_allclose(lin(x).data, out, rtol=1e-12)
    assert sorted(lin.state_dict()) == ["bias", "weight"]


def test_remove_without_leaving_parametrized_makes_phi_the_parameter(f64):
    lin = nn.Linear(3, 2)
    theta = lin.weight.data.copy()
    register_parametrization(lin, "weight", Scale(4.0))
    remove_parametrizations(lin, "weight", leave_parametrized=False)
    np.testing.assert_allclose(lin.weight.data, theta / 4)
    register_parametrization(lin, "weight", WeightNorm())
    with pytest.raises(ValueError, match="single"):
        remove_parametrizations(lin, "weight", leave_parametrized=False)


def test_assigning_the_tensor_sets_phi_by_right_inverse(f64):
    lin = nn.Linear(3, 2)
    register_parametrization(lin, "weight", Scale(5.0))
    lin.weight = np.full((2, 3), 10.0)
    np.testing.assert_allclose(lin.parametrizations.weight.original.data, 2.0)
    np.testing.assert_allclose(lin.weight.data, 10.0)


def test_a_callable_without_right_inverse_starts_phi_at_theta(f64):
    lin = nn.Linear(3, 2)
    theta = lin.weight.data.copy()

    def double(phi):
        return phi * 2

    register_parametrization(lin, "weight", double)
    np.testing.assert_allclose(lin.parametrizations.weight.original.data, theta)
    np.testing.assert_allclose(lin.weight.data, 2 * theta)       # the function changed
    assert "double" in repr(lin)


def test_chained_parametrizations_compose(f64):
    lin = positive_linear()
    theta = lin.weight.data.copy()
    register_parametrization(lin, "weight", Exp())
    register_parametrization(lin, "weight", Scale(3.0))
    np.testing.assert_allclose(lin.weight.data, 3 * theta)           # psi_1(psi_0(phi))
    assert list(lin.state_dict()) == ["bias", "parametrizations.weight.original"]


def test_parametrized_state_dict_round_trip(f64):
    a, b = positive_linear(), positive_linear()
    for m in (a, b):
        register_parametrization(m, "weight", WeightNorm())
    assert list(a.state_dict()) == ["bias", "parametrizations.weight.original0",
                                    "parametrizations.weight.original1"]
    b.load_state_dict(a.state_dict())
    x, _ = data()
    np.testing.assert_allclose(b(x).data, a(x).data, rtol=1e-12)


def test_registration_errors():
    lin = positive_linear()
    lin.weight.data[0, 0] = -1.0
    before = lin.weight.data.copy()
    with pytest.raises(ValueError, match="theta > 0.*1 of 6"):
        register_parametrization(lin, "weight", Exp())
    np.testing.assert_array_equal(lin.weight.data, before)
    assert not is_parametrized(lin)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(6,\)"):
        register_parametrization(lin, "weight", lambda phi: phi.reshape(-1))
    with pytest.raises(ValueError, match="no parameter 'kernel'"):
        register_parametrization(lin, "kernel", Scale(2.0))
    with pytest.raises(ValueError, match="no parametrization"):
        remove_parametrizations(lin, "weight")
    with pytest.raises(ValueError, match="nonzero"):
        Scale(0)

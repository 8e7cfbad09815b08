"""autograd.functional: grad, value_and_grad, vjp, jvp, directional_derivative, jacobian,
hessian, hvp, and gradcheck/gradgradcheck catching wrong derivatives."""
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays, shapes

from gradspace import autograd
from gradspace.autograd import Function, GradcheckError, Tensor


@pytest.fixture(autouse=True)
def _float64():
    autograd.set_default_dtype(np.float64)


def f_vector(x):
    """R^n -> R^n, with a non-diagonal Jacobian."""
    return (x.sin() * x.sum()).tanh() + x ** 2


def jacobian_of_f_vector(a):
    s = a.sum()
    inner = np.sin(a) * s
    sech2 = 1 - np.tanh(inner) ** 2
    return sech2[:, None] * (np.diag(np.cos(a) * s) + np.sin(a)[:, None]) + np.diag(2 * a)


def cubic(x):
    """sum(x^3) + (sum x)^2: gradient 3x^2 + 2 sum(x), Hessian diag(6x) + 2."""
    return (x ** 3).sum() + x.sum() ** 2


# -- grad, value_and_grad ----------------------------------------------------------------------

def test_grad_of_one_argument():
    a = np.array([0.5, -1.0, 2.0])
    g = autograd.grad(cubic)(a)
    assert isinstance(g, Tensor) and g.shape == a.shape
    np.testing.assert_allclose(g.data, 3 * a ** 2 + 2 * a.sum())


def test_grad_with_argnums_int_and_tuple():
    def f(x, y, z):
        return (x * y.exp()).sum() + z.sum() * 0

    x, y, z = np.array([1.0, 2.0]), np.array([0.5, -0.5]), np.array([3.0])
    X, Y, Z = Tensor(x), Tensor(y), Tensor(z)      # arguments not differentiated pass as given
    np.testing.assert_allclose(autograd.grad(f, argnums=1)(X, y, Z).data, x * np.exp(y))
    gx, gz = autograd.grad(f, argnums=(0, 2))(x, Y, z)
    np.testing.assert_allclose(gx.data, np.exp(y))
    np.testing.assert_array_equal(gz.data, [0.0])
    (only,) = autograd.grad(f, argnums=(-2,))(X, y, Z)
    np.testing.assert_allclose(only.data, x * np.exp(y))


def test_value_and_grad():
    a = np.array([0.5, -1.0, 2.0])
    value, g = autograd.value_and_grad(cubic)(a)
    assert value.item() == pytest.approx((a ** 3).sum() + a.sum() ** 2)
    np.testing.assert_allclose(g.data, 3 * a ** 2 + 2 * a.sum())


def test_grad_needs_a_scalar_function():
    with pytest.raises(TypeError):
        autograd.grad(lambda x: x * 2)(np.ones(3))


def test_nested_grad():
    d3 = autograd.grad(autograd.grad(autograd.grad(lambda x: x.sin() * x)))
    for a in (0.3, -1.1, 2.0):
        # (x sin x)''' = -3 sin x - x cos x
        assert d3(np.array(a)).item() == pytest.approx(-3 * np.sin(a) - a * np.cos(a))


def test_grad_inside_grad_sees_the_outer_variable():
    # d/dy [ d/dx (x^2 y^3) at x = y ] = d/dy (2 y^4) = 8 y^3
    def inner(y):
        return autograd.grad(lambda x: (x ** 2 * y ** 3).sum())(y).sum()
    assert autograd.grad(inner)(np.array(1.5)).item() == pytest.approx(8 * 1.5 ** 3)


def test_nested_derivatives_do_not_confuse_their_variables():
    # the classic "perturbation confusion" test: d/dx [x * d/dy (x + y) at y = x] = d/dx x = 1
    def outer(x):
        return x * autograd.grad(lambda y: x + y)(x)
    assert autograd.grad(outer)(np.array(3.0)).item() == 1.0


# -- vjp, jvp, directional derivative, jacobian ------------------------------------------------

@given(a=arrays((4,)), v=arrays((4,)))
def test_vjp_is_v_transpose_j(a, v):
    out, vj = autograd.vjp(f_vector, a, v)
    np.testing.assert_allclose(out.data, f_vector(Tensor(a)).data)
    np.testing.assert_allclose(vj.data, v @ jacobian_of_f_vector(a), atol=1e-10)


@given(a=arrays((4,)), u=arrays((4,)))
def test_jvp_is_j_u(a, u):
    out, ju = autograd.jvp(f_vector, a, u)
    np.testing.assert_allclose(out.data, f_vector(Tensor(a)).data)
    np.testing.assert_allclose(ju.data, jacobian_of_f_vector(a) @ u, atol=1e-10)
    np.testing.assert_allclose(ju.data, autograd.jacobian(f_vector, a).data @ u, atol=1e-10)


class Counted(Function):
    """Doubles its input and counts its backward and jvp calls (class attributes)."""
    backward_calls = 0
    jvp_calls = 0

    def forward(self, a):
        return 2 * a

    def backward(self, grad, out):
        Counted.backward_calls += 1
        return (grad * 2,)

    def jvp(self, out, da):
        Counted.jvp_calls += 1
        return da * 2


def test_jvp_costs_one_forward_pass_and_no_backward():
    forward_calls = []

    def f(x):
        forward_calls.append(1)
        return Counted.apply(x).tanh() * x

    def count(transform, n):
        forward_calls.clear()
        Counted.backward_calls = Counted.jvp_calls = 0
        transform(f, np.linspace(-1, 1, n), np.ones(n))
        return len(forward_calls), Counted.backward_calls, Counted.jvp_calls

    assert count(autograd.jvp, 2) == count(autograd.jvp, 200) == (1, 0, 1)
    # the same count for a Jacobian grows with the size of f's output
    assert count(lambda f, x, u: autograd.jacobian(f, x), 200)[1] >= 200


@given(a=arrays((3,)), u=arrays((3,)))
def test_directional_derivative_is_grad_dot_u(a, u):
    d = autograd.directional_derivative(cubic, a, u)
    assert d.shape == ()
    assert d.item() == pytest.approx(float((3 * a ** 2 + 2 * a.sum()) @ u), abs=1e-10)


@given(shape_x=shapes(max_dims=2, max_side=3), shape_out=shapes(max_dims=2, max_side=3),
       data=st.data())
def test_jacobian_has_shape_out_plus_in_and_matches_finite_differences(shape_x, shape_out,
                                                                       data):
    a = data.draw(arrays(shape_x), label="x")
    m = data.draw(arrays(shape_out + shape_x), label="matrix")
    axes = tuple(range(len(shape_out), len(shape_out) + len(shape_x)))

    def f(x):                                     # f(x)[i] = tanh(sum_j M[i, j] x[j])
        return (Tensor(m) * x).sum(axes).tanh() if axes else (Tensor(m) * x).tanh()

    jac = autograd.jacobian(f, a)
    assert jac.shape == shape_out + shape_x
    inner = np.tensordot(m, a, axes=len(shape_x))
    expected = (1 - np.tanh(inner) ** 2)[(...,) + (None,) * len(shape_x)] * m
    np.testing.assert_allclose(jac.data, expected, atol=1e-12)


# -- hessian, hvp ----------------------------------------------------------------------------

@given(a=arrays((4,)))
def test_hessian_is_symmetric_and_matches_the_closed_form(a):
    h = autograd.hessian(cubic, a)
    assert h.shape == (4, 4)
    np.testing.assert_allclose(h.data, h.data.T)
    np.testing.assert_allclose(h.data, np.diag(6 * a) + 2, atol=1e-12)


def test_hessian_of_a_quadratic_form_is_a_plus_a_transpose():
    a = np.arange(9.0).reshape(3, 3) - 4
    h = autograd.hessian(lambda x: x @ (Tensor(a) @ x), np.array([0.5, 1.0, -2.0]))
    np.testing.assert_allclose(h.data, a + a.T, atol=1e-12)


@given(a=arrays((2, 2)), v=arrays((2, 2)))
def test_hvp_equals_hessian_times_v(a, v):
    def f(x):
        return (x.sin() * x).sum() * x.sum()
    value, hv = autograd.hvp(f, a, v)
    assert value.item() == pytest.approx(f(Tensor(a)).item())
    h = autograd.hessian(f, a).data.reshape(4, 4)
    np.testing.assert_allclose(hv.data, (h @ v.reshape(-1)).reshape(2, 2), atol=1e-10)


# -- gradcheck and gradgradcheck catch wrong derivatives ---------------------------------------

WRONG = (1, 2)   # the one element whose derivative WrongAt gets wrong


class WrongAt(Function):
    """x^2 whose derivative is right everywhere but at WRONG, where it is off by 1."""

    def forward(self, a):
        return a * a

    def backward(self, grad, out):
        (a,) = self.inputs
        error = np.zeros(a.shape)
        error[WRONG] = 1.0
        return (grad * (2 * a + Tensor(error)),)


def test_gradcheck_names_the_input_the_element_and_both_values():
    x = np.arange(6.0).reshape(2, 3) / 4
    y = np.ones(3)
    with pytest.raises(GradcheckError) as info:
        autograd.gradcheck(lambda y, x: WrongAt.apply(x) + y, (y, x))
    message = str(info.value)
    assert "input 1" in message
    assert str(WRONG) in message
    analytic = float(re.search(r"analytic (\S+?),", message).group(1))
    numeric = float(re.search(r"numeric (\S+)", message).group(1))
    assert analytic == pytest.approx(2 * x[WRONG] + 1)
    assert numeric == pytest.approx(2 * x[WRONG], rel=1e-6)


def test_gradcheck_passes_a_right_derivative():
    assert autograd.gradcheck(lambda x: x * x, (np.arange(6.0).reshape(2, 3),))


class NanDerivative(Function):
    def forward(self, a):
        return 2 * a

    def backward(self, grad, out):
        return (grad * float("nan"),)


def test_gradcheck_does_not_pass_a_nan_derivative():
    with pytest.raises(GradcheckError, match="nan"):
        autograd.gradcheck(NanDerivative.apply, (np.ones(3),))


def test_gradcheck_of_a_function_that_returns_a_view_of_its_input():
    # the output shares memory with x; the finite differences must not see it move
    assert autograd.gradcheck(lambda x: x[0], (np.ones((2, 3)),))
    assert autograd.gradcheck(lambda x: x.reshape(6), (np.ones((2, 3)),))


def test_gradcheck_checks_every_floating_input_in_float64():
    seen = []

    def f(a, b, ids):
        seen.append((str(a.dtype), str(b.dtype), str(ids.dtype)))
        return a[ids] * b

    assert autograd.gradcheck(f, (np.ones(3, np.float32), Tensor([2.0, 3.0]), np.array([0, 2])))
    assert set(seen) == {("float64", "float64", "int64")}


class DetachedSquare(Function):
    """x^2 with a backward right to first order, but built from a detached x: invisible to
    gradcheck, caught by gradgradcheck (the second derivative comes out 0 instead of 2)."""

    def forward(self, a):
        return a * a

    def backward(self, grad, out):
        return (grad * 2 * self.inputs[0].detach(),)


def test_gradgradcheck_catches_a_wrong_second_derivative():
    x = np.array([0.5, -1.5, 2.0])
    assert autograd.gradcheck(DetachedSquare.apply, (x,))
    with pytest.raises(GradcheckError):
        autograd.gradgradcheck(DetachedSquare.apply, (x,))
    assert autograd.gradgradcheck(lambda x: x * x, (x,))

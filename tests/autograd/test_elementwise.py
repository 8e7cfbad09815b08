"""Elementwise ops: values against numpy, first and second derivatives against finite
differences on drawn shapes (broadcasting, size-1 dims and 0-d included), dtypes, and the
subgradients chosen at kinks."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import (
    arrays,
    away_from,
    bounded,
    broadcastable_shapes,
    check_op,
    on_lattice,
    positive,
    shapes,
)

from gradspace import autograd
from gradspace.autograd import Tensor
from gradspace.autograd.ops.elementwise import SigmoidBackward, TanhBackward

LOW, HIGH = -0.5, 0.5     # clamp's bounds in the tables below


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


# name: (elements of x, the op on a Tensor, numpy's version)
UNARY = {
    "neg": (bounded(), lambda x: -x, np.negative),
    "exp": (bounded(), lambda x: x.exp(), np.exp),
    "log": (positive(), lambda x: x.log(), np.log),
    "sqrt": (positive(), lambda x: x.sqrt(), np.sqrt),
    "tanh": (bounded(), lambda x: x.tanh(), np.tanh),
    "sigmoid": (bounded(), lambda x: x.sigmoid(), sigmoid),
    "relu": (away_from([0]), lambda x: x.relu(), lambda a: np.maximum(a, 0)),
    "abs": (away_from([0]), lambda x: x.abs(), np.abs),
    "sin": (bounded(), lambda x: x.sin(), np.sin),
    "cos": (bounded(), lambda x: x.cos(), np.cos),
    "clamp": (away_from([LOW, HIGH]), lambda x: x.clamp(LOW, HIGH),
              lambda a: np.clip(a, LOW, HIGH)),
    "clamp_min": (away_from([LOW]), lambda x: x.clamp(min=LOW), lambda a: np.maximum(a, LOW)),
    "clamp_max": (away_from([HIGH]), lambda x: x.clamp(max=HIGH), lambda a: np.minimum(a, HIGH)),
    "pow_int": (bounded(), lambda x: x ** 3, lambda a: a ** 3),
    "pow_real": (positive(), lambda x: x ** 2.5, lambda a: a ** 2.5),
    "pow_negative": (positive(), lambda x: x ** -1.5, lambda a: a ** -1.5),
    "square": (bounded(), lambda x: x ** 2, np.square),
    # reflected forms and Python numbers on either side
    "radd": (bounded(), lambda x: 3 + x, lambda a: 3 + a),
    "add_number": (bounded(), lambda x: x + 1.5, lambda a: a + 1.5),
    "rsub": (bounded(), lambda x: 1 - x, lambda a: 1 - a),
    "sub_number": (bounded(), lambda x: x - 1.5, lambda a: a - 1.5),
    "rmul": (bounded(), lambda x: 2 * x, lambda a: 2 * a),
    "mul_number": (bounded(), lambda x: x * -0.5, lambda a: a * -0.5),
    "rtruediv": (away_from([0], 0.3), lambda x: 2.0 / x, lambda a: 2.0 / a),
    "truediv_number": (bounded(), lambda x: x / 4, lambda a: a / 4),
    "rpow": (bounded(), lambda x: 2.0 ** x, lambda a: 2.0 ** a),
}

# name: (elements of a, elements of b, the op, numpy's version)
BINARY = {
    "add": (bounded(), bounded(), lambda a, b: a + b, np.add),
    "sub": (bounded(), bounded(), lambda a, b: a - b, np.subtract),
    "mul": (bounded(), bounded(), lambda a, b: a * b, np.multiply),
    "div": (bounded(), away_from([0], 0.3), lambda a, b: a / b, np.divide),
    "pow": (positive(), bounded(), lambda a, b: a ** b, np.power),
    "maximum": (on_lattice(0), on_lattice(0.5), lambda a, b: a.maximum(b), np.maximum),
    "minimum": (on_lattice(0), on_lattice(0.5), lambda a, b: a.minimum(b), np.minimum),
    # the backward primitives of tanh and sigmoid, g (1 - t^2) and g s (1 - s), as ops of their
    # own: create_graph differentiates them
    "tanh_backward": (bounded(), bounded(), lambda g, t: TanhBackward.apply(g, t),
                      lambda g, t: g * (1 - t * t)),
    "sigmoid_backward": (bounded(), bounded(), lambda g, s: SigmoidBackward.apply(g, s),
                         lambda g, s: g * s * (1 - s)),
}


@pytest.mark.parametrize("name", UNARY)
@given(data=st.data())
def test_unary_gradcheck(name, data):
    elements, op, reference = UNARY[name]
    x = data.draw(shapes().flatmap(lambda s: arrays(s, elements)), label="x")
    check_op(op, x, reference=reference)


@pytest.mark.parametrize("name", BINARY)
@given(data=st.data())
def test_binary_gradcheck_with_broadcasting(name, data):
    elements_a, elements_b, op, reference = BINARY[name]
    shape_a, shape_b = data.draw(broadcastable_shapes(), label="shapes")
    a = data.draw(arrays(shape_a, elements_a), label="a")
    b = data.draw(arrays(shape_b, elements_b), label="b")
    check_op(op, a, b, reference=reference)


@given(shapes=broadcastable_shapes(num_shapes=3), data=st.data())
def test_where_gradcheck_with_broadcasting(shapes, data):
    shape_c, shape_a, shape_b = shapes
    condition = data.draw(arrays(shape_c, st.booleans(), dtype=np.bool_), label="condition")
    a = data.draw(arrays(shape_a), label="a")
    b = data.draw(arrays(shape_b), label="b")
    check_op(lambda a, b: autograd.where(Tensor(condition), a, b), a, b,
             reference=lambda a, b: np.where(condition, a, b))


def test_where_sends_gradient_to_the_chosen_side_only():
    condition = np.array([True, False, True])
    a = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = Tensor([4.0, 5.0, 6.0], requires_grad=True)
    autograd.where(condition, a, b).backward(Tensor([10.0, 20.0, 30.0]))
    np.testing.assert_array_equal(a.grad.data, [10.0, 0.0, 30.0])
    np.testing.assert_array_equal(b.grad.data, [0.0, 20.0, 0.0])


@pytest.mark.parametrize("name", ["mul", "div", "pow", "maximum"])
def test_only_inputs_that_need_a_gradient_get_one(name):
    op = BINARY[name][2]
    a = Tensor(np.array([1.25, 2.5]), requires_grad=True)
    b = Tensor(np.array([0.75, 1.75]))                   # a constant
    out = op(a, b)
    out.sum().backward()
    assert b.grad is None and not b.requires_grad
    assert a.grad is not None
    assert autograd.gradcheck(lambda a: op(a, b), (a.data,))


# -- dtypes ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", UNARY)
def test_float32_stays_float32_through_unary_ops_and_their_gradients(name):
    _, op, _ = UNARY[name]
    x = Tensor(np.array([[0.75, 1.5, 2.25]], dtype=np.float32), requires_grad=True)
    out = op(x)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("name", BINARY)
def test_float32_stays_float32_through_binary_ops_and_their_gradients(name):
    _, _, op, _ = BINARY[name]
    a = Tensor(np.array([[0.75], [1.5]], dtype=np.float32), requires_grad=True)
    b = Tensor(np.array([0.5, 1.0, 1.25], dtype=np.float32), requires_grad=True)
    out = op(a, b)
    assert out.dtype == np.float32
    out.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float32


@pytest.mark.parametrize("op", [
    lambda x: x * 2, lambda x: 2 * x, lambda x: x + 1, lambda x: x / 3, lambda x: x - 0.5,
    lambda x: x ** 2, lambda x: 2 ** x, lambda x: x.maximum(0.5), lambda x: x.minimum(1),
    lambda x: autograd.where(x > 1, x, 0.0), lambda x: autograd.where(x > 1, 2.0, x),
    lambda x: x.double().float()],
    ids=["x*2", "2*x", "x+1", "x/3", "x-0.5", "x**2", "2**x", "maximum", "minimum", "where",
         "where_reflected", "double_float"])
def test_python_numbers_keep_float32(op):
    x = Tensor(np.array([0.5, 1.5], dtype=np.float32), requires_grad=True)
    out = op(x)
    assert out.dtype == np.float32
    (out * out).sum().backward()
    assert x.grad.dtype == np.float32


def test_a_cast_sends_the_gradient_back_in_the_input_dtype():
    x = Tensor(np.array([0.5, 1.5], dtype=np.float32), requires_grad=True)
    out = x.to(np.float64)
    assert out.dtype == np.float64
    (out * 3).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.data, [3, 3])


def test_float32_with_float64_gives_each_input_a_gradient_in_its_own_dtype():
    a = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    b = Tensor(np.full(3, 2.0), requires_grad=True)
    out = a * b
    assert out.dtype == np.float64                     # numpy's promotion
    out.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_array_equal(a.grad.data, [2, 2, 2])


# -- subgradients at kinks (the documented choices: those of PyTorch) -------------------------

def grad_of(op, values):
    x = Tensor(np.array(values), requires_grad=True)
    op(x).sum().backward()
    return x.grad.data


def test_relu_derivative_at_zero_is_zero():
    np.testing.assert_array_equal(grad_of(lambda x: x.relu(), [-1.0, 0.0, 2.0]), [0, 0, 1])


def test_abs_derivative_at_zero_is_zero():
    np.testing.assert_array_equal(grad_of(lambda x: x.abs(), [-1.0, 0.0, 2.0]), [-1, 0, 1])


def test_clamp_passes_the_gradient_at_its_bounds_and_blocks_it_outside():
    got = grad_of(lambda x: x.clamp(LOW, HIGH), [-1.0, LOW, 0.0, HIGH, 1.0])
    np.testing.assert_array_equal(got, [0, 1, 1, 1, 0])


@pytest.mark.parametrize("method", ["maximum", "minimum"])
def test_maximum_and_minimum_split_a_tie_evenly(method):
    a = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    b = Tensor(np.array([1.0, 0.0, 5.0]), requires_grad=True)
    getattr(a, method)(b).backward(Tensor([4.0, 4.0, 4.0]))
    a_wins = [2.0, 4.0, 0.0] if method == "maximum" else [2.0, 0.0, 4.0]
    np.testing.assert_array_equal(a.grad.data, a_wins)
    np.testing.assert_array_equal(b.grad.data, 4.0 - np.array(a_wins))


def test_maximum_tie_with_a_broadcast_number():
    got = grad_of(lambda x: x.maximum(0.0), [-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(got, [0, 0.5, 1])


def test_maximum_of_a_tensor_with_itself_has_derivative_one():
    np.testing.assert_array_equal(grad_of(lambda x: x.maximum(x), [-1.0, 0.0, 2.0]), [1, 1, 1])


# -- the scalar engine: 0-d tensors build a graph as micrograd does ---------------------------

def test_zero_dim_tensors_build_a_scalar_graph():
    autograd.set_default_dtype(np.float64)
    a, b = Tensor(2.0, requires_grad=True), Tensor(-3.0, requires_grad=True)
    c = Tensor(10.0, requires_grad=True)
    e = a * b
    d = e + c
    f = Tensor(-2.0, requires_grad=True)
    loss = d * f                                        # (a b + c) f
    assert loss.shape == () and loss.item() == (2.0 * -3.0 + 10.0) * -2.0
    loss.backward()
    assert (a.grad.item(), b.grad.item(), c.grad.item(), f.grad.item()) == \
        (-3.0 * -2.0, 2.0 * -2.0, -2.0, 2.0 * -3.0 + 10.0)

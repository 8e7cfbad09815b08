"""Matrix multiplication with numpy's rules: 1-d operands (vector-matrix, matrix-vector, dot)
and batch dimensions that broadcast."""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import MAX_ELEMENTS, arrays, check_op

from gradspace.autograd import Tensor

# numpy's own gufunc signature "(n?,k),(k,m?)->(n?,m?)": 1-d operands and broadcast batches
matmul_shapes = hnp.mutually_broadcastable_shapes(
    signature=np.matmul.signature, max_dims=2, min_side=1, max_side=3).filter(
    lambda b: max(int(np.prod(s)) for s in b.input_shapes + (b.result_shape,)) <= MAX_ELEMENTS)


@given(shapes=matmul_shapes, data=st.data())
def test_matmul_gradcheck(shapes, data):
    shape_a, shape_b = shapes.input_shapes
    a = data.draw(arrays(shape_a), label="a")
    b = data.draw(arrays(shape_b), label="b")
    check_op(lambda a, b: a @ b, a, b, reference=np.matmul)
    check_op(lambda a, b: a.matmul(b), a, b, reference=np.matmul)


def test_matmul_covers_every_kind_of_operand():
    # the drawn shapes above, spelled out once so that no case is left to chance
    rng = np.random.default_rng(1)
    for shape_a, shape_b in [((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 3), (3, 2)),
                             ((3,), (2, 3, 2)), ((2, 2, 3), (3,)), ((2, 1, 2, 3), (3, 3, 2)),
                             ((1, 2), (2, 2, 1)),
                             # inner dim 1: outer products, computed as a broadcast product
                             ((4, 1), (1, 2)), ((2, 3, 1), (2, 1, 4)), ((3, 1), (2, 1, 2)),
                             ((2, 1, 3, 1), (2, 1, 2))]:
        a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
        check_op(lambda a, b: a @ b, a, b, reference=np.matmul)


@given(a=arrays((3,)), b=arrays((3,)))
def test_dot(a, b):
    check_op(lambda a, b: a.dot(b), a, b, reference=np.dot)


def test_matmul_with_a_plain_array_on_either_side():
    m = np.arange(6.0).reshape(2, 3)
    x = Tensor(np.array([[1.0], [2.0], [-1.0]]), requires_grad=True)
    (m @ x).sum().backward()                          # ndarray @ Tensor -> __rmatmul__
    np.testing.assert_allclose(x.grad.data, m.sum(0, keepdims=True).T)
    y = Tensor(np.ones((2, 2)), requires_grad=True)
    (y @ m).sum().backward()
    np.testing.assert_allclose(y.grad.data, np.tile(m.sum(1), (2, 1)))


def test_matmul_gradient_is_g_bt_and_at_g():
    rng = np.random.default_rng(2)
    a, b, g = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal((4, 2))
    x, y = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    (x @ y).backward(Tensor(g))
    np.testing.assert_allclose(x.grad.data, g @ b.T)
    np.testing.assert_allclose(y.grad.data, a.T @ g)


def test_float32_stays_float32_through_matmul_and_its_gradient():
    for shape_a, shape_b in [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 2, 3), (3, 2))]:
        x = Tensor(np.ones(shape_a, np.float32), requires_grad=True)
        y = Tensor(np.ones(shape_b, np.float32), requires_grad=True)
        out = x @ y
        assert out.dtype == np.float32
        (out * out).sum().backward()
        assert x.grad.dtype == np.float32 and y.grad.dtype == np.float32

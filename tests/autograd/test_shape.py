"""Shape ops move numbers without changing them: values against numpy, derivatives against
finite differences (their backward is linear, so gradgradcheck checks it is linear in grad)."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays, check_op, one_dim, shapes

from gradspace import autograd
from gradspace.autograd import Tensor


@st.composite
def array_and_new_shape(draw):
    """An array and another shape with the same number of elements (sometimes with a -1)."""
    a = draw(shapes().flatmap(arrays))
    n, new = a.size, []
    while n > 1 and len(new) < 3:
        factor = draw(st.sampled_from([f for f in range(1, n + 1) if n % f == 0]))
        new.append(factor)
        n //= factor
    if n > 1:
        new.append(n)
    new = draw(st.permutations(new + draw(st.lists(st.just(1), max_size=2))))
    if new and draw(st.booleans()):
        new[draw(st.integers(0, len(new) - 1))] = -1
    return a, tuple(new)


@given(case=array_and_new_shape())
def test_reshape_and_view(case):
    a, shape = case
    check_op(lambda x: x.reshape(shape), a, reference=lambda a: a.reshape(shape))
    check_op(lambda x: x.view(*shape), a, reference=lambda a: a.reshape(shape))


@given(a=shapes().flatmap(arrays), data=st.data())
def test_flatten(a, data):
    if a.ndim == 0:
        check_op(lambda x: x.flatten(), a, reference=lambda a: a.reshape(1))
        return
    start = data.draw(one_dim(a.ndim), label="start_dim")
    end = data.draw(one_dim(a.ndim).filter(lambda e: e % a.ndim >= start % a.ndim),
                    label="end_dim")
    s, e = start % a.ndim, end % a.ndim
    expected = a.shape[:s] + (int(np.prod(a.shape[s:e + 1])),) + a.shape[e + 1:]
    check_op(lambda x: x.flatten(start, end), a, reference=lambda a: a.reshape(expected))


@given(a=shapes(min_dims=1).flatmap(arrays), data=st.data())
def test_transpose(a, data):
    d0, d1 = data.draw(one_dim(a.ndim), label="dim0"), data.draw(one_dim(a.ndim), label="dim1")
    check_op(lambda x: x.transpose(d0, d1), a, reference=lambda a: np.swapaxes(a, d0, d1))


@given(a=shapes(min_dims=2, max_dims=2).flatmap(arrays))
def test_T(a):
    check_op(lambda x: x.T, a, reference=lambda a: a.T)


@given(a=shapes().flatmap(arrays), data=st.data())
def test_permute(a, data):
    order = data.draw(st.permutations(range(a.ndim)), label="order")
    dims = [d - a.ndim if data.draw(st.booleans()) else d for d in order]   # some negative
    check_op(lambda x: x.permute(*dims), a, reference=lambda a: np.transpose(a, order))
    check_op(lambda x: x.permute(tuple(dims)), a, reference=lambda a: np.transpose(a, order))


@given(a=shapes().flatmap(arrays), data=st.data())
def test_unsqueeze(a, data):
    dim = data.draw(st.integers(-a.ndim - 1, a.ndim), label="dim")
    check_op(lambda x: x.unsqueeze(dim), a, reference=lambda a: np.expand_dims(a, dim))


@given(a=shapes(max_side=2).flatmap(arrays), data=st.data())
def test_squeeze(a, data):
    check_op(lambda x: x.squeeze(), a, reference=np.squeeze)
    if a.ndim:
        dim = data.draw(one_dim(a.ndim), label="dim")
        expected = np.squeeze(a, dim) if a.shape[dim] == 1 else a     # no-op on size > 1
        check_op(lambda x: x.squeeze(dim), a, reference=lambda a: expected)


@given(a=shapes(max_dims=2, max_side=3).flatmap(arrays), data=st.data())
def test_expand(a, data):
    lead = data.draw(st.lists(st.integers(1, 3), max_size=1), label="new dims")
    target = [data.draw(st.sampled_from([1, 2]), label="size") if n == 1 else n
              for n in a.shape]
    kept = [-1 if n == m and data.draw(st.booleans()) else n              # -1 keeps a size
            for n, m in zip(target, a.shape)]
    check_op(lambda x: x.expand(*lead, *kept), a,
             reference=lambda a: np.broadcast_to(a, tuple(lead) + tuple(target)))


@given(data=st.data())
def test_cat(data):
    shape = list(data.draw(shapes(min_dims=1, max_side=3), label="shape"))
    dim = data.draw(one_dim(len(shape)), label="dim")
    parts = []
    for _ in range(data.draw(st.integers(1, 3), label="count")):
        shape[dim] = data.draw(st.integers(1, 3))
        parts.append(data.draw(arrays(tuple(shape))))
    check_op(lambda *xs: autograd.cat(xs, dim), *parts,
             reference=lambda *xs: np.concatenate(xs, axis=dim))


@given(data=st.data())
def test_stack(data):
    shape = data.draw(shapes(max_side=3), label="shape")
    dim = data.draw(st.integers(-len(shape) - 1, len(shape)), label="dim")
    parts = [data.draw(arrays(shape)) for _ in range(data.draw(st.integers(1, 3)))]
    check_op(lambda *xs: autograd.stack(xs, dim), *parts,
             reference=lambda *xs: np.stack(xs, axis=dim))


def test_cat_sends_each_input_its_own_slice_of_the_gradient():
    a = Tensor(np.zeros((2, 1)), requires_grad=True)
    b = Tensor(np.zeros((2, 2)))                          # a constant in the middle
    c = Tensor(np.zeros((2, 3)), requires_grad=True)
    g = np.arange(12.0).reshape(2, 6)
    autograd.cat([a, b, c], dim=-1).backward(Tensor(g))
    np.testing.assert_array_equal(a.grad.data, g[:, :1])
    np.testing.assert_array_equal(c.grad.data, g[:, 3:])
    assert b.grad is None


@pytest.mark.parametrize("op", [
    lambda x: x.reshape(3, 2), lambda x: x.view(-1), lambda x: x.flatten(),
    lambda x: x.transpose(0, 1), lambda x: x.T, lambda x: x.permute(1, 0),
    lambda x: x.unsqueeze(1), lambda x: x.unsqueeze(0).squeeze(), lambda x: x.expand(4, 2, 3),
    lambda x: autograd.cat([x, x], 1), lambda x: autograd.stack([x, x])],
    ids=["reshape", "view", "flatten", "transpose", "T", "permute", "unsqueeze", "squeeze",
         "expand", "cat", "stack"])
def test_float32_stays_float32_through_shape_ops_and_their_gradients(op):
    x = Tensor(np.arange(6, dtype=np.float32).reshape(2, 3), requires_grad=True)
    out = op(x)
    assert out.dtype == np.float32
    (out * out).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.data, 2 * x.data * out.numel() / x.numel())

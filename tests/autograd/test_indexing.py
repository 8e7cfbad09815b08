"""Indexing: every kind of numpy index reads the right values, and its gradient scatters back
with repeated indices accumulating; embedding lookups likewise."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays, check_op, shapes

from gradspace.autograd import Tensor


@st.composite
def basic_index(draw, shape):
    """A tuple of ints, slices (negative steps too), None and at most one Ellipsis."""
    parts, dims = [], list(shape)
    use_ellipsis = draw(st.booleans())
    ellipsis_at = draw(st.integers(0, len(dims))) if use_ellipsis else -1
    for i, n in enumerate(dims + [None]):
        if i == ellipsis_at:
            parts.append(Ellipsis)
            break                                       # the rest of the dims stay whole
        if draw(st.booleans()):
            parts.append(None)
        if n is None:
            break
        kind = draw(st.sampled_from(["int", "slice", "all"]))
        if kind == "int":
            parts.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            start = draw(st.none() | st.integers(-n, n - 1))
            stop = draw(st.none() | st.integers(-n - 1, n))
            step = draw(st.sampled_from([None, 1, 2, -1, -2]))
            parts.append(slice(start, stop, step))
        else:
            parts.append(slice(None))
    return tuple(parts)


@given(data=st.data())
def test_basic_indexing(data):
    a = data.draw(shapes().flatmap(arrays), label="a")
    index = data.draw(basic_index(a.shape), label="index")
    check_op(lambda x: x[index], a, reference=lambda a: a[index])


@given(data=st.data())
def test_integer_array_indexing_with_repeats(data):
    a = data.draw(shapes(min_dims=1).flatmap(arrays), label="a")
    n = a.shape[0]
    ids = data.draw(arrays(data.draw(shapes(max_dims=2, max_side=4)),
                           st.integers(-n, n - 1), dtype=np.int64), label="ids")
    as_tensor = data.draw(st.booleans(), label="as Tensor")
    index = Tensor(ids) if as_tensor else ids
    check_op(lambda x: x[index], a, reference=lambda a: a[ids])
    if a.ndim > 1:                    # mixed with slices, Ellipsis and an int, on axis 1
        cols = data.draw(arrays((3,), st.integers(0, a.shape[1] - 1), dtype=np.int64),
                         label="cols")
        check_op(lambda x: x[index, ..., 1:], a, reference=lambda a: a[ids, ..., 1:])
        check_op(lambda x: x[:, Tensor(cols), ...], a, reference=lambda a: a[:, cols, ...])
    if a.ndim > 2:
        check_op(lambda x: x[-1, cols, ..., 0], a, reference=lambda a: a[-1, cols, ..., 0])


@given(data=st.data())
def test_two_integer_arrays_pick_elements(data):
    a = data.draw(shapes(min_dims=2, max_dims=2).flatmap(arrays), label="a")
    k = data.draw(st.integers(1, 6), label="k")
    rows = np.array(data.draw(st.lists(st.integers(0, a.shape[0] - 1), min_size=k, max_size=k)))
    cols = np.array(data.draw(st.lists(st.integers(0, a.shape[1] - 1), min_size=k, max_size=k)))
    check_op(lambda x: x[rows, cols], a, reference=lambda a: a[rows, cols])
    check_op(lambda x: x[list(rows), list(cols)], a, reference=lambda a: a[rows, cols])


@given(data=st.data())
def test_boolean_mask_indexing(data):
    a = data.draw(shapes(min_dims=1).flatmap(arrays), label="a")
    whole = data.draw(arrays(a.shape, st.booleans(), dtype=np.bool_), label="mask")
    check_op(lambda x: x[whole], a, reference=lambda a: a[whole])
    check_op(lambda x: x[Tensor(whole)], a, reference=lambda a: a[whole])
    rows = data.draw(arrays(a.shape[:1], st.booleans(), dtype=np.bool_), label="row mask")
    check_op(lambda x: x[rows], a, reference=lambda a: a[rows])
    if np.all(np.abs(a) > 1e-3):        # a mask computed from x, constant near x
        check_op(lambda x: x[x > 0], a, reference=lambda a: a[a > 0])


def test_repeated_integer_indices_accumulate_in_the_gradient():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 2))
    ids = np.array([[0, 2, 0], [3, 0, 2]])
    g = rng.standard_normal((2, 3, 2))
    expected = np.zeros_like(a)
    for position, i in np.ndenumerate(ids):
        expected[i] += g[position]
    for index in (ids, Tensor(ids), ids.tolist()):
        x = Tensor(a, requires_grad=True)
        x[index].backward(Tensor(g))
        np.testing.assert_allclose(x.grad.data, expected)


def test_repeated_pairs_of_indices_accumulate():
    x = Tensor(np.zeros((2, 3)), requires_grad=True)
    x[np.array([1, 1, 0, 1]), np.array([2, 2, 0, 2])].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[1, 0, 0], [0, 0, 3]])


def test_indexing_a_zero_dim_tensor():
    check_op(lambda x: x[None, ...], np.array(1.5), reference=lambda a: a[None, ...])
    check_op(lambda x: x[()], np.array(1.5), reference=lambda a: a[()])


def test_float32_stays_float32_through_indexing_and_its_gradient():
    x = Tensor(np.arange(6, dtype=np.float32).reshape(2, 3), requires_grad=True)
    for index in (1, (slice(None), [0, 0]), x > 2, (Ellipsis, None, 2)):
        out = x[index]
        assert out.dtype == np.float32
        (out * out).sum().backward()
        assert x.grad.dtype == np.float32


# -- embedding -------------------------------------------------------------------------------

@given(data=st.data())
def test_embedding_gradcheck(data):
    num = data.draw(st.integers(1, 4), label="num")
    row = data.draw(shapes(max_dims=2, max_side=3), label="row shape")
    table = data.draw(arrays((num,) + row), label="table")
    ids = data.draw(arrays(data.draw(shapes(max_dims=2, max_side=3)), st.integers(0, num - 1),
                           dtype=np.int64), label="ids")
    sparse = data.draw(st.booleans(), label="sparse")
    check_op(lambda w: w.embedding(ids, sparse=sparse), table,
             reference=lambda w: w[ids])


def test_embedding_padding_rows_get_no_gradient():
    rng = np.random.default_rng(4)
    table = rng.standard_normal((5, 3))
    ids = np.array([[1, 0, 4], [4, 4, 2]])
    g = rng.standard_normal((2, 3, 3))
    expected = np.zeros_like(table)
    for position, i in np.ndenumerate(ids):
        if i != 4:
            expected[i] += g[position]
    for sparse in (True, False):
        w = Tensor(table, requires_grad=True)
        out = w.embedding(ids, padding_idx=4, sparse=sparse)
        np.testing.assert_array_equal(out.data, table[ids])          # the row is still read
        out.backward(Tensor(g))
        np.testing.assert_allclose(w.grad.data, expected)


@pytest.mark.parametrize("sparse", [True, False])
def test_embedding_keeps_float32(sparse):
    w = Tensor(np.ones((4, 2), np.float32), requires_grad=True)
    out = w.embedding(np.array([0, 3, 3]), sparse=sparse)
    assert out.dtype == np.float32
    (out * out).sum().backward()
    assert w.grad.dtype == np.float32

"""RowSparseGrad: the gradient of an embedding table, a few rows of it."""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gradspace.autograd import RowSparseGrad, Tensor


@given(st.data())
def test_coalesce_sums_repeated_rows_and_sorts_ids(data):
    rows = data.draw(st.integers(1, 12))
    ids = data.draw(arrays(np.int64, st.integers(0, 30), elements=st.integers(0, rows - 1)))
    values = data.draw(arrays(np.float64, (ids.size, 3), elements=st.floats(-10, 10)))
    grad = RowSparseGrad(ids, values, (rows, 3))
    c = grad.coalesce()
    expected = np.zeros((rows, 3))
    np.add.at(expected, ids, values)                  # the slow, obviously right reference
    assert np.all(np.diff(c.indices) > 0)             # sorted and unique
    assert set(c.indices.tolist()) == set(ids.tolist())
    np.testing.assert_allclose(c.values, expected[c.indices], atol=1e-12)
    np.testing.assert_allclose(grad.data, expected, atol=1e-12)


def test_sum_of_sparse_gradients_is_sparse_and_equals_the_dense_sum():
    a = RowSparseGrad(np.array([1, 3]), np.ones((2, 2)), (5, 2))
    b = RowSparseGrad(np.array([3, 4]), 2 * np.ones((2, 2)), (5, 2))
    total = a + b
    assert isinstance(total, RowSparseGrad)
    np.testing.assert_array_equal(total.data, a.data + b.data)
    mixed = a + Tensor(np.ones((5, 2)))
    assert not isinstance(mixed, RowSparseGrad)
    np.testing.assert_array_equal(mixed.data, a.data + 1)

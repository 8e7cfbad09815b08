"""The Tensor constructor's dtype rules, as API.md and the Tensor docstring state them."""
import numpy as np
import pytest

from gradspace import autograd
from gradspace.autograd import Tensor


def test_python_floats_take_the_default_dtype_and_ints_int64():
    assert Tensor(0.5).dtype == np.float32
    assert Tensor([[1.0, 2.0]]).dtype == np.float32
    assert Tensor([1, 2]).dtype == np.int64
    autograd.set_default_dtype(np.float64)
    assert Tensor(0.5).dtype == np.float64


def test_numpy_arrays_keep_their_dtype():
    assert Tensor(np.zeros(2, np.float64)).dtype == np.float64
    assert Tensor(np.zeros(2, np.float16)).dtype == np.float16
    assert Tensor(np.zeros(2, np.int32)).dtype == np.int32


def test_an_explicit_dtype_converts_once_without_rounding_through_the_default():
    assert Tensor(0.1, dtype=np.float64).item() == 0.1
    assert Tensor([0.1, 0.2], dtype="float64").tolist() == [0.1, 0.2]
    assert Tensor([1, 2], dtype=np.float32).dtype == np.float32


def test_tensor_input_is_copied():
    source = Tensor([1.0, 2.0])
    copy = Tensor(source)
    copy.data[0] = 5.0
    assert source.data[0] == 1.0


@pytest.mark.parametrize("dtype", [np.complex64, object, "U3"])
def test_unsupported_explicit_dtypes_are_refused(dtype):
    with pytest.raises(TypeError, match="dtype"):
        Tensor([1.0], dtype=dtype)

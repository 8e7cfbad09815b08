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


# -- the public ways nn and train make tensors: as_tensor and default_generator ---------------

def test_as_tensor_wraps_an_array_without_copying_it_and_outside_the_graph():
    mask = np.array([[1.0, 0.0], [0.0, 2.0]], np.float32)
    t = autograd.as_tensor(mask)
    assert np.shares_memory(t.data, mask) and t.dtype == np.float32
    assert t.grad_fn is None and not t.requires_grad
    assert np.shares_memory(autograd.as_tensor(mask, dtype=np.float32).data, mask)
    assert not np.shares_memory(autograd.as_tensor(mask, dtype=np.float64).data, mask)


def test_as_tensor_returns_a_tensor_as_it_is_and_casts_it_in_the_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    assert autograd.as_tensor(x) is x and autograd.as_tensor(x, dtype=np.float32) is x
    y = autograd.as_tensor(x, dtype=np.float64)
    assert y.dtype == np.float64 and y.grad_fn is not None       # as torch: x.to(dtype)
    (y * y).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0])


def test_as_tensor_lifts_numbers_and_lists_by_tensors_rules_or_to_the_dtype_asked():
    assert autograd.as_tensor(0.5).dtype == np.float32
    assert autograd.as_tensor(3).dtype == np.int64
    assert autograd.as_tensor([0.1, 0.2], dtype=np.float64).tolist() == [0.1, 0.2]
    lifted = autograd.as_tensor(0.1, dtype=np.float32)
    assert lifted.dtype == np.float32 and lifted.item() == np.float32(0.1)
    with pytest.raises(TypeError, match="str"):
        autograd.as_tensor("ten")


def test_default_generator_is_the_one_manual_seed_sets_and_randn_draws_from():
    generator = autograd.manual_seed(7)
    assert autograd.default_generator() is generator
    first = autograd.default_generator().standard_normal(4)
    autograd.manual_seed(7)
    np.testing.assert_array_equal(autograd.default_generator().standard_normal(4), first)
    autograd.manual_seed(7)
    np.testing.assert_array_equal(autograd.randn(4, dtype=np.float64).data, first)
    assert autograd.manual_seed(8) is not generator      # a new seed: a new generator

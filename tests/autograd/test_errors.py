"""Bad input gets a clear error, raised before anything changes: shape mismatches name the op
and both shapes, dtypes and data say what was expected, bad dims name the reduction."""
import re

import numpy as np
import pytest

from gradspace import autograd
from gradspace.autograd import Tensor


def shapes_in(message, *shapes):
    """Whether every shape appears in the message, as (2, 3) or as (2,3)."""
    squeezed = message.replace(" ", "")
    return all(str(s).replace(" ", "") in squeezed for s in shapes)


# -- shape mismatches ------------------------------------------------------------------------

@pytest.mark.parametrize("op_name, op, shape_a, shape_b", [
    ("add", lambda a, b: a + b, (2, 3), (4,)),
    ("sub", lambda a, b: a - b, (2, 3), (2, 2)),
    ("mul", lambda a, b: a * b, (3,), (2,)),
    ("div", lambda a, b: a / b, (5, 1, 2), (3, 4)),
    ("pow", lambda a, b: a ** b, (2,), (3,)),
    ("maximum", lambda a, b: a.maximum(b), (2,), (3,)),
    ("matmul", lambda a, b: a @ b, (2, 3), (4, 5)),
    ("matmul", lambda a, b: a @ b, (3,), (2,)),
    ("cat", lambda a, b: autograd.cat([a, b], 0), (2, 3), (2, 4)),
    ("where", lambda a, b: autograd.where(Tensor(np.ones((2,), bool)), a, b), (2,), (3,)),
], ids=lambda v: v if isinstance(v, str) else "")
def test_shape_mismatch_names_the_op_and_both_shapes(op_name, op, shape_a, shape_b):
    a = Tensor(np.ones(shape_a), requires_grad=True)
    b = Tensor(np.ones(shape_b), requires_grad=True)
    with pytest.raises(ValueError) as info:
        op(a, b)
    message = str(info.value)
    assert op_name in message.lower().replace("_", ""), message
    assert shapes_in(message, shape_a, shape_b), message


@pytest.mark.parametrize("call, name", [
    (lambda x: x.reshape(4, 2), "reshape"),
    (lambda x: x.expand(3, 3), "expand"),
    (lambda x: autograd.stack([x, x[0]]), "stack"),
])
def test_shape_errors_of_shape_ops_name_the_op(call, name):
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ValueError) as info:
        call(x)
    assert name in str(info.value).lower() and shapes_in(str(info.value), (2, 3))


# -- dtypes and data -------------------------------------------------------------------------

@pytest.mark.parametrize("data", [[1, 2], 3, [True, False], np.arange(3, dtype=np.int32)])
def test_requires_grad_on_integers_or_bools_is_a_type_error(data):
    with pytest.raises(TypeError, match="float"):
        Tensor(data, requires_grad=True)
    t = Tensor(data)
    with pytest.raises(TypeError):
        t.requires_grad_()
    with pytest.raises(TypeError):
        t.requires_grad = True
    assert not t.requires_grad                   # nothing changed
    with pytest.raises(TypeError):
        autograd.zeros(2, dtype=np.int64, requires_grad=True)


@pytest.mark.parametrize("data", [
    np.array([1 + 2j]), np.array([object(), 1], dtype=object), np.array(["a", "b"]),
    [1 + 2j], ["a", "b"]], ids=["complex", "object", "str_array", "complex_list", "str_list"])
def test_unknown_dtypes_say_what_was_expected(data):
    with pytest.raises(TypeError, match="expected.*(float|number)"):
        Tensor(data)


@pytest.mark.parametrize("dtype", [np.complex128, object, str])
def test_unknown_dtype_arguments_say_what_was_expected(dtype):
    with pytest.raises(TypeError, match="expected.*float"):
        Tensor([1.0], dtype=dtype)


@pytest.mark.parametrize("data", [[[1.0, 2.0], [3.0]], "1.5", None, b"12", [1.0, None],
                                  {"a": 1}],
                         ids=["ragged", "str", "None", "bytes", "list_with_None", "dict"])
def test_non_numeric_data_says_what_was_expected(data):
    with pytest.raises(TypeError, match="expected"):
        Tensor(data)


# -- bad dims --------------------------------------------------------------------------------

@pytest.mark.parametrize("name, call", [
    ("sum", lambda x: x.sum(2)), ("sum", lambda x: x.sum((0, -3))),
    ("mean", lambda x: x.mean(-3)), ("var", lambda x: x.var(5)),
    ("max", lambda x: x.max(2)), ("min", lambda x: x.min(-3)),
    ("argmax", lambda x: x.argmax(2)), ("logsumexp", lambda x: x.logsumexp(3)),
    ("softmax", lambda x: x.softmax(2)), ("log_softmax", lambda x: x.log_softmax(-3)),
], ids=lambda v: v if isinstance(v, str) else "")
def test_a_bad_dim_is_an_index_error_naming_the_reduction(name, call):
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(IndexError) as info:
        call(x)
    message = str(info.value)
    assert re.match(rf"{name}\b", message), message
    assert re.search(r"-?\d", message)                     # and the offending dim


# -- nothing changes when an error is raised -------------------------------------------------

def test_a_failed_backward_leaves_grad_untouched():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * x).sum().backward()
    before = x.grad.data.copy()
    y = x * 3
    with pytest.raises(RuntimeError):
        y.backward()                                  # non-scalar, no gradient
    with pytest.raises(RuntimeError):
        y.backward(Tensor([1.0, 1.0, 1.0]))           # wrong shape
    np.testing.assert_array_equal(x.grad.data, before)
    y.backward(Tensor([1.0, 1.0]))                    # the graph is still usable
    np.testing.assert_array_equal(x.grad.data, before + 3)


def test_a_backward_through_a_partly_freed_graph_changes_no_grad():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    z = Tensor(np.array([3.0]), requires_grad=True)
    shared = x.exp()
    shared.sum().backward()                           # frees shared's node
    before = x.grad.data.copy()
    with pytest.raises(RuntimeError, match="retain_graph"):
        ((z * 2).sum() + (shared * z).sum()).backward()
    assert z.grad is None
    np.testing.assert_array_equal(x.grad.data, before)


def test_a_failed_op_records_nothing():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ValueError):
        x + Tensor(np.ones(4))
    (x * 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.ones((2, 3)))


def test_set_default_dtype_rejects_non_float_dtypes():
    with pytest.raises(TypeError, match="float32 or float64"):
        autograd.set_default_dtype(np.int64)
    assert autograd.get_default_dtype() == np.float32

"""In-place operations and version counters: recorded in-place ops on non-leaves pass gradcheck
(float64, drawn shapes with broadcasting and 0-d); the counter is shared by everything that
shares memory; errors come before any change."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays, bounded, broadcastable_shapes, check_op, positive

from gradspace import autograd
from gradspace.autograd import Tensor, no_grad

# name: (elements of `other`, the in-place op applied to t, numpy's out-of-place version)
BINARY = {
    "add_": (bounded(), lambda t, b: t.add_(b), np.add),
    "add_alpha": (bounded(), lambda t, b: t.add_(b, alpha=-2.5), lambda a, b: a - 2.5 * b),
    "sub_": (bounded(), lambda t, b: t.sub_(b), np.subtract),
    "mul_": (bounded(), lambda t, b: t.mul_(b), np.multiply),
    "div_": (positive(), lambda t, b: t.div_(b), np.divide),
    "iadd": (bounded(), lambda t, b: t.__iadd__(b), np.add),
    "isub": (bounded(), lambda t, b: t.__isub__(b), np.subtract),
    "imul": (bounded(), lambda t, b: t.__imul__(b), np.multiply),
    "itruediv": (positive(), lambda t, b: t.__itruediv__(b), np.divide),
    "copy_": (bounded(), lambda t, b: t.copy_(b), lambda a, b: np.broadcast_to(b, a.shape)),
}


def in_place(op):
    """f(a, b): op applied to a non-leaf made from a (a * 1), returning that same tensor."""
    def f(a, b):
        t = a * 1.0
        result = op(t, b)
        assert result is t
        return t * t                           # read after the change: the new value counts
    return f


@pytest.mark.parametrize("name", BINARY)
@given(data=st.data())
def test_binary_in_place_ops_pass_gradcheck(name, data):
    elements, op, reference = BINARY[name]
    shape_a, shape_b = data.draw(broadcastable_shapes(), label="shapes")
    shape_a = np.broadcast_shapes(shape_a, shape_b)     # an in-place result keeps t's shape
    a = data.draw(arrays(shape_a, bounded()), label="a")
    b = data.draw(arrays(shape_b, elements), label="b")
    check_op(in_place(op), a, b, reference=lambda a, b: reference(a, b) ** 2)


@given(data=st.data())
def test_clamp_fill_zero_in_place_pass_gradcheck(data):
    shape = data.draw(broadcastable_shapes(num_shapes=1), label="shape")[0]
    a = data.draw(arrays(shape, bounded()), label="a")
    keep = np.abs(np.abs(a) - 0.5) > 0.05              # away from clamp's kinks
    a = np.where(keep, a, 1.0)
    check_op(in_place(lambda t, _: t.clamp_(-0.5, 0.5)), a, np.zeros(()),
             reference=lambda a, _: np.clip(a, -0.5, 0.5) ** 2)
    value = data.draw(arrays((), bounded()), label="value")
    check_op(in_place(lambda t, v: t.fill_(v)), a, value,
             reference=lambda a, v: np.full(a.shape, v) ** 2)
    check_op(in_place(lambda t, _: t.zero_()), a, value, reference=lambda a, v: 0 * a)


INDICES = [
    (np.s_[1], (3, 2), ()),
    (np.s_[1], (3, 2), (2,)),
    (np.s_[:, 0], (3, 2), (3,)),
    (np.s_[np.array([0, 2])], (3, 2), (2, 2)),
    (np.array([True, False, True]), (3,), ()),
    (np.s_[...], (2, 2), (2,)),
]


@pytest.mark.parametrize("index, shape, value_shape", INDICES)
def test_item_assignment_passes_gradcheck(index, shape, value_shape):
    rng = np.random.default_rng(0)
    a, v = rng.standard_normal(shape), rng.standard_normal(value_shape)

    def f(a, v):
        t = a * 1.0
        t[index] = v * 3.0
        return t * t

    def reference(a, v):
        t = a.copy()
        t[index] = v * 3.0
        return t * t
    check_op(f, a, v, reference=reference)


def test_a_tensor_that_requires_no_grad_becomes_a_non_leaf_when_a_weight_is_added_in():
    total = autograd.zeros(2, dtype=np.float64)
    w = Tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    total += w * w
    assert not total.is_leaf and total.requires_grad
    total.sum().backward()
    np.testing.assert_array_equal(w.grad.data, [2.0, 4.0])


def test_under_no_grad_only_the_data_changes():
    w = Tensor([1.0, 2.0], requires_grad=True)
    data = w.data
    with no_grad():
        w.add_(1.0)
        w[0] = 7.0
        w.clamp_(max=5.0)
    assert w.data is data and w.is_leaf and w.grad_fn is None and w.requires_grad
    np.testing.assert_array_equal(w.data, [5.0, 3.0])
    assert w._version == 3


def test_errors_come_before_any_change():
    w = Tensor([1.0, 2.0], requires_grad=True)
    for change in (lambda: w.add_(1.0), lambda: w.__setitem__(0, 1.0), lambda: w.zero_()):
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            change()
    t = Tensor([1, 2])
    with pytest.raises(RuntimeError, match="can't be cast"):
        t.mul_(1.5)
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        t.add_(Tensor([[1], [2]]))
    with pytest.raises(RuntimeError, match="fill_ only supports 0-dimension"):
        t.fill_(Tensor([1, 2]))
    with pytest.raises(RuntimeError, match="read-only"):
        Tensor([1.0, 2.0]).expand(2, 2).add_(1.0)
    with pytest.raises(RuntimeError, match="row-sparse gradient"):
        autograd.RowSparseGrad(np.array([0]), np.ones((1, 2)), (3, 2)).zero_()
    np.testing.assert_array_equal(w.data, [1.0, 2.0])
    np.testing.assert_array_equal(t.data, [1, 2])
    assert w._version == 0 and t._version == 0


def test_views_and_detach_share_the_counter_with_their_base():
    x = Tensor([[1.0, 2.0], [3.0, 4.0]])
    row, flat, alias = x[0], x.reshape(4), x.detach()
    row.mul_(2.0)
    assert x._version == row._version == flat._version == alias._version == 1
    flat[3] = 0.0
    np.testing.assert_array_equal(x.data, [[2.0, 4.0], [3.0, 0.0]])
    assert x._version == 2
    assert Tensor(x)._version == 0                     # a copy has memory of its own


def test_a_version_error_names_what_changed():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    z = y.log()                              # log's backward reads y
    with no_grad():
        y.mul_(2)
        y.mul_(2)
    with pytest.raises(RuntimeError, match=r"\[FloatTensor \[2\]\], which is input 0 of Log, "
                                           r"is at version 2; expected version 0 instead"):
        z.sum().backward()


def test_a_long_history_of_changes_keeps_its_count_in_bounded_memory():
    x = Tensor([1.0], requires_grad=True)
    with no_grad():
        for _ in range(100):                 # a parameter changed at every step
            x.add_(1.0)
    y = x * x
    with no_grad():
        x.add_(1.0)
        x.add_(1.0)
    assert x._version == 102
    with pytest.raises(RuntimeError, match="is at version 102; expected version 100 instead"):
        y.backward()


def test_changes_after_backward_or_to_what_is_not_read_are_fine():
    x = Tensor([1.0, 2.0], requires_grad=True)
    w = Tensor([3.0, 4.0])                   # not requiring grad: x's gradient needs it
    y = (x + w).exp()                        # Add reads nothing, exp reads its output
    x.grad = None
    with no_grad():
        x.add_(1.0)                          # x is not read by any backward
    y.sum().backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.data, np.exp([4.0, 6.0]), rtol=1e-6)
    with no_grad():
        w.mul_(0.0)                          # not read either: Add's backward is the identity
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * np.exp([4.0, 6.0]), rtol=1e-6)


def test_a_single_linear_layer_survives_a_step_as_in_pytorch():
    # x @ W: W's gradient reads x only, so updating W between two backwards is fine.
    from gradspace import nn, train
    layer = nn.Linear(3, 1)
    opt = train.optim.SGD(layer.parameters(), lr=0.1)
    loss = layer(Tensor(np.ones((2, 3), np.float32))).sum()
    loss.backward(retain_graph=True)
    first = layer.weight.grad.data.copy()
    opt.step()
    loss.backward()
    np.testing.assert_array_equal(layer.weight.grad.data, 2 * first)


def test_a_tensor_used_before_an_in_place_change_sends_its_gradient_to_the_old_value():
    x = Tensor([1.0, 2.0], requires_grad=True)
    t = x * 1
    z = t * 2                                # uses t before the change
    t.mul_(3)                                # recorded: t now has a new history
    (z + t).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [5.0, 5.0])     # 2 + 3, as PyTorch


def test_micrograd_example_with_augmented_assignment_as_in_pytorch():
    # micrograd's test, where `c += c + 1` is in place on a recorded tensor (PyTorch's values).
    a = Tensor(-4.0, dtype=np.float64, requires_grad=True)
    b = Tensor(2.0, dtype=np.float64, requires_grad=True)
    c = a + b
    d = a * b + b ** 3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e ** 2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert abs(g.item() - 24.70408163265306) < 1e-12
    assert abs(a.grad.item() - 138.83381924198252) < 1e-12
    assert abs(b.grad.item() - 645.5772594752186) < 1e-12


def test_in_place_through_a_view_while_recording_fails_loudly():
    x = Tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    h = x * 1
    with pytest.raises(RuntimeError, match="view of another tensor's memory"):
        h.reshape(2, 2).mul_(2.0)
    np.testing.assert_array_equal(h.data, [1.0, 2.0, 3.0, 4.0])


def test_increment_version_marks_a_change_made_through_data():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    x.data *= 10                             # invisible to the counter, as in PyTorch
    assert x._version == 0
    autograd.increment_version(x)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()

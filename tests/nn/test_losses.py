"""Losses and the softmax family: values against numpy written from the definitions, gradients
(softmax - onehot; gradcheck and gradgradcheck in float64), stability at logits of +-1e4, and
the errors for bad targets."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import gradspace.nn.functional as F
from gradspace import autograd, nn
from gradspace.autograd import Tensor

rng = np.random.default_rng(0)


def log_softmax_np(z, axis=-1):
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax_np(z):
    return np.exp(log_softmax_np(z))


def cross_entropy_np(z, y, weight=None, ignore_index=-100, smoothing=0.0):
    """PyTorch's documented semantics, for (N, C) logits: loss and d(mean loss)/dz.

    Row i is scored against q_i = (1 - eps) w[y_i] onehot(y_i) + eps/C w; ignored rows count 0;
    the mean divides by sum of w[y_i] over the rows not ignored.
    """
    n, c = z.shape
    w = np.ones(c) if weight is None else weight
    keep = y != ignore_index
    ys = np.where(keep, y, 0)
    q = np.zeros((n, c))
    q[np.arange(n), ys] = (1 - smoothing) * w[ys]
    q += smoothing / c * w
    q *= keep[:, None]
    per_row = -(q * log_softmax_np(z)).sum(axis=1)
    total = (w[ys] * keep).sum()
    grad = (softmax_np(z) * q.sum(axis=1, keepdims=True) - q) / total
    return per_row.sum() / total, grad


def grad_of(loss_fn, z):
    x = Tensor(z, requires_grad=True)
    loss = loss_fn(x)
    loss.backward()
    return loss, x.grad.data


# -- softmax and log_softmax ---------------------------------------------------------------------

@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3), c=st.floats(-1e3, 1e3),
       seed=st.integers(0, 10))
def test_softmax_is_unchanged_by_adding_a_constant(shape, c, seed):      # float64 arrays
    z = np.random.default_rng(seed).standard_normal(shape) * 5
    a = F.softmax(Tensor(z), dim=-1).data
    b = F.softmax(Tensor(z + c), dim=-1).data
    np.testing.assert_allclose(a, b, atol=1e-12)
    np.testing.assert_allclose(a.sum(-1), 1.0)
    np.testing.assert_allclose(F.log_softmax(Tensor(z), dim=-1).data, log_softmax_np(z),
                               atol=1e-12)


def test_softmax_at_huge_logits_is_finite():
    z = Tensor(np.array([[1e4, -1e4, 0.0]], np.float32), requires_grad=True)
    p = F.softmax(z)
    np.testing.assert_array_equal(p.data, [[1, 0, 0]])
    (F.log_softmax(z)[0, 1]).backward()
    assert np.isfinite(z.grad.data).all()


def test_softmax_family_gradcheck_and_gradgradcheck(f64):
    z = rng.standard_normal((3, 4))
    for fn in (lambda t: F.softmax(t, dim=1), lambda t: F.log_softmax(t, dim=0)):
        assert autograd.gradcheck(fn, (z,), check_forward_ad=True)
        assert autograd.gradgradcheck(fn, (z,), check_fwd_over_rev=True)


# -- cross-entropy -------------------------------------------------------------------------------

def test_cross_entropy_is_minus_log_softmax_of_the_target_averaged(f64):
    z = rng.standard_normal((6, 5))
    y = rng.integers(0, 5, 6)
    expected = -np.mean(log_softmax_np(z)[np.arange(6), y])
    np.testing.assert_allclose(F.cross_entropy(Tensor(z), y).item(), expected, rtol=1e-12)
    np.testing.assert_allclose(F.cross_entropy(Tensor(z), y, reduction="sum").item(),
                               6 * expected, rtol=1e-12)
    per_row = F.cross_entropy(Tensor(z), Tensor(y), reduction="none")
    np.testing.assert_allclose(per_row.data, -log_softmax_np(z)[np.arange(6), y], rtol=1e-12)


def test_cross_entropy_gradient_is_softmax_minus_onehot(f64):
    z = rng.standard_normal((4, 3))
    y = np.array([2, 0, 1, 2])
    _, grad = grad_of(lambda x: F.cross_entropy(x, y, reduction="sum"), z)
    np.testing.assert_allclose(grad, softmax_np(z) - np.eye(3)[y], atol=1e-12)


@pytest.mark.parametrize("options", [
    {"smoothing": 0.1},
    {"ignore_index": 2},
    {"ignore_index": -100, "smoothing": 0.3},
    {"weight": np.array([0.2, 1.0, 3.0, 0.5])},
    {"weight": np.array([0.2, 1.0, 3.0, 0.5]), "smoothing": 0.2, "ignore_index": 1},
])
def test_cross_entropy_options_match_a_numpy_reference(f64, options):
    z = rng.standard_normal((7, 4))
    y = np.array([0, 2, -100, 3, 2, 1, 1])
    if options.get("ignore_index", -100) != -100:
        y = np.where(y == -100, 0, y)
    expected_loss, expected_grad = cross_entropy_np(z, y, **options)
    kwargs = {"weight": options.get("weight"), "ignore_index": options.get("ignore_index", -100),
                  "label_smoothing": options.get("smoothing", 0.0)}
    loss, grad = grad_of(lambda x: F.cross_entropy(x, y, **kwargs), z)
    np.testing.assert_allclose(loss.item(), expected_loss, rtol=1e-12)
    np.testing.assert_allclose(grad, expected_grad, atol=1e-12)


def test_ignored_targets_get_no_gradient_and_mean_counts_the_rest(f64):
    z = rng.standard_normal((4, 3))
    y = np.array([1, -100, 0, -100])
    loss, grad = grad_of(lambda x: F.cross_entropy(x, y), z)
    assert not grad[[1, 3]].any()
    expected = -np.mean(log_softmax_np(z)[[0, 2], [1, 0]])            # divided by 2, not 4
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-12)


@given(n=st.integers(1, 3), c=st.integers(1, 4), dims=st.lists(st.integers(1, 3), max_size=2),
       smoothing=st.sampled_from([0.0, 0.25]), seed=st.integers(0, 100))
def test_spatial_form_equals_the_flattened_form(n, c, dims, smoothing, seed):   # float64
    r = np.random.default_rng(seed)
    z = r.standard_normal((n, c, *dims))
    y = r.integers(0, c, (n, *dims))
    y.flat[0] = -100                                          # one ignored target
    flat_z = np.moveaxis(z, 1, -1).reshape(-1, c)
    for reduction in ("mean", "sum", "none"):
        a = F.cross_entropy(Tensor(z), y, reduction=reduction, label_smoothing=smoothing)
        b = F.cross_entropy(Tensor(flat_z), y.reshape(-1), reduction=reduction,
                            label_smoothing=smoothing)
        np.testing.assert_allclose(a.data, b.data.reshape(a.shape), rtol=1e-12)
    _, grad = grad_of(lambda x: F.cross_entropy(x, y, label_smoothing=smoothing), z)
    _, flat_grad = grad_of(lambda x: F.cross_entropy(x, y.reshape(-1),
                                                     label_smoothing=smoothing), flat_z)
    np.testing.assert_allclose(np.moveaxis(grad, 1, -1).reshape(-1, c), flat_grad, atol=1e-12)


def test_a_single_sample_of_shape_c_with_a_scalar_target(f64):
    z = rng.standard_normal(5)
    np.testing.assert_allclose(F.cross_entropy(Tensor(z), np.array(3)).item(),
                               -log_softmax_np(z)[3], rtol=1e-12)


def test_probability_targets(f64):
    z = rng.standard_normal((3, 4))
    p = rng.dirichlet(np.ones(4), 3)
    expected = -np.mean((p * log_softmax_np(z)).sum(1))
    loss, grad = grad_of(lambda x: F.cross_entropy(x, p), z)
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-12)
    np.testing.assert_allclose(grad, (softmax_np(z) - p) / 3, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_at_logits_of_1e4_is_finite(dtype, smoothing):
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, -1e4]], dtype)
    y = np.array([1, 1])                           # the first row is confidently wrong
    loss, grad = grad_of(lambda x: F.cross_entropy(x, y, label_smoothing=smoothing), z)
    assert loss.dtype == dtype and grad.dtype == dtype
    assert np.isfinite(loss.item()) and np.isfinite(grad).all()
    if not smoothing:
        np.testing.assert_allclose(loss.item(), 2e4 / 2, rtol=1e-6)   # row 1: 2e4, row 2: 0
        np.testing.assert_allclose(grad, (softmax_np(z.astype(np.float64))
                                          - np.eye(3)[y]) / 2, atol=1e-6)


def test_float32_stays_float32_through_the_fused_loss():
    z = Tensor(rng.standard_normal((8, 5)).astype(np.float32), requires_grad=True)
    loss = F.cross_entropy(z, rng.integers(0, 5, 8), label_smoothing=0.1,
                           weight=np.linspace(0.5, 2, 5))
    loss.backward()
    assert loss.dtype == np.float32 and z.grad.dtype == np.float32


@pytest.mark.parametrize("options", [
    {}, {"label_smoothing": 0.2}, {"reduction": "none"}, {"reduction": "sum"},
    {"weight": np.array([1.0, 2.0, 0.5]), "ignore_index": 0, "label_smoothing": 0.1},
])
def test_cross_entropy_gradcheck_and_gradgradcheck(f64, options):
    z = rng.standard_normal((4, 3))
    y = np.array([0, 2, 1, 2])
    fn = lambda x: F.cross_entropy(x, y, **options)
    assert autograd.gradcheck(fn, (z,), check_forward_ad=True)
    assert autograd.gradgradcheck(fn, (z,), check_fwd_over_rev=True)


def test_second_derivative_of_cross_entropy_is_the_softmax_jacobian(f64):
    z = rng.standard_normal(4)
    hessian = autograd.hessian(lambda x: F.cross_entropy(x.reshape(1, 4), np.array([1])), z)
    p = softmax_np(z)
    np.testing.assert_allclose(hessian.data, np.diag(p) - np.outer(p, p), atol=1e-12)


def test_cross_entropy_target_out_of_range_names_the_value_and_c():
    z = Tensor(np.zeros((3, 4), np.float32))
    with pytest.raises(IndexError, match="target 4 .*4 classes"):
        F.cross_entropy(z, np.array([0, 4, 1]))
    with pytest.raises(IndexError, match="target -3 "):
        F.cross_entropy(z, np.array([0, -3, 1]))


def test_cross_entropy_float_target_where_ids_are_needed_is_a_type_error():
    with pytest.raises(TypeError, match="integer class ids.*float"):
        F.cross_entropy(Tensor(np.zeros((3, 4))), np.array([0.0, 1.0, 2.0]))


def test_cross_entropy_batch_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(2,\)"):
        F.cross_entropy(Tensor(np.zeros((3, 4))), np.array([0, 1]))


@pytest.mark.parametrize("loss_fn", [
    lambda r: F.cross_entropy(Tensor(np.zeros((1, 2))), np.array([0]), reduction=r),
    lambda r: F.mse_loss(Tensor(np.zeros(2)), np.zeros(2), reduction=r),
    lambda r: F.binary_cross_entropy_with_logits(Tensor(np.zeros(2)), np.zeros(2), reduction=r),
    lambda r: nn.CrossEntropyLoss(reduction=r),
    lambda r: nn.MSELoss(reduction=r),
])
def test_bad_reduction_string(loss_fn):
    with pytest.raises(ValueError, match="avg"):
        loss_fn("avg")


def test_bad_label_smoothing_and_weight_shape():
    z, y = Tensor(np.zeros((2, 3))), np.array([0, 1])
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(z, y, label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"\(3,\)"):
        F.cross_entropy(z, y, weight=np.ones(2))


def test_cross_entropy_loss_module_holds_weight_as_a_buffer(f64):
    w = Tensor(np.array([1.0, 2.0, 3.0]))
    module = nn.CrossEntropyLoss(weight=w, label_smoothing=0.1, ignore_index=1)
    z, y = rng.standard_normal((5, 3)), np.array([0, 1, 2, 2, 0])
    expected = F.cross_entropy(Tensor(z), y, weight=w, label_smoothing=0.1, ignore_index=1)
    np.testing.assert_array_equal(module(Tensor(z), y).data, expected.data)
    assert list(module.state_dict()) == ["weight"]


# -- binary cross-entropy and log-sigmoid --------------------------------------------------------

def test_logsigmoid_equals_the_naive_formula_where_it_is_finite(f64):
    x = np.linspace(-30, 30, 61)
    # The naive formula itself loses relative precision for large x (log of 1 + tiny).
    np.testing.assert_allclose(F.logsigmoid(Tensor(x)).data, np.log(1 / (1 + np.exp(-x))),
                               rtol=1e-12, atol=1e-15)
    tail = x > 0
    np.testing.assert_allclose(F.logsigmoid(Tensor(x[tail])).data, -np.log1p(np.exp(-x[tail])),
                               rtol=1e-14)


def test_logsigmoid_is_stable_at_1e4():
    x = Tensor(np.array([-1e4, -50.0, 50.0, 1e4], np.float32), requires_grad=True)
    out = F.logsigmoid(x)
    out.sum().backward()
    np.testing.assert_allclose(out.data, [-1e4, -50.0, -np.exp(-50.0), 0.0], rtol=1e-6)
    np.testing.assert_allclose(x.grad.data, [1.0, 1.0, np.exp(-50.0), 0.0], rtol=1e-6)


def test_logsigmoid_gradcheck_and_gradgradcheck_including_zero(f64):
    x = np.array([-3.0, -0.5, 0.0, 0.7, 4.0])
    assert autograd.gradcheck(F.logsigmoid, (x,), check_forward_ad=True)
    assert autograd.gradgradcheck(F.logsigmoid, (x,), check_fwd_over_rev=True)


def bce_naive(x, y):
    p = 1 / (1 + np.exp(-x))
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def test_bce_with_logits_equals_the_naive_formula_where_it_is_finite(f64):
    x = rng.standard_normal((4, 3)) * 4
    y = rng.random((4, 3))
    out = F.binary_cross_entropy_with_logits(Tensor(x), y, reduction="none")
    np.testing.assert_allclose(out.data, bce_naive(x, y), rtol=1e-10)
    np.testing.assert_allclose(F.binary_cross_entropy_with_logits(Tensor(x), y).item(),
                               bce_naive(x, y).mean(), rtol=1e-10)


def test_bce_with_logits_weights(f64):
    x, y = rng.standard_normal((4, 3)), (rng.random((4, 3)) > 0.5).astype(float)
    w, pw = rng.random((4, 3)), np.array([0.5, 2.0, 3.0])
    p = 1 / (1 + np.exp(-x))
    expected = -w * (pw * y * np.log(p) + (1 - y) * np.log(1 - p))
    out = F.binary_cross_entropy_with_logits(Tensor(x), y, weight=w, pos_weight=pw,
                                             reduction="sum")
    np.testing.assert_allclose(out.item(), expected.sum(), rtol=1e-10)
    module = nn.BCEWithLogitsLoss(weight=Tensor(w), pos_weight=Tensor(pw), reduction="sum")
    np.testing.assert_allclose(module(Tensor(x), y).item(), expected.sum(), rtol=1e-10)


def test_bce_with_logits_is_finite_at_1e4():
    x = Tensor(np.array([1e4, -1e4, 1e4, -1e4], np.float32), requires_grad=True)
    y = np.array([0.0, 1.0, 1.0, 0.0], np.float32)
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="sum")
    loss.backward()
    np.testing.assert_allclose(loss.item(), 2e4, rtol=1e-6)      # two confident mistakes
    np.testing.assert_allclose(x.grad.data, [1, -1, 0, 0], atol=1e-6)   # sigmoid(x) - y


def test_bce_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(3,\).*\(3, 1\)"):
        F.binary_cross_entropy_with_logits(Tensor(np.zeros((3, 1))), np.zeros(3))


def test_bce_gradcheck_and_gradgradcheck(f64):
    x, y, pw = rng.standard_normal((3, 2)), rng.random((3, 2)), np.array([0.5, 2.0])
    fn = lambda a, b: F.binary_cross_entropy_with_logits(a, b, pos_weight=pw)
    assert autograd.gradcheck(fn, (x, y), check_forward_ad=True)
    assert autograd.gradgradcheck(fn, (x, y), check_fwd_over_rev=True)


# -- mean squared error --------------------------------------------------------------------------

def test_mse_values_and_gradient(f64):
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    loss, grad = grad_of(lambda a: F.mse_loss(a, y), x)
    np.testing.assert_allclose(loss.item(), np.mean((x - y) ** 2), rtol=1e-12)
    np.testing.assert_allclose(grad, 2 * (x - y) / x.size, rtol=1e-12)
    np.testing.assert_allclose(nn.MSELoss(reduction="sum")(Tensor(x), y).item(),
                               np.sum((x - y) ** 2), rtol=1e-12)
    assert nn.MSELoss(reduction="none")(Tensor(x), y).shape == (3, 4)


def test_mse_gradcheck_and_gradgradcheck(f64):
    x, y = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    assert autograd.gradcheck(F.mse_loss, (x, y), check_forward_ad=True)
    assert autograd.gradgradcheck(F.mse_loss, (x, y), check_fwd_over_rev=True)


def test_mse_broadcasting_warns_and_mismatch_raises():
    with pytest.warns(UserWarning, match=r"\(3, 1\)"):
        F.mse_loss(Tensor(np.zeros(3)), np.zeros((3, 1)))
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        F.mse_loss(Tensor(np.zeros(3)), np.zeros(2))


def test_mse_at_large_values_is_finite():
    x = Tensor(np.array([1e4, -1e4], np.float32), requires_grad=True)
    loss = F.mse_loss(x, np.zeros(2, np.float32))
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(x.grad.data).all()


def test_cross_entropy_backward_twice_through_a_retained_graph_gives_the_same_gradient():
    # The fused backward writes its gradient over the saved softmax buffer; a second backward
    # (retain_graph=True) must recompute it rather than read the spent buffer.
    rng = np.random.default_rng(3)
    x = autograd.Tensor(rng.standard_normal((6, 5)), requires_grad=True)
    targets = rng.integers(0, 5, 6)
    loss = F.cross_entropy(x, targets, label_smoothing=0.1)
    loss.backward(retain_graph=True)
    first = x.grad.data.copy()
    x.grad = None
    loss.backward()
    np.testing.assert_allclose(x.grad.data, first, rtol=1e-12)


@pytest.mark.parametrize("make, name", [
    (lambda r: F.mse_loss(Tensor(np.zeros(2)), np.zeros(2), reduction=r), "mse_loss"),
    (lambda r: F.binary_cross_entropy_with_logits(Tensor(np.zeros(2)), np.zeros(2),
                                                  reduction=r),
     "binary_cross_entropy_with_logits"),
    (lambda r: F.cross_entropy(Tensor(np.zeros((2, 3))), np.zeros(2, np.int64), reduction=r),
     "cross_entropy"),
    (lambda r: nn.MSELoss(reduction=r), "MSELoss"),
    (lambda r: nn.CrossEntropyLoss(reduction=r), "CrossEntropyLoss"),
    (lambda r: nn.BCEWithLogitsLoss(reduction=r), "BCEWithLogitsLoss"),
])
def test_every_loss_refuses_an_unknown_reduction_naming_itself_and_the_value(make, name):
    with pytest.raises(ValueError, match=rf"^{name}: reduction must be one of .*'average'"):
        make("average")
    for reduction in ("mean", "sum", "none"):
        make(reduction)

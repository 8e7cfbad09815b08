"""Reductions: sum, mean, var, max, min, logsumexp, softmax, log_softmax over every form of
`dim`; values against numpy, derivatives against finite differences, ties, and numerical
stability at +-1e4 and -inf."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import arrays, check_op, dims, distinct_arrays, normalized, one_dim, shapes

from gradspace.autograd import Tensor


def np_logsumexp(a, axis, keepdims=False):
    peak = np.max(a, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(a - peak), axis=axis, keepdims=True)) + peak
    return out if keepdims else np.squeeze(out, axis=axis)


def np_softmax(a, axis):
    e = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


# name: (the Tensor method, numpy's version given the axis tuple)
REDUCTIONS = {
    "sum": (lambda x, d, k: x.sum(d, keepdim=k), lambda a, ax, k: np.sum(a, ax, keepdims=k)),
    "mean": (lambda x, d, k: x.mean(d, keepdim=k), lambda a, ax, k: np.mean(a, ax, keepdims=k)),
    "var": (lambda x, d, k: x.var(d, keepdim=k),
            lambda a, ax, k: np.var(a, ax, keepdims=k, ddof=1)),
    "var_biased": (lambda x, d, k: x.var(d, keepdim=k, correction=0),
                   lambda a, ax, k: np.var(a, ax, keepdims=k)),
    "logsumexp": (lambda x, d, k: x.logsumexp(d, keepdim=k),
                  lambda a, ax, k: np_logsumexp(a, ax, k)),
}


@st.composite
def array_and_dim(draw, min_size=1, array=None):
    shape = draw(shapes())
    a = draw(arrays(shape) if array is None else array(shape))
    dim = draw(dims(len(shape)))
    axis = normalized(dim, a.ndim)
    count = a.size if axis is None else int(np.prod([a.shape[i] for i in axis]))
    if count < min_size:
        dim, axis = None, None          # fall back to every axis
    return a, dim, axis


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("keepdim", [False, True])
@given(data=st.data())
def test_reduction_gradcheck(name, keepdim, data):
    op, reference = REDUCTIONS[name]
    # var with correction=1 needs two elements in each reduced slice to be finite
    a, dim, axis = data.draw(array_and_dim(min_size=2 if name == "var" else 1), label="a, dim")
    if name == "var" and a.size < 2:
        a = np.array([0.5, -1.25])
        dim, axis = None, None
    check_op(lambda x: op(x, dim, keepdim), a, reference=lambda a: reference(a, axis, keepdim))


@pytest.mark.parametrize("method", ["max", "min"])
@pytest.mark.parametrize("keepdim", [False, True])
@given(data=st.data())
def test_max_min_gradcheck_without_ties(method, keepdim, data):
    a, dim, axis = data.draw(array_and_dim(array=distinct_arrays), label="a, dim")
    reference = {"max": np.max, "min": np.min}[method]
    check_op(lambda x: getattr(x, method)(dim, keepdim), a,
             reference=lambda a: reference(a, axis=axis, keepdims=keepdim))


@pytest.mark.parametrize("method", ["softmax", "log_softmax"])
@given(data=st.data())
def test_softmax_gradcheck(method, data):
    a = data.draw(shapes(min_dims=1).flatmap(arrays), label="a")
    dim = data.draw(one_dim(a.ndim), label="dim")
    reference = {"softmax": np_softmax,
                 "log_softmax": lambda a, d: a - np_logsumexp(a, d, keepdims=True)}[method]
    check_op(lambda x: getattr(x, method)(dim), a, reference=lambda a: reference(a, dim))


def test_sum_of_a_zero_dim_tensor_over_dim_zero():
    x = Tensor(np.array(2.5), requires_grad=True)
    for dim in (0, -1, None):
        assert x.sum(dim).shape == ()
    check_op(lambda x: x.sum(0) * x.mean(-1), np.array(2.5))


# -- ties share the gradient evenly ----------------------------------------------------------

@pytest.mark.parametrize("method", ["max", "min"])
def test_ties_share_the_gradient_evenly(method):
    best = 3.0 if method == "max" else -3.0
    x = Tensor(np.array([[best, 1.0, best, best], [0.5, best, 1.0, 0.0]]), requires_grad=True)
    getattr(x, method)(dim=1).backward(Tensor([6.0, 2.0]))
    np.testing.assert_array_equal(x.grad.data, [[2, 0, 2, 2], [0, 2, 0, 0]])


@pytest.mark.parametrize("method", ["max", "min"])
@given(a=shapes().flatmap(lambda s: arrays(s, st.sampled_from([-1.0, 0.0, 2.0]))))
def test_tied_gradient_is_upstream_gradient_over_the_number_of_winners(method, a):
    x = Tensor(a, requires_grad=True)
    getattr(x, method)().backward()
    winners = a == getattr(np, method)(a)
    np.testing.assert_allclose(x.grad.data, winners / winners.sum())


def test_argmax_has_no_gradient_and_matches_numpy():
    a = np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 7.5]])
    x = Tensor(a, requires_grad=True)
    np.testing.assert_array_equal(x.argmax(1).data, np.argmax(a, 1))
    np.testing.assert_array_equal(x.argmax().data, np.argmax(a))
    assert not x.argmax(1).requires_grad


# -- stability -------------------------------------------------------------------------------

def test_logsumexp_and_softmax_are_finite_at_plus_minus_1e4():
    a = np.array([[1e4, 0.0, -1e4], [-1e4, -1e4 + 1.0, -1e4]])
    x = Tensor(a, requires_grad=True)
    lse = x.logsumexp(1)
    np.testing.assert_allclose(lse.data, [1e4, -1e4 + 1.0 + np.log1p(2 * np.exp(-1.0))])
    lse.sum().backward()
    assert np.isfinite(x.grad.data).all()
    np.testing.assert_allclose(x.grad.data, np_softmax(a, 1), atol=1e-12)   # d lse = softmax
    x.grad = None
    p = x.softmax(1)
    np.testing.assert_allclose(p.data, np_softmax(a, 1), atol=1e-12)
    (p * Tensor(np.arange(6.0).reshape(2, 3))).sum().backward()
    assert np.isfinite(x.grad.data).all()


def test_logsumexp_and_softmax_with_minus_inf_entries():
    a = np.array([[0.0, -np.inf, 1.0], [-np.inf, 2.0, -np.inf]])
    x = Tensor(a, requires_grad=True)
    np.testing.assert_allclose(x.logsumexp(1).data, [np.log(1 + np.e), 2.0])
    p = x.softmax(1)
    np.testing.assert_allclose(p.data, [[1 / (1 + np.e), 0, np.e / (1 + np.e)], [0, 1, 0]])
    p[:, 0].sum().backward()
    assert np.isfinite(x.grad.data).all()
    assert x.grad.data[0, 1] == 0 and x.grad.data[1, 0] == 0 and x.grad.data[1, 2] == 0
    x.grad = None
    x.log_softmax(1)[0, 2].backward()
    assert np.isfinite(x.grad.data).all() and x.grad.data[0, 1] == 0


@given(a=shapes(min_dims=1).flatmap(arrays), shift=st.sampled_from([-1e4, -7.5, 3.0, 1e3]))
def test_softmax_is_unchanged_by_adding_a_constant(a, shift):
    x = Tensor(a)
    np.testing.assert_allclose(x.softmax(-1).data, (x + shift).softmax(-1).data, atol=1e-12)
    np.testing.assert_allclose(x.log_softmax(-1).data, (x + shift).log_softmax(-1).data,
                               atol=1e-9)


# -- dtypes ----------------------------------------------------------------------------------

@pytest.mark.parametrize("op", [
    lambda x: x.sum(), lambda x: x.mean(0), lambda x: x.var(1), lambda x: x.max(1),
    lambda x: x.min(), lambda x: x.logsumexp(-1), lambda x: x.softmax(0),
    lambda x: x.log_softmax(1), lambda x: x.sum((0, 1), keepdim=True)],
    ids=["sum", "mean", "var", "max", "min", "logsumexp", "softmax", "log_softmax", "sum_keep"])
def test_float32_stays_float32_through_reductions_and_their_gradients(op):
    x = Tensor(np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], dtype=np.float32),
               requires_grad=True)
    out = op(x)
    assert out.dtype == np.float32
    (out * out).sum().backward()
    assert x.grad.dtype == np.float32

"""The backward pass: depth, accumulation, freeing, higher order, hooks, grad mode, memory
(no reference cycles), the order of `engine.steps`, and row-sparse embedding gradients."""
import gc
import math
import weakref

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import arrays, shapes

from gradspace import autograd
from gradspace.autograd import Function, RowSparseGrad, Tensor, engine, gradients
from gradspace.autograd.grad_mode import set_grad_enabled


@pytest.fixture(autouse=True)
def _float64():
    autograd.set_default_dtype(np.float64)


def leaf(values):
    return Tensor(np.array(values, dtype=np.float64), requires_grad=True)


# -- depth and accumulation ------------------------------------------------------------------

def test_a_chain_100000_nodes_deep_backpropagates():
    x = leaf(0.5)
    y = x
    for _ in range(100_000):
        y = y + x                        # depth 100,000, and x is used 100,001 times
    y.backward()
    assert x.grad.item() == 100_001
    del y                                # freeing a deep graph must not overflow either


def test_dropping_a_100000_node_graph_without_backward():
    x = leaf(0.5)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    ref = weakref.ref(y.grad_fn.inputs[0])
    del y
    assert ref() is None


def test_gradients_of_a_reused_tensor_add_up():
    x = leaf([1.5, -2.0])
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, 2 * x.data)


@given(shape=shapes(), uses=st.integers(1, 6), data=st.data())
def test_a_tensor_used_many_times_gets_the_sum_of_its_gradients(shape, uses, data):
    # Each use broadcasts x against a float64 (2, *shape) array: every contribution arrives
    # with another shape and dtype, is summed back to x's and cast to float32, and the engine
    # adds them up (as arrays, in place from the third on).
    x = Tensor(data.draw(arrays(shape)).astype(np.float32), requires_grad=True)
    ones = np.ones((2,) + shape)
    loss = sum((x * ones * float(k)).sum() for k in range(1, uses + 1))
    loss.backward()
    assert x.grad.dtype == np.float32 and x.grad.shape == shape
    np.testing.assert_array_equal(x.grad.data, np.full(shape, 2.0 * uses * (uses + 1) / 2))


def test_diamond_graph():
    x = leaf([0.3, -1.2, 2.0])
    y = x * 3                             # y feeds two branches that meet again
    loss = (y.sin() + y.cos() * y).sum() + x.sum()
    loss.backward()
    a = x.data
    expected = 3 * (np.cos(3 * a) + np.cos(3 * a) - 3 * a * np.sin(3 * a)) + 1
    np.testing.assert_allclose(x.grad.data, expected)


def test_leaf_gradients_accumulate_across_calls_until_set_to_none():
    x = leaf([1.0, 2.0])
    for calls in (1, 2, 3):
        (x * x).sum().backward()
        np.testing.assert_allclose(x.grad.data, calls * 2 * x.data)
    x.grad = None
    (3 * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, [3.0, 3.0])


def test_each_leaf_owns_its_gradient():
    # optimizers and clip_grad_norm_ update .grad in place: it must be writable and unshared
    a, b, c = leaf([1.0, 2.0]), leaf([3.0, 4.0]), leaf(5.0)
    seed = Tensor([1.0, 1.0])
    ((a + b) * 1.0 + c).backward(seed)     # Add hands one gradient to both a and b; c's is summed
    a.grad.data *= 10
    c.grad.data += 1
    np.testing.assert_array_equal(b.grad.data, [1.0, 1.0])
    np.testing.assert_array_equal(seed.data, [1.0, 1.0])
    assert c.grad.item() == 3.0
    x = leaf([[1.0, 2.0]])
    x.sum().backward()                     # the sum's gradient is a broadcast of one number
    x.grad.data[0, 0] = 7.0
    np.testing.assert_array_equal(x.grad.data, [[7.0, 1.0]])


def test_gradients_once_handed_out_never_change():
    # The engine adds a tensor's third and later gradients into the sum it made from the first
    # two, in place. No array it has shown anyone (a hook, the steps' trace, a leaf's .grad)
    # may change afterwards, even where one gradient object reaches several inputs (h + h).
    x = leaf([0.5, -1.0, 2.0])
    h = x * 3.0
    held = []
    h.register_hook(lambda g: held.append(g))
    parts = [h + h, h * 2.0, h.tanh(), h * h]
    loss = sum(p.sum() for p in parts)
    shown = []
    with autograd.no_grad():                 # as backward() runs it: a first-order walk
        for _, g, input_grads in engine.steps([loss], [Tensor(1.0, dtype=np.float64)]):
            for grad in (g, *input_grads):
                if grad is not None:
                    shown.append((grad, grad.data.copy()))
    for grad, then in shown:
        np.testing.assert_array_equal(grad.data, then)
    hv = 3.0 * x.data
    expected = 2.0 + 2.0 + (1 - np.tanh(hv) ** 2) + 2 * hv      # dL/dh, summed over 6 uses
    np.testing.assert_allclose(held[0].data, expected)
    np.testing.assert_allclose(x.grad.data, 3.0 * expected)


def test_leaves_that_receive_views_of_one_gradient_do_not_share_memory():
    # a's gradient is a reshaped view of the very array handed to b, and w's a transposed view
    a, b = leaf([1.0, 2.0, 3.0, 4.0]), leaf([[1.0, 1.0], [1.0, 1.0]])
    w = leaf([[1.0, 2.0], [3.0, 4.0]])
    ((a.reshape(2, 2) + b) * 1.0 + w.T).sum().backward()
    a.grad.data *= 10
    w.grad.data *= 100
    np.testing.assert_array_equal(b.grad.data, np.ones((2, 2)))
    np.testing.assert_array_equal(a.grad.data, np.full(4, 10.0))
    np.testing.assert_array_equal(w.grad.data, np.full((2, 2), 100.0))


# -- freeing the graph -----------------------------------------------------------------------

def test_second_backward_through_a_freed_graph_raises_and_says_why():
    x = leaf([1.0, 2.0])
    loss = (x.exp() * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        loss.backward()


def test_retain_graph_allows_a_second_backward():
    x = leaf([1.0, 2.0])
    loss = (x.exp() * x).sum()
    loss.backward(retain_graph=True)
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_allclose(x.grad.data, 3 * (np.exp(x.data) * (1 + x.data)))


def test_part_of_a_graph_freed_by_an_earlier_backward_is_detected():
    x = leaf([1.0, 2.0])
    shared = x.tanh()
    (shared * 2).sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        (shared * 3).sum().backward()


# -- higher order ----------------------------------------------------------------------------

def _sig(a):
    return 1 / (1 + np.exp(-a))


@pytest.mark.parametrize("f, derivatives", [
    (lambda x: x ** 4, [lambda a: 4 * a ** 3, lambda a: 12 * a ** 2, lambda a: 24 * a]),
    (lambda x: x.sin(), [np.cos, lambda a: -np.sin(a), lambda a: -np.cos(a)]),
    (lambda x: x.exp() * x, [lambda a: np.exp(a) * (1 + a), lambda a: np.exp(a) * (2 + a),
                             lambda a: np.exp(a) * (3 + a)]),
    (lambda x: x.tanh(), [lambda a: 1 - np.tanh(a) ** 2,
                          lambda a: -2 * np.tanh(a) * (1 - np.tanh(a) ** 2),
                          lambda a: (6 * np.tanh(a) ** 2 - 2) * (1 - np.tanh(a) ** 2)]),
    (lambda x: x.sigmoid(), [lambda a: _sig(a) * (1 - _sig(a)),
                             lambda a: _sig(a) * (1 - _sig(a)) * (1 - 2 * _sig(a)),
                             lambda a: _sig(a) * (1 - _sig(a)) * (1 - 6 * _sig(a)
                                                                  + 6 * _sig(a) ** 2)]),
    (lambda x: 1 / x, [lambda a: -a ** -2.0, lambda a: 2 * a ** -3.0, lambda a: -6 * a ** -4.0]),
], ids=["x^4", "sin", "x exp x", "tanh", "sigmoid", "1/x"])
def test_create_graph_gives_second_and_third_derivatives(f, derivatives):
    a = np.array([0.7, -1.3, 2.1])
    # through gradients()
    x = leaf(a)
    g = f(x)
    for d in derivatives:
        (g,) = gradients(g.sum(), x, create_graph=True)
        np.testing.assert_allclose(g.data, d(a), rtol=1e-12)
    # through backward(create_graph=True) and .grad
    x = leaf(a)
    out = f(x)
    for d in derivatives:
        out.sum().backward(create_graph=True)
        out, x.grad = x.grad, None
        np.testing.assert_allclose(out.data, d(a), rtol=1e-12)


def test_mixed_second_partial_derivative():
    x, y = leaf(1.5), leaf(-0.5)
    f = x ** 2 * y ** 3
    (fx,) = gradients(f, x, create_graph=True)
    (fxy,) = gradients(fx, y)
    assert math.isclose(fxy.item(), 6 * 1.5 * 0.25)


def test_backward_without_create_graph_records_nothing():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    assert x.grad.grad_fn is None and not x.grad.requires_grad


# -- hooks -----------------------------------------------------------------------------------

def test_a_hook_sees_the_total_gradient_once():
    x = leaf([1.0, 2.0])
    y = x * 3
    seen = []
    y.register_hook(lambda g: seen.append(g.data.copy()))
    (y * y + y).sum().backward()                  # y used twice: the hook gets the sum, once
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], 2 * y.data + 1)


def test_a_hook_can_replace_the_gradient():
    x = leaf([1.0, 2.0])
    y = x * 3
    y.register_hook(lambda g: g * 10)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [30.0, 30.0])      # flows on to x
    z = leaf([1.0, 2.0])
    z.register_hook(lambda g: -g)
    (z * 2).sum().backward()
    np.testing.assert_allclose(z.grad.data, [-2.0, -2.0])      # on a leaf: what .grad gets


def test_a_removed_hook_is_not_called():
    x = leaf([1.0, 2.0])
    calls = []
    handle = x.register_hook(lambda g: calls.append(1))
    (x * 2).sum().backward()
    handle.remove()
    (x * 2).sum().backward()
    assert calls == [1]


def test_hooks_need_a_tensor_that_requires_grad():
    with pytest.raises(RuntimeError):
        Tensor([1.0]).register_hook(lambda g: g)


# -- grad mode -------------------------------------------------------------------------------

def test_no_grad_as_a_context_manager():
    x = leaf([1.0])
    assert autograd.is_grad_enabled()
    with autograd.no_grad():
        assert not autograd.is_grad_enabled()
        y = x * 2
        with autograd.enable_grad():
            assert autograd.is_grad_enabled()
            z = x * 2
        assert not autograd.is_grad_enabled()
    assert autograd.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None


def test_grad_mode_is_restored_after_an_exception():
    with pytest.raises(ZeroDivisionError), autograd.no_grad():
        raise ZeroDivisionError
    assert autograd.is_grad_enabled()


def test_no_grad_and_enable_grad_as_decorators():
    x = leaf([1.0])

    @autograd.no_grad()
    def frozen(t):
        assert not autograd.is_grad_enabled()
        return thawed(t), t * 2

    @autograd.enable_grad()
    def thawed(t):
        return t * 2

    inner, outer = frozen(x)
    assert inner.requires_grad and not outer.requires_grad
    assert frozen(x)[0].requires_grad                  # a decorator can be entered again
    assert autograd.is_grad_enabled()


def test_set_grad_enabled():
    x = leaf([1.0])
    with set_grad_enabled(False):
        assert not (x * 2).requires_grad
    with autograd.set_grad_enabled(True):
        assert (x * 2).requires_grad


# -- graph structure -------------------------------------------------------------------------

def test_requires_grad_propagates():
    x, c = leaf([1.0]), Tensor([2.0])
    assert not (c * c).requires_grad and (c * c).grad_fn is None
    y = c * x
    assert y.requires_grad and not y.is_leaf and y.grad_fn is not None
    assert x.is_leaf and x.grad_fn is None and c.is_leaf
    with pytest.raises(RuntimeError):
        y.requires_grad_(False)                    # only leaves; detach() otherwise


def test_detach_shares_data_and_stops_the_gradient():
    x = leaf([1.0, 2.0])
    d = x.detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    assert np.shares_memory(d.data, x.data)
    (d * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, x.data)     # d counts as a constant


def test_backward_on_a_non_scalar_needs_a_gradient():
    x = leaf([1.0, 2.0])
    y = x * x
    with pytest.raises(RuntimeError, match="shape"):
        y.backward()
    y.backward(Tensor([1.0, -1.0]))
    np.testing.assert_allclose(x.grad.data, [2.0, -4.0])


def test_backward_rejects_a_gradient_of_the_wrong_shape():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"\(3,\).*\(2,\)"):
        (x * x).backward(Tensor([1.0, 1.0, 1.0]))


def test_backward_on_a_tensor_without_grad_raises():
    with pytest.raises(RuntimeError):
        Tensor(1.0).backward()


# -- engine.steps: the order the chain rule runs in ------------------------------------------

OPS = {
    "add": lambda a, b: a + b, "mul": lambda a, b: a * b, "sub": lambda a, b: a - b,
    "tanh": lambda a, b: a.tanh(), "sin*": lambda a, b: a.sin() * b,
}


@st.composite
def random_graphs(draw):
    """A random DAG: leaves (some constant), then nodes each reading one or two earlier tensors."""
    n_leaves = draw(st.integers(1, 3))
    wants = draw(st.lists(st.booleans(), min_size=n_leaves, max_size=n_leaves))
    wants[0] = True
    ops = draw(st.lists(st.tuples(st.sampled_from(sorted(OPS)), st.integers(0, 99),
                                  st.integers(0, 99)), min_size=1, max_size=12))
    return wants, ops


def build(wants, ops, leaves):
    nodes = list(leaves)
    for name, i, j in ops:
        nodes.append(OPS[name](nodes[i % len(nodes)], nodes[j % len(nodes)]))
    return nodes


@given(graph=random_graphs(), data=st.data())
def test_steps_run_in_reverse_topological_order(graph, data):
    wants, ops = graph
    values = [data.draw(arrays((2,))) for _ in wants]
    leaves = [Tensor(v, requires_grad=w) for v, w in zip(values, wants)]
    nodes = build(wants, ops, leaves)
    root = nodes[-1].sum()
    assume(root.requires_grad)
    with autograd.no_grad():
        walked = list(engine.steps([root], [Tensor(1.0)], retain_graph=True))
    position = {id(t): k for k, (t, _, _) in enumerate(walked)}
    assert len(position) == len(walked)                          # each tensor once
    for t, _, input_grads in walked:
        if t.grad_fn is None:
            assert input_grads == () and t.is_leaf
            continue
        assert len(input_grads) == len(t.grad_fn.inputs)
        for parent in t.grad_fn.inputs:
            if parent.requires_grad:                             # parents run after children
                assert position[id(parent)] > position[id(t)]
    for x in leaves:                                             # leaves got what steps sent
        if id(x) in position:
            np.testing.assert_allclose(x.grad.data, walked[position[id(x)]][1].data)
    assert autograd.gradcheck(
        lambda *xs: build(wants, ops, [x if w else Tensor(v) for x, w, v in
                                       zip(xs, wants, values)])[-1],
        [v for v in values])


# -- no reference cycles: reference counting frees a dropped graph at once -------------------

def workload():
    """A graph touching every family of ops; returns the loss and a weakref to an intermediate."""
    x = leaf(np.linspace(-1, 1, 6).reshape(2, 3))
    w = leaf(np.linspace(0.5, 1.5, 12).reshape(3, 4))
    h = (x @ w).tanh()
    ref = weakref.ref(h)
    table = leaf(np.ones((5, 4)))
    e = table.embedding(np.array([[1, 1, 3], [0, 4, 4]])).sum(1)
    z = autograd.cat([h, e], 0)[np.array([0, 0, 3])].softmax(-1)
    z = autograd.where(z > 0.25, z, z * 2).clamp(0.1, 0.9).maximum(0.2)
    loss = z.var() + z.logsumexp(0).sum() + h.max() + (x.abs().sqrt() + 1).log().mean()
    return loss, ref, (x, w, table)


def test_dropping_the_loss_frees_the_graph_without_the_cycle_collector():
    gc.collect()
    gc.disable()
    try:
        loss, ref, _ = workload()
        assert ref() is not None                  # held through the loss's graph only
        del loss
        assert ref() is None
        loss, ref, _ = workload()
        loss.backward(retain_graph=True)
        assert ref() is not None
        del loss
        assert ref() is None
        loss, ref, leaves = workload()
        (g,) = gradients(loss, leaves[1], create_graph=True)
        (g * g).sum().backward()
        del loss, g
        assert ref() is None
    finally:
        gc.enable()


def test_the_cycle_collector_finds_nothing_of_ours():
    gc.collect()                          # clear what earlier tests left
    flags = gc.get_debug()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)        # keep what a collection finds, so we can look at it
    try:
        for mode in ("forward", "backward", "retain", "higher", "functional"):
            loss, _, (x, w, table) = workload()
            if mode == "backward":
                loss.backward()
            elif mode == "retain":
                loss.backward(retain_graph=True)
                loss.backward()
            elif mode == "higher":
                (g,) = gradients(loss, w, create_graph=True)
                (g * g).sum().backward()
            elif mode == "functional":
                autograd.hvp(lambda w: (w ** 3).sum(), w.data, np.ones(w.shape))
                autograd.jvp(lambda w: (w @ w.T).tanh(), w.data, np.ones(w.shape))
            del loss, x, w, table
        gc.collect()
        ours = [type(o).__name__ for o in gc.garbage if isinstance(o, (Tensor, Function))]
        assert ours == []
    finally:
        gc.set_debug(flags)
        gc.garbage.clear()
        gc.enable()


# -- row-sparse embedding gradients ----------------------------------------------------------

@st.composite
def embedding_cases(draw):
    num = draw(st.integers(1, 6))
    dim = draw(st.integers(1, 3))
    table = draw(arrays((num, dim)))
    ids = draw(arrays(draw(shapes(min_dims=1, max_dims=2)), st.integers(0, num - 1),
                      dtype=np.int64))
    padding = draw(st.none() | st.integers(0, num - 1))
    upstream = draw(arrays(ids.shape + (dim,)))
    return table, ids, padding, upstream


def grad_of_lookup(table, ids, padding, upstream, sparse, times=1):
    w = Tensor(table, requires_grad=True)
    for _ in range(times):
        w.embedding(ids, padding_idx=padding, sparse=sparse).backward(Tensor(upstream))
    return w.grad


@given(case=embedding_cases())
def test_row_sparse_gradient_equals_the_dense_one(case):
    table, ids, padding, upstream = case
    dense = grad_of_lookup(*case, sparse=False)
    assert not getattr(dense, "is_sparse", False)
    for times in (1, 2):                                 # accumulation across backward calls
        sparse = grad_of_lookup(*case, sparse=True, times=times)
        assert isinstance(sparse, RowSparseGrad) and sparse.is_sparse
        assert set(sparse.indices.tolist()) <= set(ids.ravel().tolist())
        assert sparse.shape == table.shape and sparse.dtype == table.dtype
        np.testing.assert_allclose(sparse.data, times * dense.data)
        c = sparse.coalesce()
        assert np.all(np.diff(c.indices) > 0)
        np.testing.assert_allclose(c.data, times * dense.data)
    expected = np.zeros_like(table)                      # and both equal the definition
    for position, i in np.ndenumerate(ids):
        if i != padding:
            expected[i] += upstream[position]
    np.testing.assert_allclose(dense.data, expected)


def test_sparse_plus_dense_gradients_of_one_table():
    table = np.arange(8.0).reshape(4, 2)
    ids = np.array([3, 1, 3])
    counts = np.bincount(ids, minlength=4)[:, None]
    for first in ("sparse", "dense"):
        w = Tensor(table, requires_grad=True)
        losses = {"sparse": w.embedding(ids).sum(), "dense": (w * w).sum()}
        losses[first].backward()                                         # across two calls
        losses["dense" if first == "sparse" else "sparse"].backward()
        (w.embedding(ids).sum() + (w * w).sum()).backward()              # within one call
        np.testing.assert_allclose(w.grad.data, 2 * (counts + 2 * table))


def test_embedding_gradient_is_dense_when_recorded():
    w = Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    (g,) = gradients((w.embedding(np.array([0, 2, 2])) ** 2).sum(), w, create_graph=True)
    assert not getattr(g, "is_sparse", False) and g.requires_grad
    (h,) = gradients(g.sum(), w)
    np.testing.assert_allclose(h.data, [[2, 2], [0, 0], [4, 4]])

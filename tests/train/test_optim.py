"""Optimizers: 20 steps equal the documented formula applied by hand in numpy; state dicts;
sparse gradients; bad hyperparameters."""
import math

import numpy as np
import pytest

from gradspace.autograd import Tensor
from gradspace.train.optim import SGD, Adam, AdamW, Optimizer, RMSprop

STEPS = 20
RNG = np.random.default_rng(7)
X = RNG.standard_normal((8, 3))
Y = RNG.standard_normal((8, 2))
W0 = RNG.standard_normal((3, 2))
B0 = RNG.standard_normal(2)


# -- the problem: least squares, loss = mean((X W + b - Y)^2), gradient by hand -----------------

def grads_by_hand(W, b):
    r = X @ W + b - Y                       # (8, 2)
    return 2 * X.T @ r / r.size, 2 * r.sum(axis=0) / r.size


def run_optimizer(make, steps=STEPS):
    W = Tensor(W0.copy(), requires_grad=True)
    b = Tensor(B0.copy(), requires_grad=True)
    opt = make([W, b])
    for _ in range(steps):
        opt.zero_grad()
        loss = ((Tensor(X) @ W + b - Tensor(Y)) ** 2).mean()
        loss.backward()
        opt.step()
    return W.data, b.data


def run_reference(update, steps=STEPS, **hp):
    """update(theta, g, state, t, **hp) -> new theta, applied to W and b separately."""
    theta = [W0.copy(), B0.copy()]
    states = [{}, {}]
    for t in range(1, steps + 1):
        gs = grads_by_hand(*theta)
        theta = [update(th, g, st, t, **hp) for th, g, st in zip(theta, gs, states)]
    return theta


# -- the formulas, written from the docstrings -----------------------------------------------

def sgd_ref(theta, g, st, t, lr, momentum=0.0, dampening=0.0, weight_decay=0.0,
            nesterov=False, maximize=False):
    if maximize:
        g = -g
    if weight_decay != 0:
        g = g + weight_decay * theta
    if momentum != 0:
        if t == 1:
            st["b"] = g
        else:
            st["b"] = momentum * st["b"] + (1 - dampening) * g
        g = g + momentum * st["b"] if nesterov else st["b"]
    return theta - lr * g


def adam_ref(theta, g, st, t, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
             amsgrad=False, maximize=False, decoupled=False):
    b1, b2 = betas
    if maximize:
        g = -g
    if weight_decay != 0:
        if decoupled:
            theta = theta - lr * weight_decay * theta
        else:
            g = g + weight_decay * theta
    m = b1 * st.get("m", 0.0) + (1 - b1) * g
    v = b2 * st.get("v", 0.0) + (1 - b2) * g ** 2
    st["m"], st["v"] = m, v
    m_hat = m / (1 - b1 ** t)
    if amsgrad:
        st["vmax"] = np.maximum(st.get("vmax", 0.0), v)
        v_hat = st["vmax"] / (1 - b2 ** t)
    else:
        v_hat = v / (1 - b2 ** t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps)


def rmsprop_ref(theta, g, st, t, lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                centered=False, maximize=False):
    if maximize:
        g = -g
    if weight_decay != 0:
        g = g + weight_decay * theta
    v = alpha * st.get("v", 0.0) + (1 - alpha) * g ** 2
    st["v"] = v
    v_tilde = v
    if centered:
        st["gave"] = alpha * st.get("gave", 0.0) + (1 - alpha) * g
        v_tilde = v_tilde - st["gave"] ** 2
    if momentum > 0:
        st["b"] = momentum * st.get("b", 0.0) + g / (np.sqrt(v_tilde) + eps)
        return theta - lr * st["b"]
    return theta - lr * g / (np.sqrt(v_tilde) + eps)


CASES = [
    (SGD, sgd_ref, dict(lr=0.1)),
    (SGD, sgd_ref, dict(lr=0.05, momentum=0.9)),
    (SGD, sgd_ref, dict(lr=0.05, momentum=0.8, dampening=0.3)),
    (SGD, sgd_ref, dict(lr=0.05, momentum=0.9, nesterov=True)),
    (SGD, sgd_ref, dict(lr=0.1, weight_decay=0.05)),
    (SGD, sgd_ref, dict(lr=0.05, momentum=0.7, dampening=0.1, weight_decay=0.02)),
    (SGD, sgd_ref, dict(lr=0.01, momentum=0.5, maximize=True)),
    (Adam, adam_ref, dict(lr=0.05)),
    (Adam, adam_ref, dict(lr=0.05, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1)),
    (Adam, adam_ref, dict(lr=0.05, betas=(0.5, 0.7), amsgrad=True)),
    (Adam, adam_ref, dict(lr=0.02, maximize=True, weight_decay=0.01)),
    (AdamW, adam_ref, dict(lr=0.05, weight_decay=0.1)),
    (AdamW, adam_ref, dict(lr=0.05, betas=(0.6, 0.8), weight_decay=0.2, amsgrad=True)),
    (RMSprop, rmsprop_ref, dict(lr=0.01)),
    (RMSprop, rmsprop_ref, dict(lr=0.01, alpha=0.9, weight_decay=0.1)),
    (RMSprop, rmsprop_ref, dict(lr=0.01, centered=True)),
    (RMSprop, rmsprop_ref, dict(lr=0.005, momentum=0.9)),
    (RMSprop, rmsprop_ref, dict(lr=0.005, momentum=0.5, centered=True, maximize=True)),
]


@pytest.mark.parametrize("cls, ref, hp", CASES,
                         ids=[f"{c.__name__}-{'-'.join(h)}" for c, _, h in CASES])
def test_twenty_steps_equal_the_formula(cls, ref, hp):
    W, b = run_optimizer(lambda params: cls(params, **hp))
    extra = dict(decoupled=True) if cls is AdamW else {}
    W_ref, b_ref = run_reference(ref, **hp, **extra)
    np.testing.assert_allclose(W, W_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b, b_ref, rtol=1e-10, atol=1e-12)
    assert not np.allclose(W, W0)            # it moved


def test_adamw_default_weight_decay_is_pytorchs():
    W = Tensor(W0.copy(), requires_grad=True)
    assert AdamW([W]).param_groups[0]["weight_decay"] == 0.01
    assert Adam([W]).param_groups[0]["weight_decay"] == 0


def test_param_groups_use_their_own_hyperparameters():
    W, b = run_optimizer(lambda p: SGD([{"params": [p[0]]}, {"params": [p[1]], "lr": 0.01}],
                                       lr=0.1, momentum=0.9))
    theta = [W0.copy(), B0.copy()]
    states = [{}, {}]
    for t in range(1, STEPS + 1):
        gs = grads_by_hand(*theta)
        theta = [sgd_ref(theta[0], gs[0], states[0], t, lr=0.1, momentum=0.9),
                 sgd_ref(theta[1], gs[1], states[1], t, lr=0.01, momentum=0.9)]
    np.testing.assert_allclose(W, theta[0], rtol=1e-10)
    np.testing.assert_allclose(b, theta[1], rtol=1e-10)


def test_float32_parameters_stay_float32_and_close_to_float64():
    W = Tensor(W0.astype(np.float32), requires_grad=True)
    opt = Adam([W], lr=0.1)
    for _ in range(5):
        opt.zero_grad()
        (W * W).sum().backward()
        opt.step()
    assert W.dtype == np.float32 and opt.state[W]["exp_avg"].dtype == np.float32


# -- the rules every optimizer follows --------------------------------------------------------

ALL = [lambda p: SGD(p, lr=0.1, momentum=0.9, weight_decay=0.1),
       lambda p: Adam(p, lr=0.1, weight_decay=0.1, amsgrad=True),
       lambda p: AdamW(p, lr=0.1), lambda p: RMSprop(p, lr=0.1, centered=True, momentum=0.5)]


@pytest.mark.parametrize("make", ALL)
def test_updates_in_place_and_never_touch_the_gradient(make):
    W = Tensor(W0.copy(), requires_grad=True)
    opt = make([W])
    array = W.data
    (W * W).sum().backward()
    grad, grad_copy = W.grad, W.grad.data.copy()
    opt.step()
    assert W.data is array                     # the same array, changed in place
    assert W.grad is grad
    np.testing.assert_array_equal(W.grad.data, grad_copy)
    assert not np.allclose(W.data, W0)
    opt.zero_grad()
    assert W.grad is None


def test_parameters_without_gradient_are_left_alone():
    W = Tensor(W0.copy(), requires_grad=True)
    b = Tensor(B0.copy(), requires_grad=True)
    opt = Adam([W, b], lr=0.1)
    (W * W).sum().backward()
    opt.step()
    np.testing.assert_array_equal(b.data, B0)
    assert b not in opt.state


@pytest.mark.parametrize("make", ALL)
def test_state_dict_round_trip_continues_identically(make):
    def params():
        return [Tensor(W0.copy(), requires_grad=True), Tensor(B0.copy(), requires_grad=True)]

    def steps(opt, ps, n):
        for _ in range(n):
            opt.zero_grad()
            ((Tensor(X) @ ps[0] + ps[1] - Tensor(Y)) ** 2).mean().backward()
            opt.step()

    a = params()
    opt_a = make(a)
    steps(opt_a, a, 7)
    saved = opt_a.state_dict()
    b = [Tensor(p.data.copy(), requires_grad=True) for p in a]
    opt_b = make(b)
    opt_b.load_state_dict(saved)
    steps(opt_a, a, 8)                         # moving on must not change the saved dict
    steps(opt_b, b, 8)
    for pa, pb in zip(a, b):
        np.testing.assert_array_equal(pa.data, pb.data)
    assert saved["param_groups"][0]["params"] == [0, 1]


def test_load_state_dict_that_does_not_fit_changes_nothing():
    W = Tensor(W0.copy(), requires_grad=True)
    b = Tensor(B0.copy(), requires_grad=True)
    opt = SGD([W, b], lr=0.1, momentum=0.9)
    (W.sum() + b.sum()).backward()
    opt.step()
    before = opt.state_dict()
    other = SGD([Tensor(np.zeros(5), requires_grad=True), Tensor(B0, requires_grad=True)],
                lr=0.3, momentum=0.9)
    (other.param_groups[0]["params"][0].sum() * 2).backward()
    other.step()
    with pytest.raises(ValueError, match="shape"):
        opt.load_state_dict(other.state_dict())
    with pytest.raises(ValueError, match="parameter group"):
        opt.load_state_dict(SGD([W], lr=0.5).state_dict())
    bad_lr = opt.state_dict()
    bad_lr["param_groups"][0]["lr"] = -1.0
    with pytest.raises(ValueError, match="-1.0"):
        opt.load_state_dict(bad_lr)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    np.testing.assert_array_equal(after["state"][0]["momentum_buffer"],
                                  before["state"][0]["momentum_buffer"])


def test_validate_state_dict_refuses_what_load_would_refuse_and_changes_nothing():
    W = Tensor(W0.copy(), requires_grad=True)
    opt = SGD([W], lr=0.1, momentum=0.9)
    W.sum().backward()
    opt.step()
    good, before = opt.state_dict(), opt.state_dict()
    good["param_groups"][0]["lr"] = 0.5
    good["state"][0]["momentum_buffer"] = good["state"][0]["momentum_buffer"] + 1
    assert opt.validate_state_dict(good) is None
    bad_shape = opt.state_dict()
    bad_shape["state"][0]["momentum_buffer"] = np.zeros(7)
    for bad, match in [(bad_shape, "shape"), ({"state": {}}, "param_groups"),
                       (SGD([W, Tensor(B0, requires_grad=True)], lr=0.1).state_dict(),
                        "parameters")]:
        with pytest.raises(ValueError, match=match):
            opt.validate_state_dict(bad)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    np.testing.assert_array_equal(after["state"][0]["momentum_buffer"],
                                  before["state"][0]["momentum_buffer"])

# -- sparse gradients (nn.Embedding's RowSparseGrad) ----------------------------------------------

TABLE = RNG.standard_normal((10, 4))
IDS = [np.array([1, 3, 3, 7]), np.array([0, 3, 9, 9, 9]), np.array([3, 1])]
TARGET = RNG.standard_normal(4)

SPARSE_CASES = [
    lambda p: SGD(p, lr=0.1),
    lambda p: SGD(p, lr=0.1, maximize=True),
    lambda p: SGD(p, lr=0.1, momentum=0.9),
    lambda p: SGD(p, lr=0.1, weight_decay=0.1),
    lambda p: Adam(p, lr=0.1),
    lambda p: AdamW(p, lr=0.1, amsgrad=True),
    lambda p: RMSprop(p, lr=0.01, momentum=0.5, centered=True),
]


def train_table(make, sparse, steps=6):
    E = Tensor(TABLE.copy(), requires_grad=True)
    opt = make([E])
    grads = []
    for k in range(steps):
        opt.zero_grad()
        rows = E.embedding(IDS[k % len(IDS)], sparse=sparse)          # (n, 4)
        ((rows - Tensor(TARGET)) ** 2).sum().backward()
        grads.append(E.grad)
        opt.step()
    return E.data, grads


@pytest.mark.parametrize("make", SPARSE_CASES)
def test_sparse_gradients_give_the_dense_result(make):
    sparse, grads = train_table(make, sparse=True)
    dense, _ = train_table(make, sparse=False)
    assert all(getattr(g, "is_sparse", False) for g in grads)   # the sparse path was exercised
    np.testing.assert_allclose(sparse, dense, rtol=1e-12, atol=1e-14)


def test_plain_sgd_touches_only_rows_with_a_gradient():
    E, grads = train_table(lambda p: SGD(p, lr=0.1), sparse=True, steps=1)
    assert grads[0]._dense is None             # the dense gradient was never made
    untouched = np.setdiff1d(np.arange(10), IDS[0])
    np.testing.assert_array_equal(E[untouched], TABLE[untouched])
    assert not np.allclose(E[IDS[0]], TABLE[IDS[0]])


# -- bad hyperparameters -------------------------------------------------------------------------

BAD = [
    (SGD, dict(lr=-0.1), "-0.1"),
    (SGD, dict(lr=0.1, momentum=-0.5), "-0.5"),
    (SGD, dict(lr=0.1, weight_decay=-1e-3), "-0.001"),
    (SGD, dict(lr=0.1, nesterov=True), "nesterov"),
    (SGD, dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "dampening=0.1"),
    (Adam, dict(lr=-1e-3), "-0.001"),
    (Adam, dict(betas=(1.0, 0.999)), "1.0"),
    (Adam, dict(betas=(0.9, -0.1)), "-0.1"),
    (Adam, dict(eps=-1e-8), "-1e-08"),
    (AdamW, dict(weight_decay=-0.01), "-0.01"),
    (RMSprop, dict(alpha=-0.9), "-0.9"),
    (RMSprop, dict(momentum=-1), "-1"),
    (RMSprop, dict(lr=float("nan")), "nan"),
]


@pytest.mark.parametrize("cls, hp, named", BAD)
def test_bad_hyperparameters_raise_value_error_naming_the_value(cls, hp, named):
    W = Tensor(W0.copy(), requires_grad=True)
    with pytest.raises(ValueError, match=named.replace("(", r"\(").replace(".", r"\.")):
        cls([W], **hp)


def test_empty_or_repeated_parameters_raise():
    W = Tensor(W0.copy(), requires_grad=True)
    with pytest.raises(ValueError, match="empty"):
        SGD([], lr=0.1)
    with pytest.raises(ValueError, match="more than one"):
        SGD([{"params": [W]}, {"params": [W]}], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        SGD([W * 2], lr=0.1)
    opt = SGD([W], lr=0.1)
    with pytest.raises(ValueError, match="-2"):
        opt.add_param_group({"params": [Tensor(B0, requires_grad=True)], "lr": -2})
    assert len(opt.param_groups) == 1


def test_the_base_class_needs_an_update_rule():
    W = Tensor(W0.copy(), requires_grad=True)
    opt = Optimizer([W], dict(lr=0.1))
    (W * W).sum().backward()
    with pytest.raises(NotImplementedError):
        opt.step()


def test_step_runs_the_closure_and_returns_its_loss():
    W = Tensor(W0.copy(), requires_grad=True)
    opt = SGD([W], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (W * W).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert math.isclose(loss.item(), float((W0 ** 2).sum()))
    np.testing.assert_allclose(W.data, W0 - 0.1 * 2 * W0)

"""What a learner types, coming from PyTorch tutorials: each line works as in PyTorch, or fails
loudly as PyTorch does.

Every case is written twice, once with gradspace and once with torch, and has a recorded
outcome: the values it gives, or the error it raises. Without torch, the gradspace side is
checked against the recorded outcome; with torch installed, the torch side is checked against
the same record, so the record is PyTorch's behaviour and not our own guess.
"""
import json

import numpy as np
import pytest

import gradspace.nn.functional as F
from gradspace import autograd, nn, train
from gradspace.autograd import Tensor, no_grad

NAN = float("nan")


# -- the first training loop everyone writes -----------------------------------------------------

def make_model():
    autograd.manual_seed(3)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))


def batches():
    rng = np.random.default_rng(0)
    return [(rng.standard_normal((8, 3)).astype(np.float32),
             rng.standard_normal((8, 1)).astype(np.float32)) for _ in range(5)]


def test_manual_sgd_loop_trains_to_the_same_weights_as_optim_sgd():
    lr = 0.1
    by_hand, with_sgd = make_model(), make_model()
    opt = train.optim.SGD(with_sgd.parameters(), lr=lr)
    for x, y in batches():
        loss = F.mse_loss(by_hand(Tensor(x)), Tensor(y))
        loss.backward()
        with no_grad():                      # PyTorch's spelling of a step, by hand
            for p in by_hand.parameters():
                p -= lr * p.grad
                p.grad = None
        opt.zero_grad()
        F.mse_loss(with_sgd(Tensor(x)), Tensor(y)).backward()
        opt.step()
    start = make_model()
    for p, q, p0 in zip(by_hand.parameters(), with_sgd.parameters(), start.parameters()):
        assert not np.array_equal(p.data, p0.data)          # it trained: the weights moved
        np.testing.assert_array_equal(p.data, q.data)       # exactly as SGD moves them


def test_the_other_spellings_of_a_step_update_in_place_too():
    w = Tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    same = w
    with no_grad():
        w.sub_(w.grad, alpha=0.5)            # p.sub_(lr * p.grad), p.data.add_ style
        w *= 2.0
        w.grad.zero_()
    assert w is same and w.is_leaf and w.requires_grad
    np.testing.assert_array_equal(w.data, [0.0, 0.0])
    np.testing.assert_array_equal(w.grad.data, [0.0, 0.0])


# -- each case beside PyTorch ----------------------------------------------------------------------

def outcome(run):
    """What running `run` gives: its values as nested lists, or (exception type, message)."""
    try:
        value = run()
    except Exception as exc:                 # noqa: BLE001 - the error is the outcome
        return type(exc).__name__, str(exc)
    return np.asarray(value, dtype=np.float64).tolist()


def gs_leaf_update_in_grad_mode():
    w = Tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    w -= 0.1 * w.grad                        # forgot `with no_grad():`
    return w.data


def th_leaf_update_in_grad_mode(torch):
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    w -= 0.1 * w.grad
    return w.detach()


def gs_step_between_two_backwards():
    model = make_model()
    opt = train.optim.SGD(model.parameters(), lr=0.1)
    loss = model(Tensor(np.ones((2, 3), np.float32))).sum()
    loss.backward(retain_graph=True)
    opt.step()
    loss.backward()


def th_step_between_two_backwards(torch):
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = model(torch.ones(2, 3)).sum()
    loss.backward(retain_graph=True)
    opt.step()
    loss.backward()


def gs_masked_assignment():
    x = Tensor([0.5, 1.5, 2.5], requires_grad=True)
    t = x * 2
    t[t > 2] = 0                             # recorded: no gradient where it was overwritten
    (t * t).sum().backward()
    return [t.data, x.grad.data]


def th_masked_assignment(torch):
    x = torch.tensor([0.5, 1.5, 2.5], requires_grad=True)
    t = x * 2
    t[t > 2] = 0
    (t * t).sum().backward()
    return [t.detach(), x.grad]


def gs_mul_by_a_weight_in_place():
    x = Tensor([1.0, 2.0], requires_grad=True)
    w = Tensor([3.0, 4.0], requires_grad=True)
    h = x * 1
    h.mul_(w)                                # w's gradient needs h before the change
    h.sum().backward()
    return [x.grad.data, w.grad.data]


def th_mul_by_a_weight_in_place(torch):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    w = torch.tensor([3.0, 4.0], requires_grad=True)
    h = x * 1
    h.mul_(w)
    h.sum().backward()
    return [x.grad, w.grad]


def gs_augmented_assignment_of_a_used_tensor():
    x = Tensor([1.0, 2.0], requires_grad=True)
    c = x * 1
    c += c * 2                               # micrograd's style: c was already used
    z = c * 1
    c *= 3
    (z + c).sum().backward()
    return [c.data, x.grad.data]


def th_augmented_assignment_of_a_used_tensor(torch):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    c = x * 1
    c += c * 2
    z = c * 1
    c *= 3
    (z + c).sum().backward()
    return [c.detach(), x.grad]


def gs_changing_a_saved_output():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    y.add_(1)                                # exp's backward reads its output
    y.sum().backward()


def th_changing_a_saved_output(torch):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    y.add_(1)
    y.sum().backward()


def gs_writing_through_detach():
    w = Tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    w.detach().zero_()                       # a detached tensor shares w's memory
    loss.backward()


def th_writing_through_detach(torch):
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    w.detach().zero_()
    loss.backward()


def gs_float_into_long():
    t = Tensor([1, 2])
    t += 0.5


def th_float_into_long(torch):
    t = torch.tensor([1, 2])
    t += 0.5


def gs_in_place_cannot_grow():
    t = autograd.zeros(3)
    t += autograd.ones(2, 3)


def th_in_place_cannot_grow(torch):
    t = torch.zeros(3)
    t += torch.ones(2, 3)


def gs_gradients_of_an_unrecorded_output():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with no_grad():
        y = (x * 2).sum()
    return autograd.gradients(y, x)


def th_gradients_of_an_unrecorded_output(torch):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    with torch.no_grad():
        y = (x * 2).sum()
    return torch.autograd.grad(y, x)


def gs_hook_changes_the_shape():
    x = Tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: autograd.ones(2, 2))
    (x * 2).sum().backward()


def th_hook_changes_the_shape(torch):
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: torch.ones(2, 2))
    (x * 2).sum().backward()


def gs_grad_of_the_wrong_shape():
    p = nn.Parameter(np.zeros(3, np.float32))
    p.grad = autograd.ones(2, 3)


def th_grad_of_the_wrong_shape(torch):
    p = torch.nn.Parameter(torch.zeros(3))
    p.grad = torch.ones(2, 3)


def gs_long_leaves_the_graph():
    x = Tensor([1.5, 2.5], requires_grad=True)
    return [x.long().requires_grad, x.long().grad_fn is None, x.bool().requires_grad]


def th_long_leaves_the_graph(torch):
    x = torch.tensor([1.5, 2.5], requires_grad=True)
    return [x.long().requires_grad, x.long().grad_fn is None, x.bool().requires_grad]


def gs_expand_minus_one_for_a_new_dim():
    return autograd.ones(3).expand(-1, 3).data


def th_expand_minus_one_for_a_new_dim(torch):
    return torch.ones(3).expand(-1, 3)


def gs_pow_at_zero():
    x = Tensor([0.0, 1.0], requires_grad=True)
    (x ** 0).sum().backward()
    p = Tensor(2.0, requires_grad=True)
    (Tensor(0.0) ** p).backward()
    return [x.grad.data[0], x.grad.data[1], p.grad.item()]


def th_pow_at_zero(torch):
    x = torch.tensor([0.0, 1.0], requires_grad=True)
    (x ** 0).sum().backward()
    p = torch.tensor(2.0, requires_grad=True)
    (torch.tensor(0.0) ** p).backward()
    return [x.grad[0].item(), x.grad[1].item(), p.grad.item()]


def gs_max_with_a_nan():
    x = Tensor([1.0, NAN, 3.0, NAN], requires_grad=True)
    x.max().backward()
    return x.grad.data


def th_max_with_a_nan(torch):
    x = torch.tensor([1.0, NAN, 3.0, NAN], requires_grad=True)
    x.max().backward()
    return x.grad


def gs_clip_a_nan_norm():
    p, q = nn.Parameter(np.ones(2, np.float32)), nn.Parameter(np.ones(2, np.float32))
    p.grad, q.grad = Tensor([NAN, 1.0]), Tensor([1.0, 2.0])
    norm = nn.utils.clip_grad_norm_([p, q], 1.0)
    return [[norm.item(), norm.item()], p.grad.data, q.grad.data]


def th_clip_a_nan_norm(torch):
    p, q = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(2))
    p.grad, q.grad = torch.tensor([NAN, 1.0]), torch.tensor([1.0, 2.0])
    norm = torch.nn.utils.clip_grad_norm_([p, q], 1.0)
    return [[norm.item(), norm.item()], p.grad, q.grad]


def raises(kind, *fragments):
    return ("raises", kind, fragments)


# name: (gradspace, torch, the recorded outcome: values, or raises(type, message fragments))
CASES = {
    "leaf update in grad mode": (
        gs_leaf_update_in_grad_mode, th_leaf_update_in_grad_mode,
        raises("RuntimeError", "a leaf Variable that requires grad is being used in an "
                               "in-place operation")),
    "step between two backwards": (
        gs_step_between_two_backwards, th_step_between_two_backwards,
        # PyTorch's parameters are at version 1 before the step (nn.init writes in place);
        # gradspace's at 0: the versions in the two messages differ by that one.
        raises("RuntimeError", "modified by an inplace operation", "is at version",
               "expected version")),
    "masked assignment": (
        gs_masked_assignment, th_masked_assignment, [[1.0, 0.0, 0.0], [4.0, 0.0, 0.0]]),
    "mul_ by a weight": (
        gs_mul_by_a_weight_in_place, th_mul_by_a_weight_in_place, [[3.0, 4.0], [1.0, 2.0]]),
    "augmented assignment of a used tensor": (
        gs_augmented_assignment_of_a_used_tensor, th_augmented_assignment_of_a_used_tensor,
        [[9.0, 18.0], [12.0, 12.0]]),
    "changing a saved output": (
        gs_changing_a_saved_output, th_changing_a_saved_output,
        raises("RuntimeError", "modified by an inplace operation", "output 0 of Exp",
               "is at version 1; expected version 0 instead")),
    "writing through detach": (
        gs_writing_through_detach, th_writing_through_detach,
        raises("RuntimeError", "modified by an inplace operation",
               "is at version 1; expected version 0 instead")),
    "float into long": (
        gs_float_into_long, th_float_into_long,
        raises("RuntimeError", "result type Float can't be cast to the desired output type "
                               "Long")),
    "in place cannot grow": (
        gs_in_place_cannot_grow, th_in_place_cannot_grow,
        raises("RuntimeError", "output with shape [3] doesn't match the broadcast shape "
                               "[2, 3]")),
    "gradients of an unrecorded output": (
        gs_gradients_of_an_unrecorded_output, th_gradients_of_an_unrecorded_output,
        raises("RuntimeError", "does not require grad and does not have a grad_fn")),
    "hook changes the shape": (
        gs_hook_changes_the_shape, th_hook_changes_the_shape,
        raises("RuntimeError", "has changed the size of value")),
    "grad of the wrong shape": (
        gs_grad_of_the_wrong_shape, th_grad_of_the_wrong_shape,
        raises("RuntimeError", "attempting to assign a gradient of size '[2, 3]' to a tensor "
                               "of size '[3]'")),
    "long leaves the graph": (
        gs_long_leaves_the_graph, th_long_leaves_the_graph, [0.0, 1.0, 0.0]),
    "expand -1 for a new dim": (
        gs_expand_minus_one_for_a_new_dim, th_expand_minus_one_for_a_new_dim,
        raises("RuntimeError", "size of the tensor (-1) isn't allowed in a leading, "
                               "non-existing dimension 0")),
    "pow at zero": (gs_pow_at_zero, th_pow_at_zero, [0.0, 0.0, 0.0]),
    "max with a nan": (gs_max_with_a_nan, th_max_with_a_nan, [0.0, 0.5, 0.0, 0.5]),
    "clip a nan norm": (
        gs_clip_a_nan_norm, th_clip_a_nan_norm, [[NAN, NAN], [NAN, NAN], [NAN, NAN]]),
}


def assert_matches(got, recorded):
    if isinstance(recorded, tuple):
        _, kind, fragments = recorded
        assert isinstance(got, tuple), f"expected {kind}, got the values {got}"
        assert got[0] == kind, got
        for fragment in fragments:
            assert fragment.lower() in got[1].lower(), (fragment, got[1])
    else:
        assert not isinstance(got, tuple), f"expected values, got {got}"
        np.testing.assert_array_equal(np.asarray(got), np.asarray(recorded))


@pytest.mark.parametrize("name", CASES)
def test_gradspace_does_what_pytorch_does(name):
    run, _, recorded = CASES[name]
    assert_matches(outcome(run), recorded)


@pytest.mark.parametrize("name", CASES)
def test_the_record_is_what_pytorch_does(name):
    torch = pytest.importorskip("torch")
    _, run, recorded = CASES[name]
    assert_matches(outcome(lambda: run(torch)), recorded)


def test_the_step_error_names_the_operation_the_tensor_and_both_versions():
    with pytest.raises(RuntimeError) as info:
        gs_step_between_two_backwards()
    message = str(info.value)
    assert "[FloatTensor [1, 4]], which is input 1 of Linear" in message    # the last weight
    assert "is at version 1; expected version 0 instead" in message


# -- float32 softmax at large logits ---------------------------------------------------------------

@pytest.mark.parametrize("scale", [1e4, 1e6])
def test_float32_softmax_sums_to_one_at_large_logits(scale):
    logits = np.array([[scale, 0.0, -scale, scale - 1], [1.0, 2.0, 3.0, 4.0]], np.float32)
    eps = np.finfo(np.float32).eps
    probs = Tensor(logits).softmax(-1)
    log_probs = Tensor(logits).log_softmax(-1)
    assert probs.dtype == np.float32 and log_probs.dtype == np.float32
    np.testing.assert_allclose(probs.data.sum(-1), 1.0, atol=2 * eps)
    np.testing.assert_allclose(np.exp(log_probs.data.astype(np.float64)).sum(-1), 1.0,
                               atol=4 * eps)
    # The exact probabilities of the first row: e / (1 + e) and 1 / (1 + e), e = exp(1).
    e = np.exp(1.0)
    np.testing.assert_allclose(probs.data[0], [e / (1 + e), 0, 0, 1 / (1 + e)], rtol=4 * eps)


def test_float32_softmax_beside_pytorch():
    torch = pytest.importorskip("torch")
    logits = np.array([[1e4, 0.0, -1e4, 1e4 - 1], [1e6, 3.0, 1e6 - 2, -5.0]], np.float32)
    ours = Tensor(logits).softmax(-1).data
    theirs = torch.from_numpy(logits).softmax(-1).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


# -- arrays: copied by Tensor(), shared by from_numpy -------------------------------------------

def test_tensor_copies_the_array_and_from_numpy_shares_it():
    a = np.array([1.0, 2.0], np.float32)
    copied, shared = Tensor(a), autograd.from_numpy(a)
    a[0] = 10.0
    assert copied.data[0] == 1.0 and shared.data[0] == 10.0
    shared += 1.0
    assert a[1] == 3.0 and copied.data[1] == 2.0


def test_a_read_only_array_trains_as_a_parameter():
    a = np.array([1.0, 2.0], np.float32)
    a.flags.writeable = False                # say, memory-mapped data
    w = nn.Parameter(a)
    opt = train.optim.SGD([w], lr=0.5)
    (w * w).sum().backward()
    opt.step()
    np.testing.assert_array_equal(w.data, [0.0, 0.0])
    np.testing.assert_array_equal(a, [1.0, 2.0])
    with pytest.raises(RuntimeError, match="read-only"):
        autograd.from_numpy(a).add_(1.0)     # shared on purpose: in place is refused


def test_a_parameter_never_aliases_the_users_array():
    a = np.ones(3, np.float32)
    p = nn.Parameter(a)
    with no_grad():
        p -= 1.0
    np.testing.assert_array_equal(a, [1.0, 1.0, 1.0])
    shared = nn.Parameter(autograd.from_numpy(a))          # unless asked
    with no_grad():
        shared -= 1.0
    np.testing.assert_array_equal(a, [0.0, 0.0, 0.0])


# -- checkpoint.load and a broken optimizer state ------------------------------------------------

def test_checkpoint_load_rejects_a_step_that_is_not_a_number(tmp_path):
    model = make_model()
    opt = train.optim.Adam(model.parameters(), lr=0.01)
    F.mse_loss(model(Tensor(np.ones((2, 3), np.float32))), Tensor(np.zeros((2, 1)))).backward()
    opt.step()
    path = tmp_path / "run.npz"
    train.checkpoint.save(path, model, opt)
    with np.load(path) as saved:
        arrays = dict(saved)
    structure = json.loads(str(arrays["optim/structure"]))
    structure["state"]["0"]["step"] = "abc"
    arrays["optim/structure"] = np.array(json.dumps(structure))
    np.savez(path, **arrays)
    weights = [p.data.copy() for p in model.parameters()]
    state = opt.state_dict()
    with pytest.raises(ValueError, match="'step' of parameter 0 is 'abc'"):
        train.checkpoint.load(path, model, opt)
    for p, w in zip(model.parameters(), weights):
        np.testing.assert_array_equal(p.data, w)
    assert opt.state_dict()["state"][0]["step"] == state["state"][0]["step"] == 1

"""Grad mode belongs to a thread, as in PyTorch, and every way of switching it is restored,
also when the block is left by an exception."""
import sys
import threading

import numpy as np
import pytest

from gradspace.autograd import Tensor, enable_grad, is_grad_enabled, no_grad, set_grad_enabled

ITERATIONS = 1500


@no_grad
def evaluate(x):
    return x * 2


def run_threads(workers):
    """Run each worker(errors) in its own thread, switching threads as often as Python can."""
    errors = []
    threads = [threading.Thread(target=w, args=(errors,)) for w in workers]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    return errors


def evaluator(errors):
    x = Tensor([1.0, 2.0], requires_grad=True)
    for _ in range(ITERATIONS):
        with no_grad():
            y = x * 2
            if y.grad_fn is not None or is_grad_enabled():
                errors.append("no_grad block recorded")
        if evaluate(x).grad_fn is not None:
            errors.append("@no_grad function recorded")
        if not is_grad_enabled():
            errors.append("grad mode stayed off after no_grad")


def trainer(errors):
    w = Tensor([1.0, -1.0], requires_grad=True)
    for i in range(ITERATIONS):
        y = (w * w * 3.0).sum()
        if y.grad_fn is None:
            errors.append("a training step was not recorded")
            continue
        w.grad = None
        y.backward(create_graph=i % 2 == 1)        # the engine's own switch, both ways
        if not np.array_equal(w.grad.data, [6.0, -6.0]):
            errors.append(f"wrong gradient {w.grad.data}")
        if not is_grad_enabled():
            errors.append("grad mode stayed off after backward")


def test_threads_entering_no_grad_do_not_stop_others_from_recording():
    errors = run_threads([evaluator, trainer, evaluator, trainer])
    assert errors == []
    assert is_grad_enabled()


def test_a_new_thread_starts_in_grad_mode_whatever_the_mode_of_its_parent():
    seen = []
    with no_grad():
        t = threading.Thread(target=lambda: seen.append(is_grad_enabled()))
        t.start()
        t.join()
        assert not is_grad_enabled()
    assert seen == [True]


class Boom(Exception):
    pass


@pytest.mark.parametrize("manager", [no_grad, enable_grad, lambda: set_grad_enabled(False)])
def test_every_switch_is_restored_after_an_exception(manager):
    for outer in (True, False):
        with set_grad_enabled(outer):
            with pytest.raises(Boom):
                with manager():
                    raise Boom

            @manager()
            def fails():
                raise Boom
            with pytest.raises(Boom):
                fails()
            assert is_grad_enabled() == outer


def test_backward_restores_grad_mode_when_a_hook_raises():
    x = Tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: (_ for _ in ()).throw(Boom()))
    with pytest.raises(Boom):
        (x * x).sum().backward()
    assert is_grad_enabled()
    with no_grad():
        with pytest.raises(Boom):
            y = x * x
            with enable_grad():
                (x * x).sum().backward()
        assert not is_grad_enabled() and y.grad_fn is None

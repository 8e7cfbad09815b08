"""Grad mode: whether operations record the graph that backward() walks.

`no_grad()` turns recording off (for evaluation, optimizer updates, and the engine's
own first-order backward pass); `enable_grad()` turns it back on inside a `no_grad` block.
Both work as context managers and as decorators.
"""
import contextlib


class _State:
    enabled = True   # read by every operation: a class attribute is the cheapest global


state = _State()


def is_grad_enabled():
    """True when new operations are recorded for backpropagation."""
    return state.enabled


class set_grad_enabled(contextlib.ContextDecorator):
    """Set grad mode to `mode` inside a `with` block (or a decorated function)."""

    def __init__(self, mode=True):
        self.mode = bool(mode)
        self.previous = []

    def __enter__(self):
        self.previous.append(state.enabled)
        state.enabled = self.mode
        return self

    def __exit__(self, *exc):
        state.enabled = self.previous.pop()
        return False


class no_grad(set_grad_enabled):
    """Stop recording the graph: results of operations have no grad_fn."""

    def __init__(self):
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """Record the graph again, even inside `no_grad`."""

    def __init__(self):
        super().__init__(True)

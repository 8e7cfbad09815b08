"""Grad mode: whether operations record the graph that backward() walks.

`no_grad()` turns recording off (for evaluation, optimizer updates, and the engine's
own first-order backward pass); `enable_grad()` turns it back on inside a `no_grad` block.
Both work as context managers and as decorators.
"""
import contextlib


class _State:
    enabled = True   # read by every operation: a class attribute is the cheapest global

    def __init__(self):
        # Forward mode (autograd.forward_ad): the active dual level's tangents, id(tensor) ->
        # (tensor, tangent), or None outside one. Read by every operation: an instance
        # attribute is read faster than a class attribute is through the instance.
        self.tangents = None


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


class _Switch(set_grad_enabled):
    """A fixed grad mode, usable as `with no_grad():`, `@no_grad()` or bare `@no_grad`."""
    mode = True

    def __new__(cls, func=None):
        if callable(func):                       # bare decorator: @no_grad
            return cls()(func)
        return super().__new__(cls)

    def __init__(self, func=None):
        super().__init__(self.mode)


class no_grad(_Switch):
    """Stop recording the graph: results of operations have no grad_fn."""
    mode = False


class enable_grad(_Switch):
    """Record the graph again, even inside `no_grad`."""
    mode = True

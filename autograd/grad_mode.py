"""Grad mode: whether operations record the graph that backward() walks.

`no_grad()` turns recording off (for evaluation, optimizer updates, and the engine's
own first-order backward pass); `enable_grad()` turns it back on inside a `no_grad` block.
Both work as context managers and as decorators.

The mode belongs to a thread, as in PyTorch: an evaluation thread inside `no_grad` does not stop
a training thread from recording. A new thread starts with recording on.
"""
import contextlib
import contextvars

# Grad mode and forward mode's tangents (autograd.forward_ad: the active dual level's tangents,
# id(tensor) -> (tensor, tangent), or None outside one). ContextVars: every thread, and every
# asyncio task, has its own value; a new thread starts from the defaults. Reading one is a
# C call, cheaper than a threading.local attribute; every operation reads both.
_enabled = contextvars.ContextVar("grad_enabled", default=True)
_tangents = contextvars.ContextVar("tangents", default=None)
grad_enabled = _enabled.get         # Function.apply and the engine call these two directly
current_tangents = _tangents.get


class _State:
    """`state.enabled` and `state.tangents`, read and written as attributes (per thread)."""
    __slots__ = ()
    enabled = property(lambda self: _enabled.get(), lambda self, mode: _enabled.set(mode))
    tangents = property(lambda self: _tangents.get(), lambda self, t: _tangents.set(t))


state = _State()


def is_grad_enabled():
    """True when new operations are recorded for backpropagation (in this thread)."""
    return _enabled.get()


class set_grad_enabled(contextlib.ContextDecorator):
    """Set grad mode to `mode` inside a `with` block (or a decorated function).

    The mode before the block is restored on leaving it, also when it is left by an exception.
    A decorated function enters a fresh copy of the manager at each call, so several threads
    may run it at once, each restoring its own mode. The ContextVar's own tokens do the
    restoring: no Python-level property on the way in or out (the optimizers' step and every
    backward pass enter one).
    """

    def __init__(self, mode=True):
        self.mode = bool(mode)
        self.tokens = []            # a stack: the same manager may be entered again inside

    def _recreate_cm(self):
        return set_grad_enabled(self.mode)

    def __enter__(self):
        self.tokens.append(_enabled.set(self.mode))
        return self

    def __exit__(self, *exc):
        _enabled.reset(self.tokens.pop())
        return False


class _Switch(set_grad_enabled):
    """A fixed grad mode, usable as `with no_grad():`, `@no_grad()` or bare `@no_grad`."""
    mode = True

    def __new__(cls, func=None):
        if callable(func):                       # bare decorator: @no_grad
            return cls()(func)
        return super().__new__(cls)

    def __init__(self, func=None):
        self.tokens = []                         # the mode is the class's


class no_grad(_Switch):
    """Stop recording the graph: results of operations have no grad_fn."""
    mode = False


class enable_grad(_Switch):
    """Record the graph again, even inside `no_grad`."""
    mode = True

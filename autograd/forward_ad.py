"""Forward mode: tangents that travel forward with the values, as torch.autograd.forward_ad.

Inside a `dual_level()`, a tensor made by `make_dual(x, u)` carries a tangent u: the direction
in which x moves. Every operation on it computes, besides its value, the tangent of its result,
J u, from its inputs' tangents (each primitive's `jvp`, beside its `backward`). So one forward
pass gives the directional derivative of the whole computation along u, without a backward
pass and without ever forming a gradient or a Jacobian:

    with dual_level():
        y = f(make_dual(x, u))
        value, slope = unpack_dual(y)          # f(x) and J_f(x) u

The tangents of a level live in a dict local to the level, keyed by tensor identity (as the
gradients of a backward walk live in a dict local to the walk), kept beside grad mode's flag
(grad_mode.state.tangents) so that every operation reads both cheaply; they are gone when
the level exits. Tangents flow whether or not grad mode is on: the backward engine runs under
no_grad, and tangents flowing through a backward pass (forward-over-reverse) give
Hessian-vector products. A tangent is not itself dual: levels do not nest (as in PyTorch).
"""
from collections import namedtuple

import numpy as np

from gradspace.autograd.grad_mode import current_tangents, state

UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])
UnpackedDualTensor.__doc__ = "What unpack_dual returns: the value and its tangent (or None)."


def enter_dual_level():
    """Start a forward-mode level (prefer `with dual_level():`)."""
    if state.tangents is not None:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    state.tangents = {}
    return 0


def exit_dual_level(*, level=None):
    """End the level: every tangent made in it is dropped."""
    state.tangents = None


class dual_level:
    """Context manager for forward mode: make_dual and the tangents of results work inside it."""

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *exc):
        exit_dual_level()
        return False


def in_dual_level():
    """Whether a forward-mode level is active (a backward that takes a numpy shortcut must not:
    tangents may be flowing through it)."""
    return current_tangents() is not None


def make_dual(tensor, tangent, *, level=None):
    """A tensor with the value of `tensor` carrying `tangent` (same shape; cast to its dtype).

    The result is a view of `tensor` (`tensor[...]`): it shares its memory and, when `tensor`
    requires grad, gradients flow back to it. `tensor` itself carries no tangent.
    """
    if state.tangents is None:
        raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, "
                           "make sure to enter_dual_level() first.")
    if tensor.dtype.kind != "f":
        raise ValueError(f"Expected primal to be floating point, but got: {tensor.dtype}")
    tangent = tangent if hasattr(tangent, "grad_fn") else tensor._constant(np.asarray(tangent))
    if tangent.shape != tensor.shape:
        raise RuntimeError(f"Trying to set a forward gradient that has a different size than "
                           f"that of the original Tensor, this is not supported. Tensor is of "
                           f"size {list(tensor.shape)} while the given forward gradient is of "
                           f"size {list(tangent.shape)}.")
    dual = _view_without_tangent(tensor)
    state.tangents[id(dual)] = (dual, tangent.to(tensor.dtype))
    return dual


def unpack_dual(tensor, *, level=None):
    """(primal, tangent): the value as a tensor carrying no tangent (a view, still connected to
    the graph), and the tangent, or None when `tensor` carries none."""
    tangent = tangent_of(tensor)
    if tangent is None:
        return UnpackedDualTensor(tensor, None)
    return UnpackedDualTensor(_view_without_tangent(tensor), tangent)


def tangent_of(tensor):
    """The tangent `tensor` carries at the active level, or None."""
    entry = None if state.tangents is None else state.tangents.get(id(tensor))
    return None if entry is None else entry[1]


def _view_without_tangent(tensor):
    tangents, state.tangents = state.tangents, None
    try:
        return tensor[...]
    finally:
        state.tangents = tangents


def carry(fn, inputs, out):
    """`out`, the result of node `fn`, given its tangent fn.jvp(out, *tangents); returned.

    Called by Function.apply inside a level. Inputs without a tangent pass None; when none has
    one, the result has none either. A rule may return a tangent of a smaller broadcast shape
    or another dtype: it is brought to the result's shape and dtype here, in one place (the
    mirror of the engine undoing broadcasting).
    """
    tangents = state.tangents
    entries = [tangents.get(id(t)) for t in inputs]
    if not any(entries):
        return out
    state.tangents = None                # a tangent's own computation carries no tangent
    try:
        tangent = fn.jvp(out, *[None if e is None else e[1] for e in entries])
        if tangent is not None:
            if tangent.shape != out.data.shape:
                tangent = tangent.expand(*out.data.shape)
            if tangent.dtype != out.data.dtype:
                tangent = tangent.to(out.data.dtype)
    finally:
        state.tangents = tangents
    if tangent is not None:
        tangents[id(out)] = (out, tangent)
    return out


def total(*terms):
    """The sum of the terms that are not None: the tangent of a sum of contributions."""
    present = [t for t in terms if t is not None]
    if not present:
        return None
    result = present[0]
    for t in present[1:]:
        result = result + t
    return result

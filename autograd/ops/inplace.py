"""In-place operations, with PyTorch's names and rules: `+= -= *= /=`, `add_ sub_ mul_ div_
zero_ fill_ copy_ clamp_`, and item assignment `t[idx] = v`.

Each one computes the new value out of place, with the ordinary operations, then writes it into
the tensor's own array, so every other holder of that memory (a `detach()`, a view,
`from_numpy`'s array) sees the change, and bumps the memory's version counter (see
autograd/version.py). What happens to the graph follows PyTorch:

- Not recording (under `no_grad`, or nothing involved requires grad): only the data changes.
  This is what `with no_grad(): p -= lr * p.grad` relies on.
- Recording, on a leaf that requires grad: RuntimeError, before anything changes. Its `.grad`
  is the derivative with respect to the value it had; changing that value in the graph would
  make it the derivative of nothing.
- Recording, on any other tensor: the operation is recorded. The tensor becomes the output of
  a new node whose input is a tensor standing for its old value (the same memory, or a copy of
  it when the new node's backward needs the old numbers, as `mul_` by a tensor that requires
  grad does). A node recorded earlier that reads the old value finds the version counter
  moved and refuses to run backward, as in PyTorch.

An in-place result keeps the tensor's shape and dtype: a broadcast that would grow it, or a
result that cannot be cast back (float into an int tensor), raises PyTorch's errors.
"""
import numpy as np

from gradspace.autograd import version
from gradspace.autograd.function import Function
from gradspace.autograd.grad_mode import state
from gradspace.autograd.ops.indexing import _as_index

_TORCH_DTYPE = {"f": "Float", "i": "Long", "u": "Byte", "b": "Bool"}


class SetItem(Function):
    """A copy of `a` with `a[index] = value`: item assignment as a recorded primitive.

    The elements written are replaced, so `a` gets no gradient there; `value` gets the
    gradient of the elements it was written to (the engine sums a broadcast value back).
    """
    __slots__ = ("index",)
    saved = ("index",)
    reads = {}                              # only the index: no input's numbers are needed

    def forward(self, a, value, index=()):
        self.index = index
        out = a.copy()
        out[index] = value
        return out

    def backward(self, grad, out):
        need_a, need_value = self.needs_input_grad
        return (SetItem.apply(grad, grad._lift(0.0), index=self.index) if need_a else None,
                grad[self.index] if need_value else None)

    def jvp(self, out, da, dvalue):
        if da is None:
            da = out._constant(np.zeros(out.shape, out.dtype))
        return SetItem.apply(da, out._lift(0.0) if dvalue is None else dvalue, index=self.index)


class Clone(Function):
    """A copy with its own memory; the gradient passes unchanged."""
    __slots__ = ()
    reads = {}

    def forward(self, a):
        return a.copy()

    def backward(self, grad, out):
        return (grad,)

    def jvp(self, out, da):
        return da


class InplaceMethods:
    """The Tensor methods of this family (mixed into Tensor)."""
    __slots__ = ()

    def clone(self):
        """A copy of this tensor with its own memory, in the graph (as torch.clone)."""
        return Clone.apply(self)

    def add_(self, other, alpha=1):
        """self += alpha * other, in place."""
        return _inplace(self, "add_", lambda old, b: old + (b if alpha == 1 else b * alpha),
                        other)

    def sub_(self, other, alpha=1):
        """self -= alpha * other, in place."""
        return _inplace(self, "sub_", lambda old, b: old - (b if alpha == 1 else b * alpha),
                        other)

    def mul_(self, other):
        return _inplace(self, "mul_", lambda old, b: old * b, other)

    def div_(self, other):
        return _inplace(self, "div_", lambda old, b: old / b, other)

    def clamp_(self, min=None, max=None):
        if min is None and max is None:
            raise ValueError("clamp_: at least one of min and max must be given")
        return _inplace(self, "clamp_", lambda old, _: old.clamp(min, max), None)

    def fill_(self, value):
        """Set every element to `value` (a number or a 0-d tensor)."""
        if getattr(value, "ndim", 0) != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {value.ndim} dimensions.")
        return _inplace(self, "fill_", lambda old, v: SetItem.apply(old, v, index=...), value)

    def zero_(self):
        return self.fill_(0)

    def copy_(self, src):
        """Copy src's values (broadcast to this shape, cast to this dtype) into this tensor."""
        src = src if hasattr(src, "grad_fn") else np.asarray(src)
        return _inplace(self, "copy_", lambda old, s: SetItem.apply(old, s, index=...), src)

    def __iadd__(self, other):
        return _inplace(self, "add_", lambda old, b: old + b, other)

    def __isub__(self, other):
        return _inplace(self, "sub_", lambda old, b: old - b, other)

    def __imul__(self, other):
        return _inplace(self, "mul_", lambda old, b: old * b, other)

    def __itruediv__(self, other):
        return _inplace(self, "div_", lambda old, b: old / b, other)

    def __setitem__(self, index, value):
        """t[index] = value (numpy indexing; value broadcast to the indexed shape)."""
        index = _as_index(index)
        if not (_recording(self, value) or state.tangents):
            _check_writable(self, "__setitem__", view=True)
            self.data[index] = value.data if hasattr(value, "grad_fn") else value
            version.bump(self.data)
            return
        _inplace(self, "__setitem__", lambda old, v: SetItem.apply(old, v, index=index), value)


def _recording(self, other):
    """Whether the in-place change is to be recorded in the graph."""
    return state.enabled and (self._requires_grad or getattr(other, "_requires_grad", False))


def _check_writable(self, op, view=False):
    """Raise, before any change, when `self` may not be written in place."""
    if self._requires_grad and self.grad_fn is None and state.enabled:
        what = "a view of a leaf Variable" if view else "a leaf Variable"
        raise RuntimeError(f"{what} that requires grad is being used in an in-place "
                           f"operation.")
    if self.is_sparse:
        raise RuntimeError(f"{op}: a row-sparse gradient cannot be changed in place; assign a "
                           f"new .grad instead")
    if not self.data.flags.writeable:
        raise RuntimeError(f"{op}: this tensor's memory is read-only (an expand() view, or a "
                           f"read-only array shared through from_numpy); clone() it first")


def _inplace(self, op, compute, other):
    """Write compute(self, other) into self's memory; record it when grad mode says so."""
    _check_writable(self, op, view=op == "__setitem__")
    if other is not None and not hasattr(other, "grad_fn"):
        other = self._lift(other)
    if not _recording(self, other):
        new = compute(self, other)
        _check_result(self, op, new)
        np.copyto(self.data, new.data, casting="unsafe")
        version.bump(self.data)
        _move_tangent(new, self)
        return self
    if self.data.base is not None:
        raise RuntimeError(f"{op}: this tensor is a view of another tensor's memory (made by "
                           f"reshape, indexing, permute...); gradspace does not record "
                           f"in-place changes through views. clone() it first, or change it "
                           f"out of place")
    old = _old_value(self)
    if state.tangents and id(self) in state.tangents:       # forward mode: old has self's
        state.tangents[id(old)] = (old, state.tangents[id(self)][1])
    new = compute(old, other)
    _check_result(self, op, new)
    fn = new.grad_fn
    if fn is not None and _reads_first_input(fn):
        old.data = old.data.copy()          # the new node needs the numbers about to go
    np.copyto(self.data, new.data, casting="unsafe")
    version.bump(self.data)
    # self is now fn's output. It is renumbered after the change, so that fn's own check
    # (nothing it reads changed after it was made) passes, and it stays after its inputs.
    self.grad_fn = fn
    self._requires_grad = fn is not None
    self._seq = next(version.clock)
    _move_tangent(new, self)
    return self


def _move_tangent(source, target):
    """In forward mode (autograd.forward_ad), target now carries source's tangent (or none)."""
    tangents = state.tangents
    if tangents:
        entry = tangents.pop(id(source), None)
        tangents.pop(id(target), None)
        if entry is not None:
            tangents[id(target)] = (target, entry[1])


def _old_value(self):
    """A tensor standing for self before the change: self's node, number and memory."""
    old = self._result(self.data, self.grad_fn)
    old._seq, old.name = self._seq, self.name
    old._requires_grad = self._requires_grad
    return old


def _check_result(self, op, new):
    if new.shape != self.shape:
        raise RuntimeError(f"{op}: output with shape {list(self.shape)} doesn't match the "
                           f"broadcast shape {list(new.shape)}")
    if op != "copy_" and op != "__setitem__" and not np.can_cast(new.dtype, self.dtype,
                                                                  "same_kind"):
        raise RuntimeError(f"{op}: result type {_TORCH_DTYPE[new.dtype.kind]} can't be cast "
                           f"to the desired output type {_TORCH_DTYPE[self.dtype.kind]}")


def _reads_first_input(fn):
    """Whether fn's backward reads the numbers of its first input (the old value)."""
    reads = getattr(fn, "reads", None)
    if reads is None:
        return True
    return any(0 in reads.get(i, ()) for i, need in enumerate(fn.needs_input_grad) if need)

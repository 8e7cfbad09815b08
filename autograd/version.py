"""Version counters: catching a backward pass that would read values changed in place.

A graph node reads some tensors in its backward (Mul reads the other factor, Exp its own
output). If one of them is changed in place after the node was recorded, the backward would
silently use the new values. PyTorch keeps a version counter on every tensor's memory and
refuses; so do we.

The counter belongs to the memory, not to the Tensor object: a tensor, its `detach()`, a
reshaped or sliced view of it and `from_numpy` of the same array all share one counter,
because writing through any of them changes the others. Memory is identified by the ndarray
that owns it (the end of the `.base` chain).

What a node's backward reads is declared by its primitive, next to its derivative, as a
table per input gradient: `reads = {0: (1,), 1: (0,)}` for a product (the gradient of input 0
reads input 1, and the other way round), "out" for the node's output, `{}` for nothing (Add,
reshape). Only those are checked, so changing anything else in place is fine, as in PyTorch;
a Function without `reads` counts every input and its output as read.

Changes are recorded on the same clock that numbers tensors as they are made (`clock`): a
change is a tick of it. The version of a memory is the number of changes so far, and the
version a node saw is the number of changes before the node's output was made, so nothing is
stored when a node is recorded. Memory never changed in place has no entry at all, and the
engine skips the whole check for a node made after the last in-place change anywhere
(`last_change`): a training loop pays one comparison per node, as the engine's topological
sort reaches it, before any backward runs.

A recorded in-place change (on a tensor that is not a leaf) makes the tensor the output of a
new node; a node recorded before the change still holds the tensor as its input, but used its
earlier value. `resolve` points such a node at the tensor standing for that earlier value, so
`c += c + 1` backpropagates as in PyTorch.

Writing through `.data` (an ndarray) is invisible to the counter, as in PyTorch.
"""
import weakref
from itertools import count

clock = count()         # numbers tensors as they are made, and in-place changes as they happen
last_change = -1        # the clock reading of the latest in-place change (any memory)
_changes = {}           # id(owning ndarray) -> [weakref to it, older changes, [recent ticks]]
RECENT = 64             # ticks kept per memory: a parameter is changed at every step
_TORCH_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
                "int32": "Int", "bool": "Bool"}           # the names in PyTorch's message


def owner(array):
    """The ndarray that owns `array`'s memory (a view's base, its base's base, ...)."""
    while isinstance(array.base, type(array)):
        array = array.base
    return array


def version(array):
    """How many times the memory of `array` has been changed in place."""
    entry = _changes.get(id(owner(array)))
    return 0 if entry is None else entry[1] + len(entry[2])


def bump(array):
    """Record one in-place change of `array`'s memory (call it after the change)."""
    global last_change
    base = array if array.base is None else owner(array)
    key = id(base)
    entry = _changes.get(key)
    if entry is None or entry[0]() is not base:         # new, or an id reused by new memory
        entry = _changes[key] = [weakref.ref(base, lambda ref, key=key: _forget(key, ref)), 0,
                                 []]
    ticks = entry[2]
    if len(ticks) == RECENT:                            # forget the older half, keep a count
        entry[1] += RECENT // 2
        del ticks[:RECENT // 2]
    last_change = tick = next(clock)
    ticks.append(tick)


def _forget(key, ref):
    entry = _changes.get(key)
    if entry is not None and entry[0] is ref:
        del _changes[key]


def resolve(out, fn):
    """Point fn at the values it used, when an input was changed in place since fn ran.

    A recorded in-place change turns the tensor into the output of a new node whose first
    input stands for the tensor's earlier value (autograd/ops/inplace.py). fn used that earlier
    value, so its gradient belongs there: follow first inputs back until the tensor is older
    than fn's output `out`. `check` calls it as the engine's walk reaches fn (before any
    node is freed), and viz's walk before it reads fn's inputs.
    """
    made = out._seq
    if not any(t._seq > made for t in fn.inputs):
        return
    inputs = []
    for t in fn.inputs:
        while t._seq > made and t.grad_fn is not None and t.grad_fn.inputs is not None:
            t = t.grad_fn.inputs[0]
        inputs.append(t)
    fn.inputs = tuple(inputs)


def check(out, fn):
    """Point fn at the values it used (`resolve`), then raise RuntimeError if any tensor its
    backward reads was changed in place since fn ran.

    `out` is the tensor fn made. The engine's topological_order calls this for each node it
    reaches, when `last_change` says something changed after `out` was made: so the error
    comes before any backward runs or any .grad changes. What fn reads is its `reads`
    declaration (every input and the output when it has none).
    """
    resolve(out, fn)
    made = out._seq
    for t, role in _read_by(out, fn):
        entry = _changes.get(id(owner(t.data)))
        if entry is not None and entry[2] and entry[2][-1] > made:
            older, ticks = entry[1], entry[2]
            # The version fn saw: exact unless more than RECENT changes came after it.
            expected = older + sum(1 for tick in ticks if tick < made)
            kind = _TORCH_NAMES.get(t.data.dtype.name, t.data.dtype.name)
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified by "
                f"an inplace operation: [{kind}Tensor {list(t.data.shape)}], which is {role} "
                f"of {fn.name}, is at version {older + len(ticks)}; expected version "
                f"{expected} instead. Change it out of place, or after backward")


def _read_by(out, fn):
    """(tensor, role) for each tensor fn's backward reads, given which gradients it needs."""
    reads = getattr(fn, "reads", None)
    if reads is None:
        return [(t, f"input {i}") for i, t in enumerate(fn.inputs)] + [(out, "output 0")]
    wanted = set()
    for i, need in enumerate(fn.needs_input_grad):
        if need:
            wanted.update(reads.get(i, ()))
    return [(out, "output 0") if w == "out" else (fn.inputs[w], f"input {w}")
            for w in sorted(wanted, key=str)]


def increment_version(tensor):
    """Record that `tensor`'s memory was changed in place behind the counter's back (through
    `.data`), as torch.autograd.graph.increment_version: the optimizers call it after each
    update, so that a graph recorded before the update cannot backpropagate through the old
    values."""
    bump(tensor.data)

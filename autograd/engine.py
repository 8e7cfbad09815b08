"""The backward pass: walk the graph from the roots in reverse topological order, applying the
chain rule at each node. The engine knows nothing of particular operations; it sees tensors
(`grad_fn`, `_requires_grad`, `_hooks`, `_seq`, `.grad`) and nodes (`inputs`, `backward`,
`release`).

Every tensor is numbered when it is made (`_seq`), and an operation's inputs always exist
before its output, so sorting the reachable tensors by that number is a topological order: no
recursion, and the sort runs in C. Gradients live in a dict local to the walk, keyed by tensor
identity, and each is dropped as soon as its tensor is processed. A tensor used several times
receives several gradients: outside create_graph the engine sums them as arrays, and from the
third on adds them into its own sum in place (no one has seen that sum yet).
"""
from operator import attrgetter

from gradspace.autograd.grad_mode import set_grad_enabled, state

FREED = ("backward: trying to backward through the graph a second time: its saved buffers "
         "were freed by the first backward(). Pass retain_graph=True to the first call if you "
         "need to run backward through it again.")
by_creation = attrgetter("_seq")


def topological_order(roots):
    """Tensors that require grad and lead to `roots`, each after all of its inputs."""
    seen = {id(root): root for root in roots}
    stack = list(roots)
    while stack:
        fn = stack.pop().grad_fn
        if fn is None:
            continue
        if fn.inputs is None:
            raise RuntimeError(FREED)
        for parent in fn.inputs:
            if parent._requires_grad:
                key = id(parent)
                if key not in seen:
                    seen[key] = parent
                    stack.append(parent)
    reached = list(seen.values())
    reached.sort(key=by_creation)
    return reached


def steps(roots, root_grads, retain_graph=False, targets=None, found=None):
    """Run the chain rule node by node, yielding (tensor, grad, input_grads) after each tensor.

    Without `targets`, leaves accumulate their gradient into .grad. With `targets` (a set of
    tensor ids), only the part of the graph that leads to a target is walked, and the gradients
    reaching targets are collected into `found` (also the generator's return value) instead.
    """
    order = topological_order(roots)
    found = {} if found is None else found
    if targets is not None:
        useful = set(targets)
        for t in order:                              # inputs come first, so one pass suffices
            fn = t.grad_fn
            if fn is not None and any(id(p) in useful for p in fn.inputs):
                useful.add(id(t))
    grads, handed_out = {}, set()
    summed = set()              # tensors whose gradient is a sum the engine made: added in place
    for root, g in zip(roots, root_grads):
        if not g.is_sparse:
            handed_out.add(id(_memory_owner(g.data)))      # the caller's seed is never kept
        key = id(root)
        grads[key] = g if key not in grads else grads[key] + g
    collecting = targets is not None
    recording = state.enabled                        # create_graph: the sums are recorded too
    for t in reversed(order):
        key = id(t)
        g = grads.pop(key, None)
        if g is None or (collecting and key not in useful):
            continue
        if t._hooks:
            for hook in t._hooks:
                replaced = hook(g)
                if replaced is not None:
                    g = replaced
        fn = t.grad_fn
        if collecting and key in targets:
            found[key] = g
        if fn is None:
            if not collecting:
                t.grad = _own(g, handed_out) if t.grad is None else t.grad + g
            yield t, g, ()
            continue
        input_grads = fn.backward(g, t)
        for parent, pg in zip(fn.inputs, input_grads):
            if pg is None or not parent._requires_grad:
                continue
            # The one place broadcasting and dtype promotion are undone. Shapes and dtypes are
            # read off the arrays (Tensor.shape is a property call, and this runs per edge).
            wanted, got = parent.data, pg if pg.is_sparse else pg.data
            if got.shape != wanted.shape:
                pg = pg.sum_to_size(wanted.shape)
            if got.dtype != wanted.dtype:
                pg = pg.to(wanted.dtype)
            key = id(parent)
            previous = grads.get(key)
            if previous is None:
                grads[key] = pg
            elif recording or previous.is_sparse or pg.is_sparse:
                grads[key] = previous + pg
            elif key in summed:                      # our own sum, seen by no one yet
                previous.data += pg.data
            else:                                    # a plain sum: no graph node to dispatch
                grads[key] = previous._constant(previous.data + pg.data)
                summed.add(key)
        if not retain_graph:
            fn.release()
        yield t, g, input_grads
    return found


def _own(g, handed_out):
    """g as a gradient a leaf may keep and update in place.

    A gradient may be a read-only broadcast view, the caller's own `gradient`, or memory that
    another leaf already holds (Add hands one tensor to both inputs; a reshape hands out a view
    of it). Only those are copied; a fresh array, usually a weight's gradient, is kept as is.
    `handed_out` holds the ids of the memory owners given to leaves (and the roots' seeds).
    Recorded (create_graph) and row-sparse gradients are kept as they are.
    """
    if g.grad_fn is not None or g.is_sparse:
        return g
    owner = _memory_owner(g.data)
    if g.data.flags.writeable and id(owner) not in handed_out:
        handed_out.add(id(owner))
        return g
    return g._constant(g.data.copy())


def _memory_owner(array):
    while isinstance(array.base, type(array)):
        array = array.base
    return array


def backward(roots, root_grads, retain_graph=False, create_graph=False, targets=None):
    """Run the whole walk; returns the gradients that reached `targets` (a dict by id)."""
    found = {}
    with set_grad_enabled(create_graph):
        for _ in steps(roots, root_grads, retain_graph, targets, found):
            pass
    return found

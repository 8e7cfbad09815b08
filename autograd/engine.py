"""The backward pass: the chain rule applied node by node, from the roots back to the leaves.

The engine never names an operation: it sees tensors (`grad_fn`, `_requires_grad`, `_hooks`,
`_seq`, `._grad`), nodes (`inputs`, `backward`, `release`) and gradients (Tensors; a row-sparse
one brings its own `+`, `_plus`, `_plus_`, `sum_to_size`, `to`, `_storage` and `_copy`).
`steps` is the walk, a loop of named steps: topological_order and leading_to (which nodes
matter), run_hooks, the node's `backward`, reduce_to (undo broadcasting and dtype promotion),
accumulate (sum two gradients of a tensor) and the node's `release` (free what backward read).

Tensors are numbered when made (`_seq`), inputs before outputs: sorted by that number they are
in topological order, with no recursion. Gradients live in a dict local to the walk, by id.
"""
from operator import attrgetter

from gradspace.autograd import grad_mode, version

FREED = ("backward: trying to backward through the graph a second time: its saved buffers "
         "were freed by the first backward(). Pass retain_graph=True to the first call if you "
         "need to run backward through it again.")


def steps(roots, root_grads, retain_graph=False, targets=None, found=None):
    """Run the chain rule node by node, yielding (tensor, grad, input_grads) after each tensor.

    Without `targets`, leaves accumulate their gradient into .grad. With `targets` (a set of
    tensor ids), only the part of the graph that leads to a target is walked, and the gradients
    reaching targets are collected into `found` (also the generator's return value) instead.
    """
    order = topological_order(roots)
    if targets is not None:
        order = leading_to(targets, order)
    found = {} if found is None else found
    grads, handed_out = {}, {id(version.owner(g._storage())) for g in root_grads}
    summed = set()                   # tensors (by id) whose gradient is a sum this walk made
    for root, g in zip(roots, root_grads):
        grads[id(root)] = accumulate(grads.get(id(root)), g)
    for t in reversed(order):
        g = grads.pop(id(t), None)
        if g is None:
            continue                                 # no gradient reached it
        g = run_hooks(t, g) if t._hooks else g
        fn = t.grad_fn
        if targets is not None and id(t) in targets:
            found[id(t)] = g
        if fn is None:
            if targets is None:
                t._grad = own(g, handed_out) if t._grad is None else accumulate(t._grad, g)
            yield t, g, ()
            continue
        input_grads = fn.backward(g, t)
        for parent, pg in zip(fn.inputs, input_grads):
            if pg is not None and parent._requires_grad:
                pg, key = reduce_to(pg, parent), id(parent)
                if key in grads:
                    pg = accumulate(grads[key], pg, in_place=key in summed)
                    summed.add(key)
                grads[key] = pg
        if not retain_graph:
            fn.release()                             # keeps a record for drawings: autograd.edges
        yield t, g, input_grads
    return found


def topological_order(roots):
    """Tensors that require grad and lead to `roots`, each after all of its inputs."""
    seen = {id(root): root for root in roots}
    stack = list(roots)
    while stack:
        fn = (t := stack.pop()).grad_fn
        if fn is None:
            continue
        if fn.inputs is None:
            raise RuntimeError(FREED)
        if version.last_change > t._seq:     # changed in place since: PyTorch's error, or
            version.check(t, fn)             # fn pointed at the values it used (version.py)
        for parent in fn.inputs:
            if parent._requires_grad and id(parent) not in seen:
                seen[id(parent)] = parent
                stack.append(parent)
    return sorted(seen.values(), key=attrgetter("_seq"))     # creation order


def leading_to(targets, order):
    """The tensors of `order` that are targets or lead to one (inputs come first: one pass)."""
    useful = set(targets)
    for t in order:
        fn = t.grad_fn
        if fn is not None and any(id(p) in useful for p in fn.inputs):
            useful.add(id(t))
    return [t for t in order if id(t) in useful]


def run_hooks(t, g):
    """Call t's hooks in order; a hook that returns a Tensor replaces the gradient."""
    for hook in t._hooks or ():
        replaced = hook(g)
        if replaced is not None:
            g = replaced
    return g


def reduce_to(g, like):
    """g summed back over broadcast dimensions and cast to the dtype of `like`, an input."""
    wanted, got = like.data, g if g.is_sparse else g.data    # row-sparse: its .data is dense
    if got.shape != wanted.shape:
        g = g.sum_to_size(wanted.shape)
    if got.dtype != wanted.dtype:
        g = g.to(wanted.dtype)
    return g


def accumulate(total, g, in_place=False):
    """total + g (g alone when total is None): two gradients of one tensor summed.

    A Tensor op under create_graph (recorded) and in forward mode (carrying tangents, for hvp);
    otherwise a plain sum of arrays, added into `total` when it is the walk's own (`in_place`)."""
    if total is None:
        return g
    if grad_mode.grad_enabled() or grad_mode.current_tangents() is not None:
        return total + g
    return total._plus_(g) if in_place else total._plus(g)


def own(g, handed_out):
    """g as a gradient a leaf may keep and update in place: copied only when its memory is
    read-only (a broadcast view), the caller's seed, or already held by another leaf (Add hands
    one tensor to both inputs). `handed_out`: ids of the memory given out so far."""
    if g.grad_fn is not None:
        return g                                     # recorded: a graph's output, kept as is
    memory = version.owner(g._storage())
    if memory.flags.writeable and id(memory) not in handed_out:
        handed_out.add(id(memory))
        return g
    return g._copy()


def backward(roots, root_grads, retain_graph=False, create_graph=False, targets=None):
    """Run the whole walk; returns the gradients that reached `targets` (a dict by id)."""
    found = {}
    with grad_mode.set_grad_enabled(create_graph):
        for _ in steps(roots, root_grads, retain_graph, targets, found):
            pass
    return found

"""Which call made which part of a graph: the record that lets a drawing box a model's layers.

Every tensor is numbered when it is made (`Tensor._seq`, a topological numbering).
`record_call(owner, forward, ...)` takes one number before running `forward` and one after:
every tensor the call made, inside nested calls too, is numbered between the two (taken from
the tensors' own sequence, so it stays a topological numbering). The pair is noted on the
graph node of each tensor the call returned (`Function.calls`), so the note lives exactly as
long as the graph, and survives backward() (which frees the node's arrays, not the node).
nn.Module.__call__ runs every forward through it (public as gradspace.autograd.record_call),
so a drawing (autograd.viz.modules) knows that the reshape after an Embedding was made by
Flatten, not guessed from the parameters the reshape reads (none).

Nothing is noted under no_grad (no graph is recorded then), nor on a returned tensor that no
operation made (a leaf passed through): no node of the call is there to note on.

autograd does not know what an `owner` is: the drawing matches owners against the modules
that `named_modules()` lists.
"""
import numpy as np

from gradspace.autograd.grad_mode import grad_enabled
from gradspace.autograd.tensor import Tensor, creation_order


def record_call(owner, forward, *args, **kwargs):
    """forward(*args, **kwargs), noting `owner` on the nodes of the tensors it returns."""
    if not grad_enabled():
        return forward(*args, **kwargs)
    first = next(creation_order)
    out = forward(*args, **kwargs)
    shapes = []         # what went in, as shapes: ids given to an Embedding are data, not inputs
    for a in args:
        if isinstance(a, (Tensor, np.ndarray)):
            shapes.append(a.shape)
    note = (owner, first, next(creation_order), tuple(shapes))
    for t in (out,) if type(out) is Tensor else _tensors(out):
        fn = t.grad_fn
        if fn is not None:      # an outer call's note goes after the inner calls' notes
            fn.calls = getattr(fn, "calls", ()) + (note,)
    return out


def calls_of(tensor):
    """[(owner, first, last, input shapes)] of the calls that returned `tensor`, innermost
    first: every tensor those calls made has a creation number between first and last."""
    fn = getattr(tensor, "grad_fn", None)
    return list(getattr(fn, "calls", None) or ())


def _tensors(out):
    """The Tensors in a forward's result: itself, or inside tuples, lists and dicts."""
    if isinstance(out, Tensor):
        return (out,)
    if isinstance(out, dict):
        out = out.values()
    elif not isinstance(out, (tuple, list)):
        return ()
    found = []
    for item in out:
        found.extend(_tensors(item))
    return found

"""Helpers shared by the nn tests: gradcheck of a whole module, with its parameters."""
import contextlib

from gradspace import autograd


@contextlib.contextmanager
def swapped_parameters(module, tensors):
    """Temporarily replace each parameter of `module` (in named_parameters order) by a tensor."""
    slots = []
    for name, _ in module.named_parameters():
        owner, _, leaf = name.rpartition(".")
        slots.append((module.get_submodule(owner)._parameters, leaf))
    saved = [store[leaf] for store, leaf in slots]
    try:
        for (store, leaf), t in zip(slots, tensors):
            store[leaf] = t            # bypass __setattr__: gradcheck's inputs are plain Tensors
        yield
    finally:
        for (store, leaf), p in zip(slots, saved):
            store[leaf] = p


def module_check(module, *inputs, order=1, seed=None):
    """gradcheck (order=1) or gradgradcheck (order=2) of module(*inputs) with respect to every
    floating input and every parameter, forward mode included. seed reseeds before each call
    (for Dropout)."""
    params = [p.data for p in module.parameters()]
    n = len(inputs)

    def f(*args):
        if seed is not None:
            autograd.manual_seed(seed)
        with swapped_parameters(module, args[n:]):
            return module(*args[:n])

    args = tuple(inputs) + tuple(params)
    if order == 1:
        return autograd.gradcheck(f, args, check_forward_ad=True)
    return autograd.gradgradcheck(f, args, check_fwd_over_rev=True)

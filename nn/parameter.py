"""Parameter: a Tensor that a Module registers as something to learn.

A Parameter is an ordinary leaf Tensor with `requires_grad=True`; the only thing its type adds
is that assigning one to a Module attribute registers it (see `Module.__setattr__`), so that it
shows up in `parameters()`, `state_dict()` and an optimizer. It is the unit the guide's
parameter vector theta is made of: theta is the concatenation of every parameter, flattened.
"""
import numpy as np

from gradspace.autograd import Tensor, get_default_dtype


class Parameter(Tensor):
    """Parameter(data=None, requires_grad=True): a learnable leaf Tensor.

    As in PyTorch, `Parameter(t)` of a Tensor shares t's array (no copy; pass
    `autograd.from_numpy(a)` to train an array of your own in place). Anything else is copied,
    as `Tensor(...)` copies: a numpy array is never aliased unless asked. A Python number or
    list becomes the default float dtype. `data=None` gives an empty float tensor. A
    non-floating array with requires_grad=True raises TypeError.
    """

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = np.empty((0,), dtype=get_default_dtype())
        if not isinstance(data, Tensor):
            super().__init__(data, requires_grad=requires_grad)
            return
        super().__init__(np.empty((0,), data.dtype))     # then share the tensor's memory
        self.data = data.data
        self.requires_grad_(requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        # copy.deepcopy and pickle rebuild a Parameter (with a copy of its data), not a Tensor.
        # Extra attributes a user set on the parameter travel in its __dict__.
        return (_rebuild, (self.data, self.requires_grad, self.grad, self.name),
                self.__dict__ or None)


def _rebuild(data, requires_grad, grad, name):
    p = Parameter(data, requires_grad=requires_grad)
    p.grad, p.name = grad, name
    return p

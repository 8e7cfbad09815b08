"""The graph node: one application of a primitive operation, derivatives beside its forward:

    forward(self, *arrays, **params) -> ndarray     # numpy in, numpy out; saves what's needed
    backward(self, grad, out) -> tuple              # dL/d(out) in, one gradient per input
    jvp(self, out, *tangents) -> Tensor             # inputs' tangents (None: none) in, out's

The derivatives read the inputs as Tensors from `self.inputs` and compute with Tensor ops, so
they can be recorded (`create_graph=True`) or carry tangents: one definition, every order. A
gradient may keep the output's broadcast shape or dtype (the engine reduces it), and
`needs_input_grad` says which inputs need one. Nodes have `__slots__` and hold their inputs,
never their output: no reference cycles, so a dropped graph is freed by reference counting.
"""
from operator import attrgetter

from gradspace.autograd.edges import release_node
from gradspace.autograd.forward_ad import carry
from gradspace.autograd.grad_mode import current_tangents, grad_enabled

requires_grad = attrgetter("_requires_grad")


class Function:
    __slots__ = ("inputs", "edges", "calls")
    saved = ()          # slots that may hold arrays backward reads (ids, masks): freed with it

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the primitive on Tensors and, in grad mode, record it as the result's grad_fn."""
        fn = cls()
        try:
            if params or len(inputs) > 2:
                data = fn.forward(*[t.data for t in inputs], **params)
            elif len(inputs) == 2:      # most ops: positional, no list of arrays to unpack
                data = fn.forward(inputs[0].data, inputs[1].data)
            else:
                data = fn.forward(inputs[0].data)
        except (ValueError, IndexError, TypeError) as exc:
            shapes = " and ".join(str(tuple(t.shape)) for t in inputs)
            raise type(exc)(f"{cls.__name__}: {exc} (input shapes {shapes})") from None
        fn.inputs = inputs           # the result's grad_fn only if recorded; jvp reads it too
        grad_fn = fn if grad_enabled() and any(map(requires_grad, inputs)) else None
        out = inputs[0]._result(data, grad_fn)     # so this module needs no import of Tensor
        return carry(fn, inputs, out) if current_tangents() else out    # forward mode: + tangent

    @property
    def needs_input_grad(self):
        """Per input, whether it requires grad: backward may skip the others' gradients."""
        return tuple(map(requires_grad, self.inputs))

    def forward(self, *arrays, **params):
        raise NotImplementedError(f"{type(self).__name__} must define forward")

    def backward(self, grad, out):
        raise NotImplementedError(f"{type(self).__name__} has no derivative")

    def jvp(self, out, *tangents):
        raise NotImplementedError(f"{type(self).__name__} has no forward-mode derivative (jvp)")

    release = release_node     # the engine, after backward: drop what it needed, keep `edges`

    @property
    def name(self):
        return type(self).__name__

    def __repr__(self):
        return f"<{self.name}>"

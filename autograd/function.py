"""The graph node: one recorded application of a primitive operation.

Every primitive is a subclass of `Function` with two methods side by side:

    forward(self, *arrays, **params) -> ndarray     # numpy in, numpy out
    backward(self, grad, out) -> tuple              # Tensors in, one gradient per input

`forward` keeps on `self` what `backward` reads, and nothing else. `backward` receives `grad`,
the gradient of the loss with respect to the output, and `out`, the output Tensor itself; it
reads the inputs as Tensors from `self.inputs` and returns one Tensor (or None) per input,
which may keep the output's broadcast shape or another float dtype (the engine reduces it to
each input's). `needs_input_grad[i]` lets a backward skip work that no one needs. Written with
Tensor operations, backward can itself be recorded (`create_graph=True`): one definition
serves every order.

Each primitive declares `__slots__` (empty when it saves nothing): nodes are the most numerous
objects of a graph. A node holds its inputs, never its output, so the graph has no reference
cycles: when the user drops the last tensor of a graph, reference counting frees all of it.
"""
from operator import attrgetter

from gradspace.autograd.edges import release_node
from gradspace.autograd.grad_mode import state

requires_grad = attrgetter("_requires_grad")


class Function:
    __slots__ = ("inputs", "edges", "calls")

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
        # The first input builds the result, so this module needs no import of Tensor.
        if state.enabled and any(map(requires_grad, inputs)):
            fn.inputs = inputs
            return inputs[0]._result(data, fn)
        return inputs[0]._result(data, None)

    @property
    def needs_input_grad(self):
        """Per input, whether it requires grad: backward may skip the others' gradients."""
        return tuple([t._requires_grad for t in self.inputs])

    def forward(self, *arrays, **params):
        raise NotImplementedError(f"{type(self).__name__} must define forward")

    def backward(self, grad, out):
        raise NotImplementedError(f"{type(self).__name__} has no derivative")

    release = release_node     # engine.free: drop what backward needed, keep `edges` (see there)

    @property
    def name(self):
        return type(self).__name__

    def __repr__(self):
        return f"<{self.name}>"

"""The graph node: one recorded application of a primitive operation.

Every primitive is a subclass of `Function` with two methods side by side:

    forward(self, *arrays, **params) -> ndarray     # numpy in, numpy out
    backward(self, grad, out) -> tuple              # Tensors in, one gradient per input

`forward` keeps on `self` what `backward` reads, and nothing else. `backward` receives `grad`,
the gradient of the loss with respect to the output, and `out`, the output Tensor itself; it
reads the inputs as Tensors from `self.inputs` and returns one Tensor (or None) per input.
Because backward is written with Tensor operations, recording them (`create_graph=True`)
differentiates the backward pass itself: one definition serves every order.

A returned gradient may keep the output's broadcast shape or another float dtype: the engine
reduces it to each input's shape and dtype in one place. `needs_input_grad[i]` lets a backward
skip work that no one needs.

Each primitive declares `__slots__` (empty when it saves nothing): nodes are the most numerous
objects of a graph, and slots make them smaller and quicker to make.

The node holds its inputs, never its output, so the graph has no reference cycles: when the
user drops the last tensor of a graph, reference counting frees all of it at once.
"""
from gradspace.autograd.grad_mode import state

# needs_input_grad of unary and binary nodes: shared tuples (indexed by the inputs'
# requires_grad flags), so recording a node allocates nothing but the node and its output.
_NEEDS_ONE = (True,)
_NEEDS_PAIR = ((None, (False, True)), ((True, False), (True, True)))


class Function:
    __slots__ = ("inputs", "needs_input_grad")

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the primitive on Tensors and, in grad mode, record it as the result's grad_fn."""
        fn = cls()
        first = inputs[0]
        arity = len(inputs)
        try:
            # The common arities are spelled out: no argument list, and no ** when there are no
            # parameters. Small ops are dominated by this overhead, not by numpy.
            if arity == 2:
                second = inputs[1]
                if params:
                    data = fn.forward(first.data, second.data, **params)
                else:
                    data = fn.forward(first.data, second.data)
            elif arity == 1:
                data = fn.forward(first.data, **params) if params else fn.forward(first.data)
            else:
                data = fn.forward(*[t.data for t in inputs], **params)
        except (ValueError, IndexError, TypeError) as exc:
            shapes = " and ".join(str(tuple(t.shape)) for t in inputs)
            raise type(exc)(f"{cls.__name__}: {exc} (input shapes {shapes})") from None
        if state.enabled:
            if arity == 2:
                needs = _NEEDS_PAIR[first._requires_grad][second._requires_grad]
            elif arity == 1:
                needs = _NEEDS_ONE if first._requires_grad else None
            else:
                needs = tuple([t._requires_grad for t in inputs])
                needs = needs if True in needs else None
            if needs is not None:
                fn.inputs = inputs
                fn.needs_input_grad = needs
                # The first input builds the result, so this module needs no import of Tensor.
                return first._result(data, fn)
        return first._result(data, None)

    def forward(self, *arrays, **params):
        raise NotImplementedError(f"{type(self).__name__} must define forward")

    def backward(self, grad, out):
        raise NotImplementedError(f"{type(self).__name__} has no derivative")

    def release(self):
        """Drop what backward needed; a later backward through this node then fails clearly."""
        self.inputs = None

    @property
    def name(self):
        return type(self).__name__

    def __repr__(self):
        return f"<{self.name}>"

"""gradients(outputs, inputs, grad_outputs): the engine-level derivative that every transform in
autograd.functional is built on (torch.autograd.grad)."""
import numpy as np

from gradspace.autograd import engine
from gradspace.autograd.tensor import from_numpy


def gradients(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """d(outputs)/d(inputs) contracted with grad_outputs, without touching any .grad.

    The engine-level primitive behind every transform here (torch.autograd.grad). An input that
    the outputs do not depend on gets zeros. An output that was never recorded (it does not
    require grad: computed under no_grad, or from no tensor that requires grad) raises
    RuntimeError, as in PyTorch: its gradient is not zero, it is unknown.
    """
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    for k, out in enumerate(outputs):
        if not getattr(out, "requires_grad", False):
            raise RuntimeError(f"gradients: element {k} of outputs does not require grad and "
                               f"does not have a grad_fn (was it computed under no_grad, or "
                               f"from tensors none of which requires grad?)")
    return func_gradients(outputs, inputs, grad_outputs, create_graph, retain_graph)


def func_gradients(outputs, inputs, grad_outputs=None, create_graph=False,
                             retain_graph=None):
    """`gradients`, where an output that does not require grad is a constant (derivative 0).

    The transforms (grad, jacobian, hessian...) differentiate functions, and a function that
    does not depend on its argument has derivative zero, as in torch.func.
    """
    outputs = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs]
    roots, seeds = [], []
    for out, seed in zip(outputs, grad_outputs):
        if not out.requires_grad:
            continue                                # a constant output contributes nothing
        roots.append(out)
        seeds.append(out._root_gradient(seed, "gradients"))
    found = {}
    if roots:
        found = engine.backward(roots, seeds, create_graph=create_graph,
                                retain_graph=create_graph if retain_graph is None
                                else retain_graph,
                                targets={id(x) for x in inputs})
    return [_dense(found.get(id(x)), x) for x in inputs]


def _dense(g, x):
    if g is None:
        return from_numpy(np.zeros(x.shape, x.dtype))
    return g._constant(g.data) if g.is_sparse else g

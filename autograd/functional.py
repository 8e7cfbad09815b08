"""Function transforms: derivatives of Python functions of Tensors, as in JAX and
torch.autograd.functional. Each takes f and the point x (a Tensor, array or number) and returns
Tensors.

Composable: when x already requires grad (for example inside another transform), the result is
recorded in the graph, so `grad(grad(f))` and `hessian` work to any order.
"""
import numpy as np

from gradspace.autograd.dtypes import defaults
from gradspace.autograd.factories import stack
from gradspace.autograd.grad_mode import enable_grad, is_grad_enabled
from gradspace.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: F401
from gradspace.autograd.gradients import gradients
from gradspace.autograd.tensor import Tensor

__all__ = ["grad", "value_and_grad", "vjp", "jvp", "directional_derivative", "jacobian",
           "hessian", "hvp", "gradcheck", "gradgradcheck", "GradcheckError", "gradients"]


def _point(x):
    """x as a tensor to differentiate at, and whether the caller's graph must see through it."""
    if isinstance(x, Tensor):
        if x.requires_grad and is_grad_enabled():
            # Nested: a new node x + 0, so that the outer graph stays connected but f's other
            # uses of x (say, closed over by f) are not mistaken for the variable itself.
            return x + 0.0, True
        data = x.data
    else:
        data = np.asarray(x)
    if data.dtype.kind != "f":
        data = data.astype(defaults.float_dtype)
    return Tensor(data).requires_grad_(), False


def _argnums(argnums, n):
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for i in nums:
        if not -n <= i < n:
            raise ValueError(f"argnums {argnums} is out of range for {n} positional arguments")
    return nums


def value_and_grad(f, argnums=0):
    """A function returning (f(*args), df/dargs[argnums]) for scalar-valued f."""
    def value_and_grad_f(*args, **kwargs):
        nums = _argnums(argnums, len(args))
        args, nested = list(args), False
        for i in nums:
            args[i], keep = _point(args[i])
            nested = nested or keep
        with enable_grad():
            value = f(*args, **kwargs)
            if not isinstance(value, Tensor) or value.numel() != 1:
                shape = getattr(value, "shape", type(value).__name__)
                raise TypeError(f"grad: f must return a Tensor with one element, got {shape}")
            grads = gradients(value, [args[i] for i in nums], create_graph=nested)
        value = value if nested else value.detach()
        return value, grads[0] if isinstance(argnums, int) else tuple(grads)
    return value_and_grad_f


def grad(f, argnums=0):
    """A function returning df/dx for scalar-valued f, shaped like x (a tuple for tuple argnums)."""
    value_and_grad_f = value_and_grad(f, argnums)

    def grad_f(*args, **kwargs):
        return value_and_grad_f(*args, **kwargs)[1]
    return grad_f


def vjp(f, x, v):
    """(f(x), v^T J): the reverse-mode product of a cotangent v with the Jacobian of f at x."""
    x, nested = _point(x)
    with enable_grad():
        out = f(x)
        (vj,) = gradients(out, x, v, create_graph=nested)
    return (out if nested else out.detach()), vj


def jvp(f, x, u):
    """(f(x), J u): the directional derivative of f at x along u (forward mode).

    Computed by the transpose trick: w -> J^T w is linear, so J u is the gradient of
    (J^T w) . u with respect to w. That is one forward pass and two backward passes, a small
    constant times the cost of f, and never a full Jacobian.
    """
    x, nested = _point(x)
    u = u if isinstance(u, Tensor) else Tensor(np.asarray(u, dtype=x.dtype))
    if u.shape != x.shape:
        raise ValueError(f"jvp: direction u has shape {u.shape} but x has shape {x.shape}")
    with enable_grad():
        out = f(x)
        w = Tensor(np.zeros(out.shape, out.dtype)).requires_grad_()
        (jtw,) = gradients(out, x, w, create_graph=True)
        (ju,) = gradients(jtw, w, u.to(jtw.dtype), create_graph=nested)
    return (out if nested else out.detach()), ju


def directional_derivative(f, x, u):
    """D_u f(x) = grad f(x) . u for scalar f: the rate of change of f along u."""
    out, ju = jvp(f, x, u)
    if out.numel() != 1:
        raise ValueError(f"directional_derivative: f must be scalar-valued, got shape {out.shape}")
    return ju.reshape(())


def jacobian(f, x):
    """The Jacobian of f at x, of shape f(x).shape + x.shape (one backward pass per output)."""
    x, nested = _point(x)
    with enable_grad():
        out = f(x)
        flat = out.reshape(-1)
        rows = []
        for i in range(flat.shape[0]):
            seed = np.zeros(flat.shape, out.dtype)
            seed[i] = 1
            (row,) = gradients(flat, x, Tensor(seed), create_graph=nested, retain_graph=True)
            rows.append(row.reshape(-1))
    if not rows:
        return Tensor(np.zeros(out.shape + x.shape, x.dtype))
    return stack(rows).reshape(*(out.shape + x.shape))


def hessian(f, x):
    """The Hessian of scalar f at x, of shape x.shape + x.shape."""
    return jacobian(grad(f), x)


def hvp(f, x, v):
    """(f(x), H v): the Hessian of scalar f at x times v, from two backward passes (no Hessian)."""
    x, nested = _point(x)
    v = v if isinstance(v, Tensor) else Tensor(np.asarray(v, dtype=x.dtype))
    if v.shape != x.shape:
        raise ValueError(f"hvp: v has shape {v.shape} but x has shape {x.shape}")
    with enable_grad():
        out = f(x)
        (g,) = gradients(out, x, create_graph=True)
        (hv,) = gradients((g * v).sum(), x, create_graph=nested)
    return (out if nested else out.detach()), hv

"""Function transforms: derivatives of Python functions of Tensors, as in JAX and
torch.autograd.functional. Each takes f and the point x (a Tensor, array or number) and returns
Tensors.

Composable: when x already requires grad (for example inside another transform), the result is
recorded in the graph, so `grad(grad(f))` and `hessian` work to any order.
"""
import numpy as np

from gradspace.autograd.dtypes import defaults
from gradspace.autograd.factories import stack
from gradspace.autograd.forward_ad import dual_level, make_dual, unpack_dual
from gradspace.autograd.grad_mode import enable_grad, is_grad_enabled
from gradspace.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: F401
from gradspace.autograd.gradients import func_gradients, gradients  # noqa: F401
from gradspace.autograd.tensor import Tensor, from_numpy

__all__ = ["grad", "value_and_grad", "vjp", "jvp", "directional_derivative", "jacobian",
           "hessian", "hvp", "gradcheck", "gradgradcheck", "GradcheckError", "gradients"]


def _point(x, requires_grad=True):
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
    return Tensor(data).requires_grad_(requires_grad), False


def _direction(v, x, where, name):
    """The direction v (a tangent) as a Tensor of x's shape and dtype."""
    v = v if isinstance(v, Tensor) else Tensor(np.asarray(v, dtype=x.dtype))
    if v.shape != x.shape:
        raise ValueError(f"{where}: {name} has shape {v.shape} but x has shape {x.shape}")
    return v


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
            grads = func_gradients(value, [args[i] for i in nums], create_graph=nested)
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
        (vj,) = func_gradients(out, x, v, create_graph=nested)
    return (out if nested else out.detach()), vj


def jvp(f, x, u):
    """(f(x), J u): the directional derivative of f at x along u, by forward mode.

    One forward pass in which x carries the tangent u and every operation carries the tangent
    of its result (see autograd.forward_ad): the backward engine is never used, and neither the
    gradient nor the Jacobian is ever formed.
    """
    x, nested = _point(x, requires_grad=False)
    u = _direction(u, x, "jvp", "direction u")
    with dual_level():
        out, ju = unpack_dual(f(make_dual(x, u)))
    if ju is None:                                   # f(x) does not depend on x
        ju = from_numpy(np.zeros(out.shape, out.dtype))
    return (out, ju) if nested else (out.detach(), ju.detach())


def directional_derivative(f, x, u):
    """D_u f(x) = grad f(x) . u for scalar f: the rate of change of f along u (forward mode)."""
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
            (row,) = func_gradients(flat, x, from_numpy(seed), create_graph=nested,
                                    retain_graph=True)
            rows.append(row.reshape(-1))
    if not rows:
        return from_numpy(np.zeros(out.shape + x.shape, x.dtype))
    return stack(rows).reshape(*(out.shape + x.shape))


def hessian(f, x):
    """The Hessian of scalar f at x, of shape x.shape + x.shape: column k is hvp(f, x, e_k)."""
    x, _ = _point(x, requires_grad=False)
    columns = []
    for k in range(x.numel()):
        e_k = np.zeros(x.shape, x.dtype)
        e_k.flat[k] = 1
        columns.append(hvp(f, x, e_k)[1].reshape(-1))
    if not columns:
        return Tensor(np.zeros(x.shape + x.shape, x.dtype))
    return stack(columns, dim=1).reshape(*(x.shape + x.shape))


def hvp(f, x, v):
    """(f(x), H v): the Hessian of scalar f at x times v, by forward-over-reverse.

    x carries the tangent v through one forward and one backward pass: the gradient that comes
    out carries the tangent d(grad f)(x) v = H v. Backward formulas are Tensor operations, so
    the tangent flows through them as through f; the Hessian is never formed.
    """
    x, nested = _point(x)
    v = _direction(v, x, "hvp", "v")
    with enable_grad(), dual_level():
        dual = make_dual(x, v)
        out = f(dual)
        (g,) = func_gradients(out, dual, create_graph=nested)
        hv = unpack_dual(g).tangent
        out = unpack_dual(out).primal
    if hv is None:                                   # the gradient does not depend on x
        hv = Tensor(np.zeros(x.shape, x.dtype))
    return (out, hv) if nested else (out.detach(), hv.detach())

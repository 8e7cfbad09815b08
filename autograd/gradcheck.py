"""Gradient checking: compare the engine's derivatives with central finite differences.

    numeric  d f_j / d x_k  ~=  (f(x + eps e_k) - f(x - eps e_k))_j / (2 eps)     error O(eps^2)

Everything runs in float64, where eps = 1e-6 leaves about 1e-10 of rounding error.
"""
import numpy as np

from gradspace.autograd import engine
from gradspace.autograd.factories import cat
from gradspace.autograd.forward_ad import dual_level, make_dual, unpack_dual
from gradspace.autograd.grad_mode import enable_grad
from gradspace.autograd.gradients import func_gradients
from gradspace.autograd.tensor import Tensor, from_numpy


class GradcheckError(AssertionError):
    """An analytic derivative disagrees with its finite-difference estimate."""


def _prepare(inputs):
    """Float64 leaf copies of the floating inputs (all of them are checked); others as given.

    To hold a floating input fixed, close over it in f instead of passing it.
    """
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    prepared, checked = [], []
    for i, x in enumerate(inputs):
        data = np.asarray(x.data if isinstance(x, Tensor) else x)
        if data.dtype.kind == "f":
            t = from_numpy(data.astype(np.float64)).requires_grad_()
            checked.append(i)
        else:
            t = x if isinstance(x, Tensor) else Tensor(data)
        prepared.append(t)
    if not checked:
        raise ValueError("gradcheck: no floating input to check")
    return prepared, checked


def _evaluate(f, args, where):
    out = f(*args)
    if not isinstance(out, Tensor):
        raise TypeError(f"{where}: f must return a Tensor, got {type(out).__name__}")
    return out


def _analytic_jacobians(f, args, checked):
    """J[i] of shape (out.size, args[i].size) for each checked input, by reverse mode."""
    with enable_grad():
        out = _evaluate(f, args, "gradcheck")
        jac = {i: np.zeros((out.data.size, args[i].data.size)) for i in checked}
        if not out.requires_grad:
            return out, jac                              # f does not depend on the inputs
        targets = {id(args[i]): i for i in checked}
        for j in range(out.data.size):
            seed = np.zeros(out.shape)
            seed.flat[j] = 1.0
            found = engine.backward([out], [from_numpy(seed)], retain_graph=True, targets=targets)
            for key, g in found.items():
                jac[targets[key]][j] = np.asarray(g.data, dtype=np.float64).reshape(-1)
    return out, jac


def _numeric_jacobian(f, args, i, eps, out_size):
    x = args[i].data
    jac = np.zeros((out_size, x.size))
    with enable_grad():     # f may itself differentiate (gradgradcheck checks a backward pass)
        for k in range(x.size):
            original = x.flat[k]
            x.flat[k] = original + eps
            # np.array copies: f's output may be a view of x (x[0], x.reshape), which the next
            # nudge of x would otherwise change under our feet.
            plus = np.array(_evaluate(f, args, "gradcheck").data, dtype=np.float64).reshape(-1)
            x.flat[k] = original - eps
            minus = np.array(_evaluate(f, args, "gradcheck").data, dtype=np.float64).reshape(-1)
            x.flat[k] = original
            jac[:, k] = (plus - minus) / (2 * eps)
    return jac


def _forward_jacobian(f, args, i, out_size):
    """J[i] of shape (out.size, args[i].size), column k the tangent of f when x_i carries e_k."""
    x = args[i]
    jac = np.zeros((out_size, x.data.size))
    with enable_grad():
        for k in range(x.data.size):
            e_k = np.zeros(x.shape)
            e_k.flat[k] = 1.0
            with dual_level():
                dual = list(args)
                dual[i] = make_dual(x, e_k)
                tangent = unpack_dual(_evaluate(f, dual, "gradcheck")).tangent
            if tangent is not None:
                jac[:, k] = np.asarray(tangent.data, dtype=np.float64).reshape(-1)
    return jac


def _check_close(found, expected, atol, rtol, i, args, out, what):
    # Written as "not close" so that a NaN on either side counts as a mismatch.
    bad = ~(np.abs(found - expected) <= atol + rtol * np.abs(expected))
    if bad.any():
        j, k = np.argwhere(bad)[0]
        element = np.unravel_index(k, args[i].shape) if args[i].ndim else ()
        output = np.unravel_index(j, out.shape) if out.ndim else ()
        raise GradcheckError(
            f"gradcheck: {what[0]} of output {tuple(map(int, output))} with respect to "
            f"input {i} at element {tuple(map(int, element))}: {what[1]} "
            f"{found[j, k]:.10g}, {what[2]} {expected[j, k]:.10g} "
            f"({int(bad.sum())} of {bad.size} entries differ)")


def gradcheck(f, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, check_forward_ad=False):
    """Check every derivative of f at `inputs` against central finite differences, in float64.

    f takes the inputs as positional Tensors and returns a Tensor of any shape. Returns True,
    or raises GradcheckError naming the input, the element, and both values.

    check_forward_ad=True (as in PyTorch) also checks forward mode: the Jacobian built from jvp
    (one tangent e_k at a time) against the finite differences, and against the reverse-mode
    Jacobian to rounding error, which is <J u, v> == <u, J^T v> for every pair of basis vectors.
    """
    args, checked = _prepare(inputs)
    out, analytic = _analytic_jacobians(f, args, checked)
    if out.dtype != np.float64:
        raise GradcheckError(f"gradcheck: f returned {out.dtype}; it must compute in float64 "
                             f"for finite differences to be meaningful")
    for i in checked:
        numeric = _numeric_jacobian(f, args, i, eps, out.data.size)
        _check_close(analytic[i], numeric, atol, rtol, i, args, out,
                     ("derivative", "analytic", "numeric"))
        if check_forward_ad:
            forward = _forward_jacobian(f, args, i, out.data.size)
            _check_close(forward, numeric, atol, rtol, i, args, out,
                         ("forward-mode derivative", "jvp", "numeric"))
            _check_close(forward, analytic[i], 1e-10, 1e-8, i, args, out,
                         ("forward-mode derivative", "jvp", "transposed vjp"))
    return True


def gradgradcheck(f, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0,
                  check_fwd_over_rev=False):
    """Check second derivatives: gradcheck of x, v -> v^T J_f(x), the backward pass of f.

    v (grad_outputs) is random unless given; it is checked too, which tests that each backward
    is linear in the incoming gradient. check_fwd_over_rev=True (as in PyTorch) also checks
    tangents flowing through that backward pass (what hvp relies on).
    """
    args, checked = _prepare(inputs)
    with enable_grad():
        out = _evaluate(f, args, "gradgradcheck")
    if grad_outputs is None:
        grad_outputs = np.random.default_rng(seed).standard_normal(out.shape)
    grad_outputs = np.asarray(getattr(grad_outputs, "data", grad_outputs), dtype=np.float64)
    n = len(args)

    def backward_of_f(*xs_and_v):
        xs, v = list(xs_and_v[:n]), xs_and_v[n]
        out = f(*xs)
        grads = func_gradients(out, [xs[i] for i in checked], v, create_graph=True)
        return _flat_cat(grads)

    return gradcheck(backward_of_f, tuple(args) + (grad_outputs,), eps, atol, rtol,
                     check_forward_ad=check_fwd_over_rev)


def _flat_cat(tensors):
    return cat([t.reshape(-1) for t in tensors])

"""The parameter vector theta and the gradient vector: flattening, writing back, clipping.

The guide's theta in R^N is every parameter flattened and concatenated in `parameters()` order;
`parameters_to_vector` builds it (differentiably), `vector_to_parameters` writes a vector back,
`grads_to_vector` is grad_theta L, and `clip_grad_norm_` rescales the gradient to a maximum norm.

No function here changes a gradient in place: two parameters may share one gradient object (a
RowSparseGrad added to a dense gradient, or a hook returning the same tensor), so scaling it in
place would scale it twice. A new gradient tensor is assigned instead.
"""
import numpy as np

from gradspace.autograd import RowSparseGrad, Tensor, cat, from_numpy
from gradspace.nn import parametrize  # noqa: F401  (PyTorch's spelling: nn.utils.parametrize)


def _params(parameters, op):
    """A list of distinct tensors from a Tensor or an iterable of them."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    out, seen = [], set()
    for p in parameters:
        if not isinstance(p, Tensor):
            raise TypeError(f"{op}: expected Tensors (parameters), got {type(p).__name__}")
        if id(p) not in seen:
            seen.add(id(p))
            out.append(p)
    return out


def parameters_to_vector(parameters):
    """theta: the parameters flattened and concatenated into one (N,) Tensor.

    Differentiable: gradients of a function of theta flow back to each parameter.
    """
    params = _params(parameters, "parameters_to_vector")
    if not params:
        raise ValueError("parameters_to_vector: no parameters given")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the (N,) vector `vec` into the parameters' data, in place.

    The length must equal the parameters' total size; nothing is written unless it does.
    """
    params = _params(parameters, "vector_to_parameters")
    values = np.asarray(vec.data if isinstance(vec, Tensor) else vec)
    sizes = [p.numel() for p in params]
    if values.ndim != 1:
        raise ValueError(f"vector_to_parameters: expected a 1-d vector, got shape "
                         f"{values.shape}")
    if values.shape[0] != sum(sizes):
        parts = " + ".join(map(str, sizes[:8])) + (" + ..." if len(sizes) > 8 else "")
        raise ValueError(f"vector_to_parameters: the vector has {values.shape[0]} elements but "
                         f"the parameters hold N = {sum(sizes)} ({parts})")
    if values.dtype.kind not in "fiu":
        raise TypeError(f"vector_to_parameters: expected numbers, got dtype {values.dtype}")
    start = 0
    for p, size in zip(params, sizes):
        p.data[...] = values[start:start + size].reshape(p.shape)
        start += size


def _dense_grad(p):
    g = p.grad
    if g is None:
        return np.zeros(p.numel(), dtype=p.dtype)
    return np.asarray(g.data).reshape(-1)        # a RowSparseGrad densifies through .data


def grads_to_vector(parameters):
    """grad_theta L as one (N,) Tensor, in the order of parameters_to_vector; a parameter with
    no gradient contributes zeros. A plain tensor, outside any graph."""
    params = _params(parameters, "grads_to_vector")
    if not params:
        raise ValueError("grads_to_vector: no parameters given")
    return from_numpy(np.concatenate([_dense_grad(p) for p in params]))


def _norm_parts(g, norm_type):
    """The gradient's contribution to the total norm: sum |g|^p, or max |g| for p = inf."""
    if isinstance(g, RowSparseGrad):
        values = g.coalesce().values          # repeated ids must be summed before the norm
    else:
        values = g.data
    values = np.abs(np.asarray(values, dtype=np.float64))
    if values.size == 0:
        return 0.0
    return values.max() if norm_type == np.inf else np.sum(values ** norm_type)


def _scaled(g, factor):
    if isinstance(g, RowSparseGrad):
        c = g.coalesce()
        return RowSparseGrad(c.indices, c.values * c.values.dtype.type(factor), c.dense_shape)
    return from_numpy(g.data * g.data.dtype.type(factor))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale the gradients so that their joint norm is at most max_norm; returns the norm
    before clipping (a 0-d Tensor, as PyTorch).

    total = (sum over parameters of sum |g|^p)^(1/p) (max |g| for p = inf); when it exceeds
    max_norm every gradient is multiplied by max_norm / (total + 1e-6); a NaN or infinite norm
    (when error_if_nonfinite is False) scales them too, as in PyTorch. Each parameter gets a
    new gradient object (two parameters sharing one gradient keep sharing the scaled one);
    a RowSparseGrad stays row-sparse.
    """
    norm_type = float(norm_type)
    if max_norm < 0 or norm_type <= 0:
        raise ValueError(f"clip_grad_norm_: need max_norm >= 0 and norm_type > 0, got "
                         f"max_norm={max_norm}, norm_type={norm_type}")
    params = [p for p in _params(parameters, "clip_grad_norm_") if p.grad is not None]
    if not params:
        return from_numpy(np.asarray(0.0))
    parts = [_norm_parts(p.grad, norm_type) for p in params]
    total = max(parts) if norm_type == np.inf else float(np.sum(parts)) ** (1.0 / norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the "
                           f"gradients is {total}; set error_if_nonfinite=False to clip anyway")
    factor = max_norm / (total + 1e-6)
    if not factor >= 1:               # also a NaN norm: every gradient becomes NaN, as PyTorch
        renamed = {}
        for p in params:
            key = id(p.grad)
            if key not in renamed:
                renamed[key] = _scaled(p.grad, factor)
            p.grad = renamed[key]
    dtype = np.result_type(*[p.grad.dtype for p in params])
    return from_numpy(np.asarray(total, dtype=dtype))

"""gradspace's engine: Tensors that record how they were made, and backpropagation through them.

    >>> from gradspace.autograd import Tensor
    >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    Tensor([2., 4., 6.])
"""
from gradspace.autograd import forward_ad
from gradspace.autograd.dtypes import get_default_dtype, set_default_dtype
from gradspace.autograd.factories import (
    arange,
    as_tensor,
    cat,
    default_generator,
    eye,
    full,
    manual_seed,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    stack,
    where,
    zeros,
    zeros_like,
)
from gradspace.autograd.function import Function
from gradspace.autograd.functional import (
    GradcheckError,
    directional_derivative,
    grad,
    gradcheck,
    gradgradcheck,
    hessian,
    hvp,
    jacobian,
    jvp,
    value_and_grad,
    vjp,
)
from gradspace.autograd.grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from gradspace.autograd.gradients import gradients
from gradspace.autograd.scopes import record_call
from gradspace.autograd.tensor import RowSparseGrad, Tensor, from_numpy, tensor
from gradspace.autograd.version import increment_version

__all__ = [
    "Tensor", "tensor", "from_numpy", "RowSparseGrad", "Function",
    "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "set_default_dtype", "get_default_dtype", "manual_seed", "default_generator",
    "as_tensor", "zeros", "ones", "full", "zeros_like", "ones_like", "arange", "eye",
    "randn", "rand", "randint", "cat", "stack", "where",
    "gradients", "grad", "value_and_grad", "vjp", "jvp", "directional_derivative",
    "jacobian", "hessian", "hvp", "gradcheck", "gradgradcheck", "GradcheckError", "forward_ad",
    "record_call", "increment_version",
]


def __getattr__(name):
    # The drawing module pulls in graphviz: load it only when someone asks for it.
    if name == "viz":
        import importlib
        return importlib.import_module("gradspace.autograd.viz")
    raise AttributeError(f"module 'gradspace.autograd' has no attribute {name!r}")

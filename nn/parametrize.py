"""Reparameterization: learn phi, and compute a module's tensor as theta = psi(phi).

The guide's appendix C: a change of coordinates on parameter space. After

    register_parametrization(layer, "weight", psi)

`layer.weight` is no longer a Parameter but the value psi(phi), computed from a new Parameter
phi every time it is read (so every forward sees the current phi). The optimizer holds and moves
phi, and by the chain rule the gradient it sees is

    grad_phi L = J_psi(phi)^T grad_theta L.

The function the model computes is unchanged at registration: phi starts at
psi.right_inverse(theta), so psi(phi) = theta. The loss is the same, but the gradient, and so
the optimization path, are not: gradient descent depends on the coordinates.

Design, as PyTorch's torch.nn.utils.parametrize:
- The module gets a child `parametrizations` (a ModuleDict); `parametrizations[name]` is a
  ParametrizationList holding phi as the parameter `original`, and psi as its child "0"
  (registering again on the same name chains: theta = psi_1(psi_0(phi))). state_dict keys are
  therefore PyTorch's: "parametrizations.weight.original", and psi's own parameters under
  "parametrizations.weight.0.*".
- When psi.right_inverse returns several tensors (as WeightNorm does: the magnitude g and the
  direction v), each becomes its own parameter, `original0`, `original1`, ..., and psi takes
  them as separate arguments, so optimizers see g and v as two parameters.
- psi is a Module, or any callable (wrapped in one). Without a `right_inverse`, phi starts as
  the current theta (psi is assumed to be the identity there), so the function changes unless
  psi(theta) == theta.
- The single-tensor phi is the very Parameter object that was `module.weight`, now holding phi,
  so an optimizer built earlier still moves it (as in PyTorch).
- Assigning `module.weight = value` sets phi = right_inverse(value) in place.
"""
import numpy as np

from gradspace.autograd import Tensor, no_grad
from gradspace.nn.containers import ModuleDict, ModuleList
from gradspace.nn.module import Module
from gradspace.nn.parameter import Parameter
from gradspace.nn.parametrizations import Exp, Scale, WeightNorm

__all__ = [
    "Exp",
    "ParametrizationList",
    "Scale",
    "WeightNorm",
    "is_parametrized",
    "register_parametrization",
    "remove_parametrizations",
]


class _Callable(Module):
    """A plain function used as psi, wrapped so it can sit in the module tree."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn
        if hasattr(fn, "right_inverse"):
            self.right_inverse = fn.right_inverse

    def forward(self, *phi):
        return self.fn(*phi)

    def extra_repr(self):
        return getattr(self.fn, "__name__", repr(self.fn))


def _arrays(value, where):
    """right_inverse's result as a tuple of arrays, and whether it was a single tensor."""
    single = not isinstance(value, (tuple, list))
    values = (value,) if single else tuple(value)
    arrays = tuple(np.array(getattr(v, "data", v)) for v in values)
    for a in arrays:
        if a.dtype.kind != "f":
            raise TypeError(f"{where}: right_inverse must return floating tensors, got {a.dtype}")
    return arrays, single


class ParametrizationList(ModuleList):
    """phi (`original`, or `original0`, `original1`, ...) and the psi modules "0", "1", ...;
    calling it computes theta = psi_k(...psi_0(phi))."""

    def __init__(self, modules, originals, single, requires_grad=True):
        super().__init__(modules)
        self.is_tensor = single
        if single:
            self.original = originals[0]
        else:
            for i, value in enumerate(originals):
                setattr(self, f"original{i}", Parameter(value, requires_grad=requires_grad))
            self.ntensors = len(originals)

    def originals(self):
        if self.is_tensor:
            return (self.original,)
        return tuple(getattr(self, f"original{i}") for i in range(self.ntensors))

    def forward(self):
        first, *rest = list(self)
        theta = first(*self.originals())
        for psi in rest:
            theta = psi(theta)
        return theta

    def right_inverse_(self, value):
        """Set phi so that psi(phi) = value (module.weight = value), in place."""
        if not isinstance(value, Tensor):
            value = Tensor(np.asarray(value))
        with no_grad():
            for psi in reversed(list(self)):
                if hasattr(psi, "right_inverse"):
                    value = psi.right_inverse(value)
        arrays, _ = _arrays(value, "setting a parametrized tensor")
        originals = self.originals()
        if len(arrays) != len(originals) or any(a.shape != o.shape
                                                for a, o in zip(arrays, originals)):
            raise ValueError(f"setting a parametrized tensor: right_inverse gave shapes "
                             f"{[a.shape for a in arrays]}, but phi has shapes "
                             f"{[tuple(o.shape) for o in originals]}")
        for a, original in zip(arrays, originals):
            original.data[...] = a


def is_parametrized(module, tensor_name=None):
    """Whether module has a parametrization (on tensor_name, when given)."""
    plists = module._modules.get("parametrizations")
    if plists is None:
        return False
    return tensor_name is None or tensor_name in plists._modules


def register_parametrization(module, tensor_name, parametrization, unsafe=False):
    """Make module.<tensor_name> the value psi(phi) of a new parameter phi (see the module doc).

    parametrization (psi) is a Module or callable mapping phi to a tensor of theta's shape and
    dtype (checked unless unsafe=True), with an optional right_inverse(theta) -> phi (a tensor
    or a tuple of tensors) used to start phi where psi(phi) = theta. Returns the module.
    """
    psi = parametrization if isinstance(parametrization, Module) else _Callable(parametrization)
    where = f"register_parametrization({type(module).__name__}, {tensor_name!r})"
    if is_parametrized(module, tensor_name):
        plist = module.parametrizations[tensor_name]
        if not unsafe:
            with no_grad():
                current = plist()
                _check_same(psi(current), current, where)
        plist.append(psi)                      # chained: theta = psi(previous theta), as torch
        return module
    theta = module._parameters.get(tensor_name)
    if theta is None:
        present = [n for n, p in module._parameters.items() if p is not None]
        raise ValueError(f"{where}: {type(module).__name__} has no parameter {tensor_name!r} "
                         f"(its parameters: {present})")
    with no_grad():
        phi = psi.right_inverse(theta) if hasattr(psi, "right_inverse") else theta
        arrays, single = _arrays(phi, where)
        if not unsafe:
            _check_same(psi(*[Tensor(a) for a in arrays]), theta, where)
    if single:
        original = theta                       # the same Parameter object, now holding phi
        if original.grad is not None and original.grad.shape != arrays[0].shape:
            original.grad = None
        original.data = arrays[0]
        originals = (original,)
    else:
        originals = arrays
    del module._parameters[tensor_name]
    if not is_parametrized(module):
        module.parametrizations = ModuleDict()
    module.parametrizations[tensor_name] = ParametrizationList(
        [psi], originals, single, requires_grad=theta.requires_grad)
    return module


def _check_same(new, old, where):
    if tuple(new.shape) != tuple(old.shape) or new.dtype != old.dtype:
        raise ValueError(f"{where}: psi must keep the tensor's shape and dtype: the tensor is "
                         f"{tuple(old.shape)} {old.dtype}, psi gives {tuple(new.shape)} "
                         f"{new.dtype} (pass unsafe=True to skip this check)")


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Undo register_parametrization: module.<tensor_name> becomes a plain Parameter again.

    leave_parametrized=True bakes in the current value psi(phi), so the module computes the
    same function; False makes phi itself the parameter (only for a single-tensor phi).
    Returns the module.
    """
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"remove_parametrizations: {type(module).__name__} has no "
                         f"parametrization on {tensor_name!r}")
    plist = module.parametrizations[tensor_name]
    if plist.is_tensor:
        param = plist.original
        if leave_parametrized:
            with no_grad():
                value = plist()
            if value.shape != param.shape:
                param.grad = None
            param.data = np.array(value.data, dtype=param.dtype)
    elif leave_parametrized:
        with no_grad():
            value = plist()
        param = Parameter(np.array(value.data), requires_grad=plist.original0.requires_grad)
    else:
        raise ValueError("remove_parametrizations: leave_parametrized=False needs a single "
                         "tensor phi, but this one is several (original0, original1, ...)")
    del module.parametrizations[tensor_name]
    if not len(module.parametrizations):
        del module.parametrizations
    module.register_parameter(tensor_name, param)
    return module

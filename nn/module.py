"""Module: a function with parameters, built from smaller modules.

A Module registers what is assigned to its attributes: a `Parameter` goes into `_parameters`,
a Module into `_modules` (a child), a buffer (`register_buffer`: state that is saved but not
learned) into `_buffers`; anything else is a plain attribute. Everything that walks a model
(`parameters()`, `state_dict()`, `train()`, `repr`) is a walk over that tree in registration
order, so the order is stable and is PyTorch's.

The guide's parameter vector theta is `named_parameters()` flattened and concatenated in this
order (see `nn.utils.parameters_to_vector`). A parameter shared by two modules appears once in
`parameters()`, so an optimizer moves it once, but under both names in `state_dict()`, as in
PyTorch.
"""
import numpy as np

from gradspace.autograd import Tensor, from_numpy, record_call
from gradspace.nn.parameter import Parameter
from gradspace.nn.state_dict import load_into, state_items


class Module:
    """Base class of every layer and model: subclass it, assign parameters and sub-modules in
    `__init__` (after `super().__init__()`), and define `forward`. Calling the module calls
    `forward`."""

    def __init__(self):
        setattr_ = object.__setattr__
        setattr_(self, "training", True)
        setattr_(self, "_parameters", {})
        setattr_(self, "_buffers", {})
        setattr_(self, "_non_persistent_buffers", set())
        setattr_(self, "_modules", {})

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        # record_call notes that this module made what its forward recorded, so drawings box
        # each op in the module that ran it (autograd.scopes, autograd.viz.modules)
        return record_call(self, self.forward, *args, **kwargs)

    # -- registration ---------------------------------------------------------------------------

    def _store(self, kind):
        store = self.__dict__.get(kind)
        if store is None:
            raise AttributeError(f"cannot assign to {type(self).__name__} before "
                                 f"Module.__init__() ran; call super().__init__() first")
        return store

    def _check_name(self, name, what):
        if not isinstance(name, str):
            raise TypeError(f"{what} name must be a str, got {type(name).__name__}")
        if name == "" or "." in name:
            raise KeyError(f'{what} name can\'t be empty or contain ".", got {name!r}')

    def _forget(self, name, keep):
        """Remove `name` from every place an attribute can live but `keep`, where assigning
        again keeps its position (so replacing a parameter does not reorder parameters())."""
        d = self.__dict__
        d.pop(name, None)
        for kind in ("_parameters", "_buffers", "_modules"):
            if kind != keep:
                d[kind].pop(name, None)
        if keep != "_buffers":
            d["_non_persistent_buffers"].discard(name)

    def _register(self, kind, name, value, move=False):
        """Put `value` (or None: declared but absent) in the store `kind` under `name`.

        The one body behind register_parameter, register_buffer, add_module and assignment:
        everything is checked before anything changes. move=True (an assignment) takes the
        name from wherever it was before, a plain attribute or another store.
        """
        store = self._store(kind)
        what, cls, expected = MEMBERS[kind]
        self._check_name(name, what)
        if value is not None and not isinstance(value, cls):
            raise TypeError(f"cannot assign {type(value).__name__} as {what} {name!r} "
                            f"({expected} or None expected)")
        # As PyTorch: registering refuses any name the module already has; an assignment
        # forgets what the instance held under it, and refuses only a parameter over a class
        # attribute (a method, a property); a module may shadow one.
        if not move:
            taken = hasattr(self, name)
        else:
            taken = kind == "_parameters" and hasattr(type(self), name)
        if name not in store and taken:
            raise KeyError(f"attribute {name!r} already exists")
        if move:
            self._forget(name, keep=kind)
        store[name] = value

    def register_parameter(self, name, param):
        """Add a Parameter (or None: declared but absent, like a Linear's bias=False)."""
        self._register("_parameters", name, param)

    def register_buffer(self, name, tensor, persistent=True):
        """Add a Tensor that is part of the module's state but not learned (saved in state_dict
        unless persistent=False). None declares an absent buffer."""
        if isinstance(tensor, np.ndarray):
            tensor = Tensor(tensor)
        self._register("_buffers", name, tensor)
        if persistent:
            self._non_persistent_buffers.discard(name)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name, module):
        """Add a child module (or None) under `name`."""
        self._register("_modules", name, module)

    register_module = add_module

    def __setattr__(self, name, value):
        d = self.__dict__
        parametrized = d.get("_modules", {}).get("parametrizations")
        if parametrized is not None and name in parametrized._modules:
            parametrized._modules[name].right_inverse_(value)   # see nn.parametrize
        # A Parameter or a Module registers itself; a name already registered keeps its kind
        # (None declares it absent, another type is refused); anything else is an attribute.
        elif isinstance(value, Parameter) or name in d.get("_parameters", ()):
            self._register("_parameters", name, value, move=True)
        elif isinstance(value, Module) or name in d.get("_modules", ()):
            self._register("_modules", name, value, move=True)
        elif name in d.get("_buffers", ()):
            self._register("_buffers", name, value, move=True)
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # Only called when ordinary lookup fails: parameters, buffers and children live in dicts.
        d = self.__dict__
        for kind in ("_parameters", "_buffers", "_modules"):
            store = d.get(kind)
            if store is not None and name in store:
                return store[name]
        parametrized = d.get("_modules", {}).get("parametrizations")
        if parametrized is not None and name in parametrized._modules:
            return parametrized._modules[name]()          # psi(phi), computed on every access
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name):
        d = self.__dict__
        for kind in ("_parameters", "_buffers", "_modules"):
            if name in d.get(kind, ()):
                del d[kind][name]
                d["_non_persistent_buffers"].discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers)
                      | set(self._modules))

    # -- walking the tree -----------------------------------------------------------------------

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(name, module) for this module and every descendant, depth first in registration
        order (this one first, named `prefix`). A module reached twice is listed once unless
        remove_duplicate=False."""
        seen = set() if memo is None else memo
        stack = [(prefix, self)]
        while stack:                             # iterative pre-order: no recursion limit
            name, module = stack.pop()
            if remove_duplicate:
                if id(module) in seen:
                    continue
                seen.add(id(module))
            yield name, module
            children = [(f"{name}.{key}" if name else key, child)
                        for key, child in module._modules.items() if child is not None]
            stack.extend(reversed(children))

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        """(name, module) for the direct children, each module once."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, kind, prefix, recurse, remove_duplicate):
        modules = (self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
                   if recurse else [(prefix, self)])
        seen = set()
        for module_prefix, module in modules:
            for name, tensor in getattr(module, kind).items():
                if tensor is None:
                    continue
                if remove_duplicate:
                    if id(tensor) in seen:
                        continue
                    seen.add(id(tensor))
                yield (f"{module_prefix}.{name}" if module_prefix else name), tensor

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """(dotted name, Parameter) in registration order; a shared parameter appears once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def get_submodule(self, target):
        """The descendant at dotted path `target` ("" is self)."""
        module = self
        for part in target.split(".") if target else ():
            child = module._modules.get(part)
            if child is None:
                raise AttributeError(f"{type(module).__name__} has no submodule {part!r} "
                                     f"(looking for {target!r})")
            module = child
        return module

    def apply(self, fn):
        """Call fn on every descendant (children first, then self), as PyTorch; returns self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # -- modes and gradients ----------------------------------------------------------------------

    def train(self, mode=True):
        """Set training mode (Dropout drops) on this module and every descendant; returns self."""
        if not isinstance(mode, bool):
            raise ValueError(f"train: mode must be a bool, got {mode!r}")  # noqa: TRY004 (torch's)
        for module in self.modules():
            module.training = mode
        return self

    def eval(self):
        """Evaluation mode: train(False)."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Forget every parameter's gradient. A new zero tensor instead of None when
        set_to_none=False: gradients are never zeroed in place, since two parameters may share
        one gradient object."""
        for param in self.parameters():
            if set_to_none or param.grad is None:
                param.grad = None
            else:
                param.grad = from_numpy(np.zeros(param.shape, param.dtype))

    def num_parameters(self, only_trainable=False):
        """The number of learnable numbers, N = dim(theta) (shared parameters counted once)."""
        return sum(p.numel() for p in self.parameters()
                   if p.requires_grad or not only_trainable)

    def to(self, dtype):
        """Cast floating parameters, buffers and gradients to `dtype`, in place; returns self.
        Parameters stay the same objects, so an optimizer built before still holds them."""
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"Module.to: only floating dtypes are supported, got {dtype}")
        for tensor in [*self.parameters(), *self.buffers()]:
            if tensor.dtype.kind == "f":
                tensor.data = tensor.data.astype(dtype)
                if tensor.grad is not None:
                    tensor.grad = tensor.grad.to(dtype)
        return self

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    # -- saving and loading -----------------------------------------------------------------------

    def state_dict(self, prefix="", keep_vars=False):
        """{dotted name: np.ndarray copy} of every parameter and persistent buffer, with
        PyTorch's keys, shapes and layouts (a Linear's weight is (out, in)), in PyTorch's order.
        keep_vars=True gives the Tensors themselves instead of copies."""
        return {key: (tensor if keep_vars else tensor.data.copy())
                for key, tensor in state_items(self, prefix)}

    def load_state_dict(self, state_dict, strict=True):
        """Copy arrays (or Tensors) from `state_dict` into the parameters and buffers, in place.

        Everything is checked first: keys missing from state_dict or not in the model (when
        strict), shapes, and dtypes (a floating tensor needs a floating array). Any problem
        raises one RuntimeError listing each key at fault, and nothing is changed. Returns
        (missing_keys, unexpected_keys).
        """
        return load_into(self, state_dict, strict)

    # -- printing ---------------------------------------------------------------------------------

    def extra_repr(self):
        """The text inside the parentheses of this module's line in repr (its settings)."""
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        """A tree, as PyTorch prints it: one line per module, children indented under parents."""
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({key}): " + _indent(repr(module), 2)
                       for key, module in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{self._get_name()}({body})"


# store -> (what errors call a member, the type it must have, how they name that type)
MEMBERS = {"_parameters": ("parameter", Parameter, "nn.Parameter"),
           "_buffers": ("buffer", Tensor, "Tensor"),
           "_modules": ("module", Module, "nn.Module")}


def _indent(text, spaces):
    """Indent every line but the first (the first follows the child's "(name): " label)."""
    lines = text.split("\n")
    return "\n".join(lines[:1] + [" " * spaces + line for line in lines[1:]])

"""Containers: modules that hold other modules under the keys "0", "1", ... (or given names).

`Sequential` chains its modules in forward; `ModuleList` and `ModuleDict` only hold them, so
their parameters are registered (and saved, and moved by optimizers), while the caller decides
how to use them. Keys are PyTorch's, so state_dict keys are too: "0.weight", "2.bias".
"""
import operator

from gradspace.nn.module import Module


def _index(idx, size, owner):
    """A non-negative int index into a container of `size`, or IndexError naming it."""
    idx = operator.index(idx)
    if not -size <= idx < size:
        raise IndexError(f"index {idx} is out of range for {owner} of length {size}")
    return idx % size


class _Indexed(Module):
    """Shared by Sequential and ModuleList: integer indexing, length, iteration, appending."""

    def __init__(self, modules=()):
        super().__init__()
        for module in modules:
            self.append(module)

    def _key(self, idx):
        return list(self._modules)[_index(idx, len(self._modules), type(self).__name__)]

    def _renumber(self):
        # As PyTorch: after a deletion the keys are "0", "1", ... again.
        values = list(self._modules.values())
        self._modules.clear()
        for i, module in enumerate(values):
            self._modules[str(i)] = module

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(list(self._modules.values())[idx])
        return self._modules[self._key(idx)]

    def __setitem__(self, idx, module):
        setattr(self, self._key(idx), module)

    def __delitem__(self, idx):
        keys = list(self._modules)[idx] if isinstance(idx, slice) else [self._key(idx)]
        for key in keys:
            del self._modules[key]
        self._renumber()

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def insert(self, index, module):
        values = list(self._modules.values())
        values.insert(index, module)
        self._modules.clear()
        for module_ in values:
            self.append(module_)


class Sequential(_Indexed):
    """Sequential(m0, m1, ...) computes m_k(...m1(m0(x))), or Sequential(dict) with named keys.

    Indexable (model[0], model[-1], a slice gives a Sequential), len(), iteration.
    """

    def __init__(self, *modules):
        if len(modules) == 1 and isinstance(modules[0], dict):
            super().__init__()
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            super().__init__(modules)

    def __getitem__(self, idx):
        if isinstance(idx, slice):     # keep the keys, as PyTorch
            return Sequential(dict(list(self._modules.items())[idx]))
        return super().__getitem__(idx)

    def forward(self, input):
        for module in self:
            input = module(input)
        return input


class ModuleList(_Indexed):
    """A list of modules whose parameters are registered (a plain list's would not be)."""

    def __init__(self, modules=None):
        super().__init__(modules or ())

    def __iadd__(self, modules):
        return self.extend(modules)


class ModuleDict(Module):
    """A dict of modules whose parameters are registered, in insertion order."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def pop(self, key):
        return self._modules.pop(key)

    def update(self, modules):
        items = modules.items() if hasattr(modules, "items") else modules
        for key, module in items:
            self[key] = module

"""Graph nodes stay lean: every primitive is slotted, so a node carries no per-instance dict."""
import importlib
import pkgutil

import autograd.ops
import nn.fused
from autograd.function import Function


def all_primitives():
    for info in pkgutil.iter_modules(autograd.ops.__path__):
        importlib.import_module(f"autograd.ops.{info.name}")
    found, stack = [], list(Function.__subclasses__())
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(cls.__subclasses__())
    return found


def test_every_primitive_declares_slots():
    primitives = [c for c in all_primitives() if c.__module__.startswith(("autograd.", "nn."))]
    assert nn.fused.CrossEntropy in primitives and len(primitives) > 25
    with_dict = [c.__name__ for c in primitives if hasattr(c(), "__dict__")]
    assert with_dict == []

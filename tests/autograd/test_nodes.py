"""Graph nodes stay lean: every primitive is slotted, so a node carries no per-instance dict."""
import importlib
import pkgutil

import gradspace.autograd.ops
import gradspace.nn.fused
from gradspace.autograd.function import Function


def all_primitives():
    for info in pkgutil.iter_modules(gradspace.autograd.ops.__path__):
        importlib.import_module(f"gradspace.autograd.ops.{info.name}")
    found, stack = [], list(Function.__subclasses__())
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(cls.__subclasses__())
    return found


def test_every_primitive_declares_slots():
    ours = ("gradspace.autograd.", "gradspace.nn.")
    primitives = [c for c in all_primitives() if c.__module__.startswith(ours)]
    assert gradspace.nn.fused.CrossEntropy in primitives and len(primitives) > 25
    with_dict = [c.__name__ for c in primitives if hasattr(c(), "__dict__")]
    assert with_dict == []

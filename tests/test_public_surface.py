"""One public surface between the packages: `nn` and `train` use only what another package
publishes. An underscore name belongs to the package that defines it, and the engine's surface
is `gradspace.autograd` itself (its `__all__`), not the modules behind it.

An AST scan, not a run: it reads every file of nn/ and train/ (bench/ and tests/ may reach in).
Dunders (`__init__`, `__name__`) are Python's, not a package's, and are always fine.
"""
import ast
from pathlib import Path

import pytest

import gradspace.autograd

ROOT = Path(__file__).resolve().parents[1]
OURS = ("autograd", "nn", "train")
SCANNED = ("nn", "train")
# Modules of the engine that nn or train may import although they are not in __all__: programs
# run as a whole, not names to build on.
ENGINE_PROGRAMS = {"demo": "the CLI's `gradspace demo` runs it"}


def private(name):
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def package_of(module):
    """`gradspace.nn.utils` -> "nn"; anything else (numpy, a relative import) -> None."""
    parts = (module or "").split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "gradspace" and parts[1] in OURS else None


def defined_names(tree):
    """The underscore names a file defines: functions, classes, assigned names and attributes,
    and strings that name one (`__slots__`, `setattr(self, "_x", ...)`)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and node.value.isidentifier():
            names.add(node.value)
    return {n for n in names if private(n)}


def parse(package):
    return {path: ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for path in sorted((ROOT / package).rglob("*.py"))}


def private_names_by_package():
    return {package: set().union(*map(defined_names, parse(package).values()))
            for package in OURS}


def foreign_private_uses(tree, package, owners):
    """(line, what) for each use in `tree` (a file of `package`) of another package's
    underscore name: an import from a private module or of a private name, or an attribute
    that only another package defines. `owners` maps each package to its underscore names."""
    mine = owners[package]
    others = set().union(*(names for p, names in owners.items() if p != package)) - mine
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and package_of(node.module) not in (None, package):
            bad = [p for p in node.module.split(".") if private(p)]
            bad += [a.name for a in node.names if private(a.name)]
            found += [(node.lineno, f"import {node.module}: {name}") for name in bad]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, f"import {a.name}") for a in node.names
                      if package_of(a.name) not in (None, package)
                      and any(private(p) for p in a.name.split("."))]
        elif isinstance(node, ast.Attribute) and node.attr in others:
            found.append((node.lineno, f".{node.attr}"))
    return found


def engine_uses_outside_its_surface(tree):
    """(line, what) for each use of the engine other than a name in gradspace.autograd's
    __all__: an import from one of its modules, or `autograd.<name>` not in __all__."""
    public = set(gradspace.autograd.__all__) | set(ENGINE_PROGRAMS)
    bound = set()                       # local names bound to the module gradspace.autograd
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and package_of(node.module) == "autograd":
            if node.module != "gradspace.autograd":
                found.append((node.lineno, f"from {node.module} import ..."))
                continue
            found += [(node.lineno, f"autograd.{a.name}") for a in node.names
                      if a.name not in public]
        elif isinstance(node, ast.ImportFrom) and node.module == "gradspace":
            bound |= {a.asname or a.name for a in node.names if a.name == "autograd"}
        elif isinstance(node, ast.Import):
            for a in node.names:
                if package_of(a.name) == "autograd" and a.name != "gradspace.autograd":
                    found.append((node.lineno, f"import {a.name}"))
                elif a.name == "gradspace.autograd" and a.asname:
                    bound.add(a.asname)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id in bound and node.attr not in public:
            found.append((node.lineno, f"autograd.{node.attr}"))
    return found


@pytest.mark.parametrize("package", SCANNED)
def test_no_package_uses_another_packages_underscore_names(package):
    owners = private_names_by_package()
    bad = [f"{path.relative_to(ROOT)}:{line} uses {what}"
           for path, tree in parse(package).items()
           for line, what in foreign_private_uses(tree, package, owners)]
    assert bad == []


@pytest.mark.parametrize("package", SCANNED)
def test_nn_and_train_use_the_engine_through_its_public_names(package):
    bad = [f"{path.relative_to(ROOT)}:{line} uses {what}"
           for path, tree in parse(package).items()
           for line, what in engine_uses_outside_its_surface(tree)]
    assert bad == []


def test_the_public_names_exist():
    missing = [n for n in gradspace.autograd.__all__ if not hasattr(gradspace.autograd, n)]
    assert missing == []


# -- the scans find what they look for (a scan that finds nothing proves nothing) --------------

OWNERS = {"autograd": {"_lift", "_constant", "_requires_grad"}, "nn": {"_modules", "_store"},
          "train": {"_validated", "_name"}}


@pytest.mark.parametrize("source, package, expected", [
    ("y = x._lift(2.0)", "nn", ["._lift"]),
    ("from gradspace.autograd.tensor import _constants", "nn",
     ["import gradspace.autograd.tensor: _constants"]),
    ("import gradspace.autograd._private", "train", ["import gradspace.autograd._private"]),
    ("opt._validated(sd)", "nn", ["._validated"]),
    ("for k in model._modules: pass", "train", ["._modules"]),
    # the package's own private names, dunders and other libraries' names are fine
    ("self._modules = {}; self._store(1); x.__class__; np._NoValue", "nn", []),
    ("from numpy import _globals", "nn", []),
])
def test_the_underscore_scan_flags_foreign_private_names(source, package, expected):
    found = [what for _, what in foreign_private_uses(ast.parse(source), package, OWNERS)]
    assert found == expected


@pytest.mark.parametrize("source, expected", [
    ("from gradspace.autograd import factories", ["autograd.factories"]),
    ("from gradspace.autograd.grad_mode import state",
     ["from gradspace.autograd.grad_mode import ..."]),
    ("from gradspace import autograd\nautograd.dtypes.defaults", ["autograd.dtypes"]),
    ("import gradspace.autograd as ag\nag.factories.random_state", ["autograd.factories"]),
    ("import gradspace.autograd.ops.linalg", ["import gradspace.autograd.ops.linalg"]),
    ("from gradspace.autograd import Tensor, as_tensor, demo\nfrom gradspace import autograd\n"
     "autograd.manual_seed(0)", []),
])
def test_the_surface_scan_flags_the_engines_modules(source, expected):
    found = [what for _, what in engine_uses_outside_its_surface(ast.parse(source))]
    assert found == expected

"""The layering: `nn` imports `autograd`, `train` imports both, `autograd` imports neither; every
import spells the installed names (`gradspace.autograd`, never a bare `autograd`); and importing
the packages pulls in no heavy dependency (they are imported lazily, inside functions).
"""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("matplotlib", "graphviz", "tqdm")
OURS = ("autograd", "nn", "train")


def package_of(module):
    """The package an absolute import names: `gradspace.nn.utils` -> `nn`, `numpy.linalg` ->
    `numpy`; a bare `nn` (which would import the repository folder, not gradspace) -> `bare nn`."""
    parts = module.split(".")
    if parts[0] == "gradspace":
        return parts[1] if len(parts) > 1 else "gradspace"
    return f"bare {parts[0]}" if parts[0] in OURS else parts[0]


def imported_packages(package):
    """(file, package) for every import in the folder's Python files (see `package_of`),
    relative imports resolved. A folder that does not exist imports nothing."""
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:                       # relative: stays inside this package...
                    depth = len(path.relative_to(ROOT).parts) - 1
                    names = [package] if node.level <= depth else ["<outside>"]
                else:
                    names = [node.module]
            else:
                continue
            found += [(path.relative_to(ROOT), package_of(name)) for name in names]
    return found


def test_the_scan_sees_imports():
    # guard against a scan that finds nothing: autograd's own files do import numpy
    assert "numpy" in {name for _, name in imported_packages("autograd")}


@pytest.mark.parametrize("package, forbidden", [
    ("autograd", {"nn", "train"}),
    ("nn", {"train"}),
])
def test_layering(package, forbidden):
    bad = [f"{path} imports {name}" for path, name in imported_packages(package)
           if name in forbidden or name == "<outside>"]
    assert bad == []


@pytest.mark.parametrize("folder", [*OURS, "tests", "bench", "notebooks"])
def test_every_import_spells_the_installed_name(folder):
    # A bare `import autograd` works from the repository root (the folder is on sys.path) and
    # nowhere else, and would load a second copy of the engine beside gradspace.autograd.
    bare = [f"{path} imports {name}" for path, name in imported_packages(folder)
            if name.startswith("bare ")]
    assert bare == []


def run_python(code, cwd):
    result = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_importing_the_packages_loads_no_heavy_dependency_and_no_bare_name(tmp_path):
    # From a folder that is not the repository, as users import it.
    loaded = run_python(f"import sys\nfrom gradspace import autograd, nn, train\n"
                        f"print(' '.join(m for m in {(*HEAVY, *OURS)!r} if m in sys.modules))",
                        cwd=tmp_path)
    assert loaded.split() == []


def test_importing_autograd_loads_nothing_but_numpy_and_the_standard_library(tmp_path):
    # What keeps `import autograd` fast (bench/import_time.py times it), checked without
    # timing it: the only third-party package it loads is numpy.
    code = ("import sys\nbefore = set(sys.modules)\nimport gradspace.autograd\n"
            "new = {m.split('.')[0] for m in set(sys.modules) - before}\n"
            "print(' '.join(sorted(new - set(sys.stdlib_module_names) - {'gradspace'})))")
    loaded = [m for m in run_python(code, tmp_path).split() if "cython" not in m]   # numpy's
    assert loaded == ["numpy"]

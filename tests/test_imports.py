"""The layering: `nn` imports `autograd`, `train` imports both, `autograd` imports neither; and
importing the packages pulls in no heavy dependency (they are imported lazily, inside functions).
"""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("matplotlib", "graphviz", "tqdm")


def imported_packages(package):
    """(file, top-level package) for every import in the package's source files, relative
    imports resolved. A package directory that does not exist yet imports nothing."""
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
            found += [(path.relative_to(ROOT), name.split(".")[0]) for name in names]
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


def run_python(code):
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_importing_the_packages_loads_no_heavy_dependency():
    packages = [p for p in ("autograd", "nn", "train") if (ROOT / p).is_dir()]
    loaded = run_python(f"import sys\nimport {', '.join(packages)}\n"
                        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))")
    assert loaded.split() == []


def test_importing_autograd_loads_nothing_but_numpy_and_the_standard_library():
    # What keeps `import autograd` fast (0.17 s for all three packages, bench/import_time.py),
    # checked without timing it: the only third-party package it loads is numpy.
    code = ("import sys\nbefore = set(sys.modules)\nimport autograd\n"
            "new = {m.split('.')[0] for m in set(sys.modules) - before}\n"
            "print(' '.join(sorted(new - set(sys.stdlib_module_names) - {'autograd'})))")
    loaded = [m for m in run_python(code).split() if "cython" not in m]   # numpy's own runtime
    assert loaded == ["numpy"]

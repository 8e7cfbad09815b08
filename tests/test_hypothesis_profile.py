"""The property tests' own settings: repeatable under CI=true, and no deadline anywhere.

A deadline fails a test because the machine was busy, which on a shared 2-core machine says
nothing about the code; derandomised examples make a red CI run red again on a re-run.
"""
import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]

PROFILE = ("import json, sys; sys.path.insert(0, 'tests'); import conftest; "
           "from hypothesis import settings; s = settings.default; "
           "print(json.dumps([s.derandomize, s.deadline]))")


@pytest.mark.parametrize("ci", ["true", ""])
def test_examples_are_derandomised_exactly_when_ci_is_set(ci):
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "HYPOTHESIS_PROFILE")}
    env["CI"] = ci
    out = subprocess.run([sys.executable, "-c", PROFILE], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [bool(ci), None]


def test_this_run_uses_the_profile_of_its_environment():
    assert settings.default.derandomize == bool(os.environ.get("CI"))
    assert settings.default.deadline is None


def deadlines(path):
    """(line, source) of every `deadline=` keyword other than `deadline=None` in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [(node.lineno, ast.unparse(node)) for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            for kw in node.keywords if kw.arg == "deadline"
            and not (isinstance(kw.value, ast.Constant) and kw.value.value is None)]


def test_no_test_sets_a_deadline():
    files = sorted(p for folder in ("tests", "notebooks") for p in (ROOT / folder).rglob("*.py"))
    assert ROOT / "tests" / "conftest.py" in files
    bad = [f"{p.relative_to(ROOT)}:{line}: {src}" for p in files for line, src in deadlines(p)]
    assert bad == []


def test_the_deadline_scan_sees_a_deadline(tmp_path):
    path = tmp_path / "example.py"
    path.write_text("@settings(deadline=200)\ndef test(): pass\n"
                    "settings.register_profile('x', deadline=None)\n")
    assert [line for line, _ in deadlines(path)] == [1]

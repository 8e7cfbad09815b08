"""The code passes ruff with the rules in pyproject.toml (errors, pyflakes, imports, bugbear)."""
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing():
    venv_bin = str(pathlib.Path(sys.executable).parent)     # the venv's, even if not activated
    ruff = shutil.which("ruff", path=venv_bin) or shutil.which("ruff")
    if ruff is None:
        pytest.fail("ruff is not installed: pip install -e '.[dev]' brings it")
    paths = ["autograd", "nn", "train", "tests", "bench", "notebooks", "__init__.py", "__main__.py"]
    result = subprocess.run([ruff, "check", *paths], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-1000:]

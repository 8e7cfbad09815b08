"""What `pip install gradspace` puts on a user's machine: one import name, `gradspace`, beside
whatever else is installed (HIPS autograd, a user's own `train.py`), and a `gradspace` command.

These tests build the wheel and install it into a fresh virtual environment, as a user would:
they need the package index that `pip install -e .` itself needs.
"""
import re
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

import gradspace

ROOT = Path(__file__).resolve().parents[1]

try:
    import tomllib
except ModuleNotFoundError:            # Python 3.10
    tomllib = pytest.importorskip("tomli")


def run(args, cwd, **kw):
    result = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                            timeout=600, check=False, **kw)
    assert result.returncode == 0, f"{args}\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", out, ROOT], ROOT)
    (path,) = out.glob("gradspace-*.whl")
    return path


def test_pyproject_names_every_package_directory():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {"gradspace"} | {
        "gradspace." + ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("autograd", "nn", "train") for init in (ROOT / top).rglob("__init__.py")}
    assert set(config["packages"]) == on_disk
    assert config["package-dir"] == {"gradspace": "."}


def test_the_wheel_installs_nothing_but_gradspace(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops == {"gradspace", f"gradspace-{gradspace.__version__}.dist-info"}
    assert "gradspace/train/corpus/default.txt" in names          # the shipped corpus
    assert "gradspace/autograd/engine.py" in names and "gradspace/__main__.py" in names
    assert not [n for n in names if n.startswith(("gradspace/tests/", "gradspace/bench/"))]
    entry_points = zipfile.ZipFile(wheel).read(
        f"gradspace-{gradspace.__version__}.dist-info/entry_points.txt").decode()
    assert re.search(r"^gradspace = gradspace\.train\.cli:console_main$", entry_points, re.M)


def test_version_is_the_installed_distributions():
    from importlib.metadata import version
    assert gradspace.__version__ == version("gradspace")


def test_gradspace_and_hips_autograd_live_side_by_side(wheel, tmp_path):
    env = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env)
    python = env / "bin" / "python"
    pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    run([*pip, "autograd==1.9.1"], tmp_path)                      # HIPS autograd, with numpy
    run([*pip, "--no-deps", wheel], tmp_path)
    both = ("import autograd, numpy as np\n"
            "assert float(autograd.grad(lambda x: x ** 3)(2.0)) == 12.0\n"
            "from gradspace.autograd import Tensor\n"
            "x = Tensor(2.0, requires_grad=True); (x ** 3).backward()\n"
            "assert x.grad.item() == 12.0\n"
            "import gradspace; print(gradspace.__version__)\n")
    assert run([python, "-c", both], tmp_path).strip() == gradspace.__version__
    run([python, "-m", "pip", "uninstall", "--yes", "--quiet", "gradspace"], tmp_path)
    run([python, "-c", "import autograd; assert float(autograd.grad(lambda x: x * x)(3.0)) == 6"],
        tmp_path)


@pytest.mark.parametrize("command", [["gradspace"], [sys.executable, "-m", "gradspace"]])
def test_a_users_own_train_py_does_not_shadow_gradspace(command, tmp_path):
    (tmp_path / "train.py").write_text("raise SystemExit('the user\\'s train.py ran')\n")
    (tmp_path / "autograd.py").write_text("raise SystemExit('the user\\'s autograd.py ran')\n")
    if command == ["gradspace"]:
        command = [Path(sys.executable).parent / "gradspace"]     # the script pip installed
    out = run([*command, "skipgram", "--epochs", "1", "--dim", "8",
               "--out", tmp_path / "run", "--no-progress"], tmp_path)
    assert "class purity" in out
    assert (tmp_path / "run" / "checkpoint.npz").exists()

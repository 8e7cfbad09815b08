"""The README's code is what newcomers run first: every python block must work as written."""
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def python_blocks():
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```python\n(.*?)```", text, re.S)


def test_readme_has_python_examples():
    assert len(python_blocks()) >= 3


def test_readme_python_blocks_run_in_order(tmp_path):
    # One script, in the README's order, since later blocks use names from earlier ones.
    # Run from a scratch folder so files the examples write (run.npz, docs/...) land there.
    (tmp_path / "docs").mkdir()
    script = "import matplotlib\nmatplotlib.use('Agg')\n"
    for block in python_blocks():
        if "viz.save" in block:      # needs L from micrograd's example: build it first
            script += ("from gradspace.autograd import Tensor\n"
                       "a, b, c, f = (Tensor(v, requires_grad=True, name=n) for v, n in "
                       "((2.0, 'a'), (-3.0, 'b'), (10.0, 'c'), (-2.0, 'f')))\n"
                       "L = (a * b + c) * f\n")
        script += block
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "run.npz").exists()
    assert (tmp_path / "docs" / "backprop.svg").read_text().lstrip().startswith(("<?xml", "<svg"))


def test_quickstart_commands_are_the_ones_ci_runs():
    text = (ROOT / "README.md").read_text()
    quickstart = re.search(r"## Quickstart\n\n```bash\n(.*?)```", text, re.S).group(1)
    install, test = quickstart.strip().splitlines()
    assert "pip install" in install and "gradspace skipgram" in install
    assert test.strip() == "python -m pytest"
    assert "python -m pytest" in (ROOT / ".ci" / "run").read_text()

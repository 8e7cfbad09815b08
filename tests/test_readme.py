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


def test_the_lines_needed_to_follow_backward_are_counted_in_the_readme():
    # Tensor.backward, the whole engine, the node base class's module and one op: what a reader
    # must read to understand backward. The README states the count; this keeps it true.
    import importlib
    import inspect

    from gradspace.autograd.ops.elementwise import Mul
    engine = importlib.import_module("gradspace.autograd.engine")
    function = importlib.import_module("gradspace.autograd.function")
    tensor = importlib.import_module("gradspace.autograd.tensor")
    sources = [inspect.getsource(tensor.Tensor.backward), inspect.getsource(engine),
               inspect.getsource(function), inspect.getsource(Mul)]
    count = sum(1 for source in sources for line in source.splitlines() if line.strip())
    section = re.search(r"## The engine in one paragraph\n(.*?)\n## ",
                        (ROOT / "README.md").read_text(), re.S).group(1)
    stated = int(re.search(r"(\d+) non-blank lines", section).group(1))
    assert count == stated, f"README says {stated} lines; they are {count} now"
    assert count <= 200

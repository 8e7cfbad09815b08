"""The README's code is what newcomers run first: every python block must work as written."""
import json
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


# Runs the README's blocks statement by statement in one namespace, each statement's printed
# output captured, and reports every `print(...)  # comment` with what it printed, as JSON.
RUNNER = r"""
import ast, contextlib, io, json, sys, tokenize
import matplotlib
matplotlib.use("Agg")
namespace, printed = {"__name__": "__readme__"}, []
for block in json.load(open(sys.argv[1])):
    comments = {tok.start[0]: tok.string[1:].strip()
                for tok in tokenize.generate_tokens(io.StringIO(block).readline)
                if tok.type == tokenize.COMMENT}
    for node in ast.parse(block).body:
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            exec(compile(ast.Module([node], []), "README.md", "exec"), namespace)
        call = node.value if isinstance(node, ast.Expr) else None
        if (isinstance(call, ast.Call) and getattr(call.func, "id", None) == "print"
                and node.end_lineno in comments):
            printed.append([ast.get_source_segment(block, node), output.getvalue(),
                            comments[node.end_lineno]])
json.dump(printed, sys.stdout)
"""

# Builds L, micrograd's example, which the README's drawing block takes as given.
MICROGRAD_L = ("from gradspace.autograd import Tensor\n"
               "a, b, c, f = (Tensor(v, requires_grad=True, name=n) for v, n in "
               "((2.0, 'a'), (-3.0, 'b'), (10.0, 'c'), (-2.0, 'f')))\n"
               "L = (a * b + c) * f\n")


def test_readme_python_blocks_run_in_order_and_print_what_their_comments_say(tmp_path):
    # One namespace, in the README's order, since later blocks use names from earlier ones.
    # Run from a scratch folder so files the examples write (run.npz, docs/...) land there.
    (tmp_path / "docs").mkdir()
    blocks = []
    for block in python_blocks():
        blocks += [MICROGRAD_L, block] if "viz.save" in block else [block]
    (tmp_path / "blocks.json").write_text(json.dumps(blocks))
    (tmp_path / "runner.py").write_text(RUNNER)
    result = subprocess.run([sys.executable, "runner.py", "blocks.json"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "run.npz").exists()
    assert (tmp_path / "docs" / "backprop.svg").read_text().lstrip().startswith(("<?xml", "<svg"))
    printed = json.loads(result.stdout)
    assert len(printed) >= 4                        # the tour's prints, at least
    for source, output, comment in printed:
        # Compared with runs of whitespace as one space: a printed matrix spans lines.
        assert " ".join(output.split()) == " ".join(comment.split()), source


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

    from gradspace.autograd.ops.arithmetic import Mul
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

"""The notebooks' exercises: each one passes with the answer in notebooks/solutions/ and fails
with a wrong one, and the shipped notebooks leave every exercise unanswered.

Exercise cells are run without a kernel: the notebook's first code cell (its imports), the code
cells marked `# used by the exercises`, then the exercise cells, with each answer region
(`# --- your answer ---` .. `# --- end ---`) replaced. A solution file holds one section per
exercise, `# === <id> ===` (the answer) and `# === <id> wrong ===` (a plausible mistake).
The last test runs each whole notebook on a kernel with every answer filled in.
"""
import os
import pathlib
import re
import sys

import nbformat
import pytest

NOTEBOOKS = pathlib.Path(__file__).resolve().parents[1] / "notebooks"
ANSWER = re.compile(r"# --- your answer ---\n.*?# --- end ---\n", re.S)
ID = re.compile(r'check\("([^"]+)"')


def solutions(notebook):
    text = (NOTEBOOKS / "solutions" / (notebook.stem + ".py")).read_text()
    parts = re.split(r"^# === (.+?) ===\n", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def cells(notebook):
    code = [c.source for c in nbformat.read(notebook, as_version=4).cells
            if c.cell_type == "code"]
    setup = [code[0]] + [s for s in code[1:] if s.startswith("# used by the exercises")]
    return setup, [s for s in code if ANSWER.search(s)]


def run(setup, exercises, answers):
    """Run the cells in one namespace; answers: {exercise id: code} replacing the answer."""
    namespace = {"__name__": "__exercises__"}
    for source in setup:
        exec(compile(source, "<setup>", "exec"), namespace)
    for source in exercises:
        name = ID.search(source).group(1)
        filled = ANSWER.sub(answers[name].replace("\\", r"\\"), source) if name in answers \
            else source
        exec(compile(filled, f"<exercise {name}>", "exec"), namespace)


NOTEBOOK_FILES = sorted(NOTEBOOKS.glob("[0-9]*.ipynb"))


@pytest.fixture(autouse=True)
def in_notebooks_dir(monkeypatch):
    import matplotlib
    matplotlib.use("Agg")
    monkeypatch.chdir(NOTEBOOKS)
    monkeypatch.syspath_prepend(str(NOTEBOOKS))
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    yield
    import matplotlib.pyplot as plt
    plt.close("all")
    sys.modules.pop("exercises", None)


@pytest.mark.parametrize("notebook", NOTEBOOK_FILES, ids=lambda p: p.stem)
def test_each_notebook_has_two_exercises_unanswered_and_solved(notebook, capsys):
    setup, exercises = cells(notebook)
    ids = [ID.search(s).group(1) for s in exercises]
    assert len(ids) >= 2, f"{notebook.name} has {len(ids)} exercises"
    sols = solutions(notebook)
    assert set(ids) <= set(sols) and all(f"{i} wrong" in sols for i in ids)
    run(setup, exercises, {})                                   # as shipped: unanswered
    assert capsys.readouterr().out.count("not answered yet") == len(ids)
    run(setup, exercises, {i: sols[i] for i in ids})           # solved: every check right
    assert capsys.readouterr().out.count(": right") == len(ids)


@pytest.mark.parametrize("notebook", NOTEBOOK_FILES, ids=lambda p: p.stem)
def test_a_wrong_answer_fails_its_check(notebook):
    setup, exercises = cells(notebook)
    sols = solutions(notebook)
    for name in [ID.search(s).group(1) for s in exercises]:
        answers = {i: sols[i] for i in sols if not i.endswith(" wrong")}
        answers[name] = sols[f"{name} wrong"]
        with pytest.raises(AssertionError, match=re.escape(name)):
            run(setup, exercises, answers)


@pytest.mark.parametrize("notebook", NOTEBOOK_FILES, ids=lambda p: p.stem)
def test_the_whole_notebook_runs_with_every_answer_filled_in(notebook, tmp_path):
    # What a reader who solved every exercise runs: the notebook top to bottom on a fresh
    # kernel, each answer region replaced by its solution, every other cell as shipped (so the
    # exercises are checked against the state the notebook really builds, not a reduced setup).
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    sols = solutions(notebook)
    filled = 0
    for cell in nb.cells:
        if cell.cell_type == "code" and ANSWER.search(cell.source):
            name = ID.search(cell.source).group(1)
            cell.source = ANSWER.sub(sols[name].replace("\\", r"\\"), cell.source)
            filled += 1
    assert filled >= 2
    NotebookClient(nb, kernel_name="python3", timeout=300,
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    printed = "".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                      for out in cell.outputs if out.output_type == "stream")
    assert printed.count(": right") == filled
    assert "not answered yet" not in printed

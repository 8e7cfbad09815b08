"""Execute the notebooks in place, so they are committed with their outputs (figures included).

    python notebooks/run_all.py                 # every notebooks/[0-9]*.ipynb, in order
    python notebooks/run_all.py 03_*.ipynb      # only some

Each notebook runs top to bottom on a fresh `python3` kernel, in the notebooks/ directory, and
is written back with its outputs only if every cell succeeded; a failing cell stops the run with
the cell's error and a non-zero exit status. CI does not use this script: `python -m pytest`
executes the notebooks afresh through nbmake (see pyproject.toml) and checks the same asserts.
"""
import argparse
import os
import pathlib
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

HERE = pathlib.Path(__file__).resolve().parent


def execute(path, kernel="python3", timeout=300):
    """Run one notebook on a fresh kernel and write it back with outputs; return seconds taken."""
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, kernel_name=kernel, timeout=timeout, record_timing=False,
                   resources={"metadata": {"path": str(HERE)}}).execute()
    seconds = time.perf_counter() - start
    nbformat.write(nb, path)
    return seconds


def main(argv=None):
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")       # the kernels inherit it: see conftest.py
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="notebook files (default: all numbered ones)")
    parser.add_argument("--kernel", default="python3", help="Jupyter kernel name")
    parser.add_argument("--timeout", type=int, default=300, help="seconds allowed per cell")
    args = parser.parse_args(argv)
    paths = ([pathlib.Path(p).resolve() for p in args.notebooks]
             or sorted(HERE.glob("[0-9]*.ipynb")))
    for path in paths:
        try:
            seconds = execute(path, args.kernel, args.timeout)
        except CellExecutionError as error:
            print(f"FAILED {path.name}: left unchanged\n{error}", file=sys.stderr)
            return 1
        print(f"{path.name}: {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

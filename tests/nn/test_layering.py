"""nn sits between the engine and train: it imports autograd, never train, and the engine never
imports nn. The bench keeps its hand-written numpy reference honest."""
import ast
import pathlib

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]


def imported_packages(folder):
    found = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                parts = name.split(".")
                package = parts[1] if parts[0] == "gradspace" and len(parts) > 1 else parts[0]
                found.setdefault(package, set()).add(path.name)
    return found


def test_nn_imports_autograd_but_not_train():
    packages = imported_packages("nn")
    assert "autograd" in packages
    assert "train" not in packages, packages.get("train")
    assert not {"matplotlib", "graphviz", "tqdm", "torch"} & set(packages)


def test_the_engine_does_not_import_nn():
    assert "nn" not in imported_packages("autograd")


def test_embedding_bench_agrees_with_hand_written_numpy():
    from bench import bench_embedding
    assert bench_embedding.check(steps=2)
    table, weights, ids = bench_embedding.setup(batches=1)
    expected = table.copy()
    bench_embedding.numpy_step(expected, weights, ids[0])
    moved = np.flatnonzero((expected != table).any(axis=1))
    np.testing.assert_array_equal(moved, np.unique(ids[0]))       # only looked-up rows move

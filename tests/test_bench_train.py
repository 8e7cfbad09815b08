"""bench/bench_train.py: the gradspace and numpy training steps it times compute the same thing
(5 steps from the same weights on the same batches give the same losses), and its run()
returns the rows bench/run.py may print. No timing is asserted."""
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:          # bench/ is not installed: it runs from a checkout
    sys.path.insert(0, str(ROOT))

from bench import bench_train


@pytest.mark.parametrize("name", list(bench_train.WORKLOADS))
def test_both_steps_give_the_same_losses(name):
    numpy_losses, gradspace_losses = bench_train.check(bench_train.WORKLOADS[name])
    assert len(numpy_losses) == len(gradspace_losses) == bench_train.CHECK_STEPS


def test_a_wrong_step_is_caught(monkeypatch):
    monkeypatch.setattr(bench_train, "LR", 0.3)          # numpy reads LR at each step...
    setup = bench_train.WORKLOADS["charmlp V27 T3 e10 h200 B32"]
    np_step, gs_step = bench_train.implementations(setup)  # ...gradspace's SGD took it once
    monkeypatch.setattr(bench_train, "LR", 0.1)
    with pytest.raises(AssertionError):
        import numpy as np
        np.testing.assert_allclose([gs_step() for _ in range(5)], [np_step() for _ in range(5)],
                                   rtol=1e-4)


def test_run_returns_one_row_per_workload():
    rows = bench_train.run(quick=True, workloads=["charmlp V27 T3 e10 h200 B32"])
    assert [r["name"] for r in rows] == ["charmlp V27 T3 e10 h200 B32"]
    row = rows[0]
    assert row["losses_agree"] is True and row["numpy_ms"] > 0 and row["gradspace_ms"] > 0
    assert row["ratio"] == pytest.approx(row["gradspace_ms"] / row["numpy_ms"])
    assert "| charmlp V27 T3 e10 h200 B32 |" in bench_train.table(rows)

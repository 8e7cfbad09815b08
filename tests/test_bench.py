"""The benchmark workloads compute the same thing in every implementation.

Each workload (bench/workloads) is run for 5 steps at a reduced size, from the same seeded
weights and batches, as the hand-written numpy step (for W5, pure-Python micrograd) and as the
gradspace step: the losses of every step and the weights after the last one must agree. The
weights catch a wrong gradient even where a loss barely moves. No timing is asserted here:
timings belong to `python bench/run.py`.
"""
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:          # bench/ is not installed: it runs from a checkout
    sys.path.insert(0, str(ROOT))

from bench.workloads import MODULES, load  # noqa: E402

STEPS = 5


def run_steps(name, impls):
    module = load(name)
    state = module.setup(seed=0, small=True)
    if "torch" in impls:
        module.torch_setup(state)
    losses = {impl: [getattr(module, f"{impl}_step")(state) for _ in range(STEPS)]
              for impl in impls}
    return losses, module.weights(state)


def assert_same(losses, weights, reference, other, rtol):
    assert np.all(np.isfinite(losses[reference]))
    np.testing.assert_allclose(losses[other], losses[reference], rtol=rtol, atol=1e-6,
                               err_msg=f"{other} losses differ from {reference}'s")
    for i, (got, want) in enumerate(zip(weights[other], weights[reference], strict=True)):
        np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-6,
                                   err_msg=f"{other} weight {i} differs from {reference}'s")


@pytest.mark.parametrize("name", MODULES)
def test_gradspace_step_matches_the_reference(name):
    losses, weights = run_steps(name, ["numpy", "gradspace"])
    assert len(set(losses["numpy"])) > 1, "the steps must change the weights or the batch"
    assert_same(losses, weights, "numpy", "gradspace", rtol=1e-4)


@pytest.mark.parametrize("name", MODULES)
def test_torch_step_matches_the_reference(name):
    pytest.importorskip("torch")        # the PyTorch column is optional, never a dependency
    losses, weights = run_steps(name, ["numpy", "torch"])
    assert_same(losses, weights, "numpy", "torch", rtol=1e-4)


def test_workloads_are_found_by_their_table_names():
    assert load("W3").NAME.startswith("W3 ")
    assert load("W3b").NAME.startswith("W3b ")
    assert load("chain").NAME.startswith("W6 ")
    with pytest.raises(SystemExit, match="no single workload"):
        load("W9")

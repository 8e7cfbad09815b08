"""Shared test setup: hypothesis profiles and float64 for gradient checks."""
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from gradspace import autograd

# CI runs on 2 cores with a time budget: fewer examples per property, same properties. Under
# CI=true the examples are derandomised (drawn from a fixed seed), so a CI run is repeatable
# and a red CI run is red again on a re-run; a developer's runs keep exploring new examples.
# No deadline anywhere: on a shared machine a slow example is load, not a bug.
IN_CI = bool(os.environ.get("CI"))
settings.register_profile("ci", max_examples=25, deadline=None, derandomize=IN_CI,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=60, deadline=None, derandomize=IN_CI,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if IN_CI else "dev"))


@pytest.fixture(autouse=True)
def _fresh_defaults():
    """Each test starts with float32 as the default dtype and a seeded generator."""
    autograd.set_default_dtype(np.float32)
    autograd.manual_seed(0)
    yield
    autograd.set_default_dtype(np.float32)

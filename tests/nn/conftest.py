"""Fixtures for the nn tests (helpers shared by several files are in nn_helpers.py)."""
import numpy as np
import pytest

from gradspace import autograd


@pytest.fixture
def f64():
    """Compute in float64 (finite differences need it); the root conftest resets float32."""
    autograd.set_default_dtype(np.float64)

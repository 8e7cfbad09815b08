"""check(): the exercises' judge, shared by every notebook (`from exercises import check`).

An exercise cell holds the reader's answer between `# --- your answer ---` and `# --- end ---`,
then calls check with the answer and the expected value, computed in the cell by other means
(gradspace's autograd, a finite difference, a library loss). The answers live in
notebooks/solutions/ (tests/test_notebook_exercises.py runs every exercise with them, and with
a wrong answer, which must fail).
"""
import numpy as np


def check(name, answer, expected, rtol=1e-6, atol=1e-8):
    """Say whether `answer` matches `expected`; raise AssertionError when it does not.

    An answer left as None (the shipped notebooks) prints "not answered yet" and passes, so the
    notebook still runs top to bottom. Returns True when right, False when unanswered.
    """
    if answer is None or (isinstance(answer, (tuple, list)) and any(a is None for a in answer)):
        print(f"{name}: not answered yet (the answer is in notebooks/solutions/)")
        return False
    got, want = _array(answer), _array(expected)
    if got.shape != want.shape:
        raise AssertionError(f"{name}: wrong shape {got.shape}, expected {want.shape}")
    if not np.allclose(got, want, rtol=rtol, atol=atol):
        raise AssertionError(f"{name}: wrong.\n  your answer: {np.round(got, 6).tolist()}\n"
                             f"  expected:    {np.round(want, 6).tolist()}")
    print(f"{name}: right ({np.round(got, 6).tolist()})")
    return True


def _array(value):
    data = getattr(value, "data", value)          # a gradspace Tensor, or a Value, or a number
    if hasattr(data, "numpy"):
        data = data.numpy()
    return np.asarray(data, dtype=np.float64)

"""W7: a chain of 20,000 scalar (0-d) ops, forward + backward (+ an SGD nudge).

The 0-d version of W6: h_0 = x; h_{k+1} = op_k(h_k), op_k cycling through
h * w, h + 0.1, tanh(h), exp(h); loss = h_n; then x, w -= lr * gradient. x and w are 0-d
float64 leaves and 0.1 a Python float, as a learner writes it.

The reference runs the same chain on numpy float64 scalars, with the backward written out.
`deep_check` runs the gradspace chain 100,000 ops deep: backward must not recurse.
"""
import time
from types import SimpleNamespace

import numpy as np

from bench.workloads.common import arrays, chain_by_hand, chain_forward

NAME = "W7 scalar-chain"
DESCRIPTION = "20,000 scalar (0-d) ops, forward + backward"
TARGET = ("torch", 1.0, "<= PyTorch")
LR = 0.05
B = 0.1


def setup(seed=0, small=False):
    rng = np.random.default_rng(seed)
    x, w = rng.uniform(-1, 1), rng.uniform(0.5, 1.5)
    s = SimpleNamespace(n=1000 if small else 20_000, init=(x, w))
    s.np = [np.float64(x), np.float64(w)]
    from gradspace import autograd
    s.gs = [autograd.Tensor(np.float64(v), requires_grad=True) for v in (x, w)]
    return s


def numpy_step(s):
    x, w = s.np
    h, gx, gw = chain_by_hand(x, w, B, s.n)
    s.np = [x - LR * gx, w - LR * gw]
    return float(h)


def gradspace_step(s):
    x, w = s.gs
    loss = chain_forward(x, w, B, s.n)
    loss.backward()
    for p in s.gs:
        p.data -= LR * p.grad.data
        p.grad = None
    return loss.item()


def torch_setup(s):
    import torch
    s.th = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in s.init]


def torch_step(s):
    import torch
    x, w = s.th
    loss = chain_forward(x, w, B, s.n)
    loss.backward()
    with torch.no_grad():
        for p in s.th:
            p -= LR * p.grad
            p.grad = None
    return loss.item()


def deep_check(n=100_000):
    """Forward + backward through an n-op gradspace chain; returns a line for the report."""
    from gradspace import autograd
    x, w = (autograd.Tensor(np.float64(v), requires_grad=True) for v in (0.3, 0.9))
    start = time.perf_counter()
    loss = chain_forward(x, w, B, n)
    loss.backward()
    seconds = time.perf_counter() - start
    ok = x.grad is not None and bool(np.isfinite(x.grad.data)) and bool(np.isfinite(w.grad.data))
    return f"W7 {n:,}-deep chain: {'works' if ok else 'FAILED'}, forward + backward {seconds:.2f} s"


def weights(s):
    """Each implementation's current weights, in the same order (for the tests)."""
    out = {"numpy": [np.asarray(v) for v in s.np], "gradspace": arrays(s.gs)}
    if hasattr(s, "th"):
        out["torch"] = arrays(s.th)
    return out

"""W6: a chain of 1,000 elementwise ops on shape (4,), forward + backward (+ an SGD nudge).

    h_0 = x;  h_{k+1} = op_k(h_k) with op_k cycling through
        h * w,  h + b,  tanh(h),  exp(h)        (exp of a tanh: always small)
    loss = sum(h_n);  then x -= lr dloss/dx, w -= lr dloss/dw

x and w (shape (4,)) require grad, w is used by a quarter of the ops (its gradients add up),
b is a constant. On tensors this small the engine's own per-op overhead is the whole cost.
The update is there so that the 5-step loss check also checks the gradients.
"""
import numpy as np

from bench.workloads.common import arrays, chain_by_hand, chain_forward

NAME = "W6 chain1000"
DESCRIPTION = "1,000 elementwise ops on shape (4,), forward + backward"
TARGET = ("torch", 1.0, "<= PyTorch")
LR = 0.05


def setup(seed=0, small=False):
    rng = np.random.default_rng(seed)
    n = 100 if small else 1000
    init = {"x": rng.uniform(-1, 1, 4).astype(np.float32),
            "w": rng.uniform(0.5, 1.5, 4).astype(np.float32)}
    b = rng.uniform(-1, 1, 4).astype(np.float32)
    return _state(n, init, b)


def _state(n, init, b):
    from types import SimpleNamespace

    from gradspace import autograd
    s = SimpleNamespace(n=n, init=init, b=b)
    s.np = {k: v.copy() for k, v in init.items()}
    s.gs = {k: autograd.Tensor(v.copy(), requires_grad=True) for k, v in init.items()}
    s.gs_b = autograd.Tensor(b)
    return s


def numpy_step(s):
    x, w = s.np["x"], s.np["w"]
    h, gx, gw = chain_by_hand(x, w, s.b, s.n)
    x -= LR * gx
    w -= LR * gw
    return float(h.sum())


def gradspace_step(s):
    x, w, b = s.gs["x"], s.gs["w"], s.gs_b
    loss = chain_forward(x, w, b, s.n).sum()
    loss.backward()
    for p in (x, w):
        p.data -= LR * p.grad.data
        p.grad = None
    return loss.item()


def torch_setup(s):
    import torch
    s.th = {k: torch.tensor(v, requires_grad=True) for k, v in s.init.items()}
    s.th_b = torch.tensor(s.b)


def torch_step(s):
    import torch
    x, w, b = s.th["x"], s.th["w"], s.th_b
    loss = chain_forward(x, w, b, s.n).sum()
    loss.backward()
    with torch.no_grad():
        for p in (x, w):
            p -= LR * p.grad
            p.grad = None
    return loss.item()


def weights(s):
    """Each implementation's current weights, in the same order (for the tests)."""
    out = {"numpy": [s.np["x"], s.np["w"]], "gradspace": arrays([s.gs["x"], s.gs["w"]])}
    if hasattr(s, "th"):
        out["torch"] = arrays([s.th["x"], s.th["w"]])
    return out

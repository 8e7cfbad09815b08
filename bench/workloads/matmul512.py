"""matmul512: four 512x512 matmuls with tanh between, forward + backward + SGD (issue 2).

    h_0 = x (512, 512), a constant;  h_{k+1} = tanh(h_k @ W_k) for k < 3;  y = h_3 @ W_3
    loss = mean(y * y);  then W_k -= lr dloss/dW_k

On big arrays the BLAS calls are the cost; the engine should add next to nothing.
"""
from types import SimpleNamespace

import numpy as np

from bench.workloads.common import arrays

NAME = "matmul512"
DESCRIPTION = "4 matmuls 512x512 with tanh between, forward + backward + SGD"
TARGET = None            # issue 2 asks only for the ratio
LR = 0.1
DEPTH = 4


def setup(seed=0, small=False):
    rng = np.random.default_rng(seed)
    n = 32 if small else 512
    x = rng.standard_normal((n, n)).astype(np.float32)
    init = {f"W{k}": (rng.standard_normal((n, n)) / np.sqrt(n)).astype(np.float32)
            for k in range(DEPTH)}
    from gradspace import autograd
    s = SimpleNamespace(init=init, x=x)
    s.np = [init[f"W{k}"].copy() for k in range(DEPTH)]
    s.gs = [autograd.Tensor(init[f"W{k}"].copy(), requires_grad=True) for k in range(DEPTH)]
    s.gs_x = autograd.Tensor(x)
    return s


def numpy_step(s):
    Ws, hs = s.np, [s.x]
    for k, W in enumerate(Ws):            # forward: hs[k] is the input of matmul k
        z = hs[-1] @ W
        hs.append(np.tanh(z) if k < DEPTH - 1 else z)
    y = hs[-1]
    loss = float(np.mean(y * y))
    g = y * np.float32(2.0 / y.size)      # dloss/dy
    for k in range(DEPTH - 1, -1, -1):
        if k < DEPTH - 1:
            g = g * (1 - hs[k + 1] * hs[k + 1])   # through tanh
        gW = hs[k].T @ g
        if k:
            g = g @ Ws[k].T
        Ws[k] -= LR * gW
    return loss


def gradspace_step(s):
    h = s.gs_x
    for k, W in enumerate(s.gs):
        h = h @ W
        if k < DEPTH - 1:
            h = h.tanh()
    loss = (h * h).mean()
    loss.backward()
    for W in s.gs:
        W.data -= LR * W.grad.data
        W.grad = None
    return loss.item()


def torch_setup(s):
    import torch
    s.th = [torch.tensor(s.init[f"W{k}"], requires_grad=True) for k in range(DEPTH)]
    s.th_x = torch.tensor(s.x)


def torch_step(s):
    import torch
    h = s.th_x
    for k, W in enumerate(s.th):
        h = h @ W
        if k < DEPTH - 1:
            h = h.tanh()
    loss = (h * h).mean()
    loss.backward()
    with torch.no_grad():
        for W in s.th:
            W -= LR * W.grad
            W.grad = None
    return loss.item()


def weights(s):
    """Each implementation's current weights, in the same order (for the tests)."""
    out = {"numpy": s.np, "gradspace": arrays(s.gs)}
    if hasattr(s, "th"):
        out["torch"] = arrays(s.th)
    return out

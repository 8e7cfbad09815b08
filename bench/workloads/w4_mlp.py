"""W4: an MLP 256-512-512-10 with ReLU, MSE loss, batch 256, plain SGD.

    y = L3(relu(L2(relu(L1(x)))))        # nn.Sequential of Linear / ReLU
    loss = mean((y - target)^2);  every parameter -= lr * its gradient

Mid-sized dense work: six matmuls of a few hundred, a handful of elementwise ops.
"""
from itertools import pairwise
from types import SimpleNamespace

import numpy as np

from bench.workloads.common import (
    Cycle,
    copies,
    model_weights,
    torch_state_dict,
)

NAME = "W4 mlp"
DESCRIPTION = "MLP 256-512-512-10, ReLU, MSE, batch 256"
TARGET = ("numpy", 1.1, "<= 1.1 x numpy")
LR = 0.05
N_BATCHES = 8


def setup(seed=0, small=False):
    sizes, B = ((32, 64, 64, 10), 16) if small else ((256, 512, 512, 10), 256)
    rng = np.random.default_rng(seed)
    init = {}
    for i, (fan_in, fan_out) in enumerate(pairwise(sizes)):
        bound = fan_in ** -0.5                     # PyTorch's default Linear init
        init[f"{2 * i}.weight"] = rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32)
        init[f"{2 * i}.bias"] = rng.uniform(-bound, bound, fan_out).astype(np.float32)
    batches = [(rng.standard_normal((B, sizes[0])).astype(np.float32),
                rng.standard_normal((B, sizes[-1])).astype(np.float32))
               for _ in range(N_BATCHES)]
    s = SimpleNamespace(init=init, batches=batches, sizes=sizes)

    s.np = copies(init)
    s.np_batch = Cycle(batches)

    from gradspace import autograd, nn
    s.gs_model = _model(nn, sizes)
    s.gs_model.load_state_dict(copies(init))
    from gradspace.train.optim import SGD
    s.gs_opt = SGD(s.gs_model.parameters(), lr=LR)
    s.gs_batch = Cycle([(autograd.Tensor(x), autograd.Tensor(y)) for x, y in batches])
    return s


def _model(nn, sizes):
    """Linear, ReLU, Linear, ReLU, Linear from gradspace's nn or torch.nn."""
    a, b, c, d = sizes
    return nn.Sequential(nn.Linear(a, b), nn.ReLU(), nn.Linear(b, c), nn.ReLU(), nn.Linear(c, d))


def numpy_step(s):
    p = s.np
    x, target = s.np_batch()
    layers = [(p[f"{i}.weight"], p[f"{i}.bias"]) for i in (0, 2, 4)]
    acts = [x]                                      # the input of each Linear
    for k, (W, b) in enumerate(layers):
        z = acts[-1] @ W.T + b
        acts.append(np.maximum(z, 0) if k < 2 else z)
    diff = acts[-1] - target
    loss = float(np.mean(diff * diff))
    g = diff * np.float32(2.0 / diff.size)          # dloss/dy
    for k in (2, 1, 0):
        W, b = layers[k]
        gW, gb = g.T @ acts[k], g.sum(0)
        if k:
            g = (g @ W) * (acts[k] > 0)             # through the ReLU that made acts[k]
        W -= LR * gW
        b -= LR * gb
    return loss


def gradspace_step(s):
    import gradspace.nn.functional as F
    x, target = s.gs_batch()
    loss = F.mse_loss(s.gs_model(x), target)
    s.gs_opt.zero_grad()
    loss.backward()
    s.gs_opt.step()
    return loss.item()


def torch_setup(s):
    import torch
    s.th_model = _model(torch.nn, s.sizes)
    s.th_model.load_state_dict(torch_state_dict(s.init))
    s.th_opt = torch.optim.SGD(s.th_model.parameters(), lr=LR)
    s.th_batch = Cycle([(torch.from_numpy(x), torch.from_numpy(y)) for x, y in s.batches])


def torch_step(s):
    import torch.nn.functional as F
    x, target = s.th_batch()
    loss = F.mse_loss(s.th_model(x), target)
    s.th_opt.zero_grad()
    loss.backward()
    s.th_opt.step()
    return loss.item()


weights = model_weights      # each implementation's current weights, for the tests

"""W1: skip-gram with a full softmax over the vocabulary (V 5,000, d 64, batch 512).

    e = E_in[center]                      # (B, d)   embedding lookup
    logits = e @ W_out^T                  # (B, V)   nn.Linear(d, V, bias=False)
    loss = cross_entropy(logits, context)
    E_in -= lr dloss/dE_in  (only the looked-up rows),  W_out -= lr dloss/dW_out

The cost is the (512, 5000) logits: two matmuls and one softmax over 2.56 M floats. The numpy
step fuses the log-sum-exp in place in float32, so the engine has to do the same to keep up.
"""
from types import SimpleNamespace

import numpy as np

from bench.workloads.common import (
    Cycle,
    arrays,
    copies,
    cross_entropy_np,
    rows_sgd,
    torch_state_dict,
)

NAME = "W1 skipgram-softmax"
DESCRIPTION = "skip-gram, full softmax: V 5,000, d 64, batch 512"
TARGET = ("numpy", 1.05, "<= 1.05 x numpy")
LR = 0.5
N_BATCHES = 8


def setup(seed=0, small=False):
    V, d, B = (200, 16, 32) if small else (5000, 64, 512)
    rng = np.random.default_rng(seed)
    init = {"embed.weight": rng.standard_normal((V, d)).astype(np.float32),
            "out.weight": rng.uniform(-d ** -0.5, d ** -0.5, (V, d)).astype(np.float32)}
    batches = [(rng.integers(0, V, B), rng.integers(0, V, B)) for _ in range(N_BATCHES)]
    s = SimpleNamespace(init=init, batches=batches, V=V, d=d)

    s.np = copies(init)
    s.np_batch = Cycle(batches)

    from gradspace import nn
    s.gs_embed, s.gs_out = nn.Embedding(V, d), nn.Linear(d, V, bias=False)
    s.gs_embed.load_state_dict({"weight": init["embed.weight"].copy()})
    s.gs_out.load_state_dict({"weight": init["out.weight"].copy()})
    from gradspace.train.optim import SGD
    s.gs_opt = SGD([s.gs_embed.weight, s.gs_out.weight], lr=LR)
    s.gs_batch = Cycle(batches)
    return s


def numpy_step(s):
    E, W = s.np["embed.weight"], s.np["out.weight"]
    center, context = s.np_batch()
    e = E[center]                                   # (B, d)
    loss, dlogits = cross_entropy_np(e @ W.T, context)
    de = dlogits @ W                                # (B, d)
    W -= LR * (dlogits.T @ e)                       # (V, d)
    rows_sgd(E, center, de, LR)
    return loss


def gradspace_step(s):
    import gradspace.nn.functional as F
    center, context = s.gs_batch()
    logits = s.gs_out(s.gs_embed(center))           # (B, V)
    loss = F.cross_entropy(logits, context)
    s.gs_opt.zero_grad()
    loss.backward()
    s.gs_opt.step()
    return loss.item()


def torch_setup(s):
    import torch
    s.th_embed = torch.nn.Embedding(s.V, s.d, sparse=True)
    s.th_out = torch.nn.Linear(s.d, s.V, bias=False)
    sd = torch_state_dict(s.init)
    s.th_embed.load_state_dict({"weight": sd["embed.weight"]})
    s.th_out.load_state_dict({"weight": sd["out.weight"]})
    s.th_opt = torch.optim.SGD([s.th_embed.weight, s.th_out.weight], lr=LR)
    s.th_batch = Cycle([(torch.from_numpy(c), torch.from_numpy(t)) for c, t in s.batches])


def torch_step(s):
    import torch.nn.functional as F
    center, context = s.th_batch()
    loss = F.cross_entropy(s.th_out(s.th_embed(center)), context)
    s.th_opt.zero_grad()
    loss.backward()
    s.th_opt.step()
    return loss.item()


def weights(s):
    """Each implementation's current weights, in the same order (for the tests)."""
    out = {"numpy": [s.np["embed.weight"], s.np["out.weight"]],
           "gradspace": arrays([s.gs_embed.weight, s.gs_out.weight])}
    if hasattr(s, "th_embed"):
        out["torch"] = arrays([s.th_embed.weight, s.th_out.weight])
    return out

"""W2: skip-gram with negative sampling (V 50,000, d 128, batch 1,024, 5 negatives).

    e = E_in[center]                      # (B, d)
    o = E_out[ids]                        # (B, 1+K, d): the true context, then K negatives
    logits = o @ e                        # (B, 1+K): one dot product per pair (batched matmul)
    loss = bce_with_logits(logits, [1, 0, ..., 0])
    E_in, E_out -= lr * gradient, on the looked-up rows only

Each step touches about 7,000 of the 100,000 table rows, so the update must stay row-sparse:
a dense gradient would sweep both 50,000 x 128 tables every step.
"""
from types import SimpleNamespace

import numpy as np

from bench.workloads.common import Cycle, arrays, copies, rows_sgd, sigmoid_np

NAME = "W2 skipgram-negsample"
DESCRIPTION = "skip-gram, negative sampling: V 50,000, d 128, batch 1,024, 5 negatives"
TARGET = ("torch", 1.0, "<= PyTorch sparse")
LR = 1.0
K = 5
N_BATCHES = 8


def setup(seed=0, small=False):
    V, d, B = (500, 16, 64) if small else (50_000, 128, 1024)
    rng = np.random.default_rng(seed)
    init = {"in.weight": (0.1 * rng.standard_normal((V, d))).astype(np.float32),
            "out.weight": (0.1 * rng.standard_normal((V, d))).astype(np.float32)}
    batches = []
    for _ in range(N_BATCHES):
        center = rng.integers(0, V, B)
        ids = rng.integers(0, V, (B, 1 + K))       # column 0 the context, then negatives
        batches.append((center, ids))
    labels = np.zeros((B, 1 + K), np.float32)
    labels[:, 0] = 1
    s = SimpleNamespace(init=init, batches=batches, labels=labels, V=V, d=d)

    s.np = copies(init)
    s.np_batch = Cycle(batches)

    from gradspace import autograd, nn
    s.gs_in, s.gs_out = nn.Embedding(V, d), nn.Embedding(V, d)
    s.gs_in.load_state_dict({"weight": init["in.weight"].copy()})
    s.gs_out.load_state_dict({"weight": init["out.weight"].copy()})
    from gradspace.train.optim import SGD
    s.gs_opt = SGD([s.gs_in.weight, s.gs_out.weight], lr=LR)
    s.gs_labels = autograd.Tensor(labels)
    s.gs_batch = Cycle(batches)
    return s


def numpy_step(s):
    E_in, E_out, y = s.np["in.weight"], s.np["out.weight"], s.labels
    center, ids = s.np_batch()
    e = E_in[center]                                # (B, d)
    o = E_out[ids]                                  # (B, 1+K, d)
    x = (o @ e[:, :, None])[:, :, 0]                # (B, 1+K)
    # bce(x, y) = max(x, 0) - x y + log(1 + e^-|x|), stable for any x
    loss = float(np.mean(np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))))
    dx = (sigmoid_np(x) - y) * np.float32(1.0 / x.size)
    de = (dx[:, None, :] @ o)[:, 0, :]              # (B, d)
    do = dx[:, :, None] * e[:, None, :]             # (B, 1+K, d): outer products
    rows_sgd(E_in, center, de, LR)
    rows_sgd(E_out, ids.reshape(-1), do.reshape(-1, o.shape[-1]), LR)
    return loss


def gradspace_step(s):
    import gradspace.nn.functional as F
    center, ids = s.gs_batch()
    e = s.gs_in(center)                             # (B, d)
    o = s.gs_out(ids)                               # (B, 1+K, d)
    logits = (o @ e.unsqueeze(-1)).squeeze(-1)      # (B, 1+K)
    loss = F.binary_cross_entropy_with_logits(logits, s.gs_labels)
    s.gs_opt.zero_grad()
    loss.backward()
    s.gs_opt.step()
    return loss.item()


def torch_setup(s):
    import torch
    s.th_in = torch.nn.Embedding(s.V, s.d, sparse=True)
    s.th_out = torch.nn.Embedding(s.V, s.d, sparse=True)
    s.th_in.load_state_dict({"weight": torch.from_numpy(s.init["in.weight"].copy())})
    s.th_out.load_state_dict({"weight": torch.from_numpy(s.init["out.weight"].copy())})
    s.th_opt = torch.optim.SGD([s.th_in.weight, s.th_out.weight], lr=LR)
    s.th_labels = torch.from_numpy(s.labels)
    s.th_batch = Cycle([(torch.from_numpy(c), torch.from_numpy(i)) for c, i in s.batches])


def torch_step(s):
    import torch.nn.functional as F
    center, ids = s.th_batch()
    e = s.th_in(center)
    o = s.th_out(ids)
    logits = (o @ e.unsqueeze(-1)).squeeze(-1)
    loss = F.binary_cross_entropy_with_logits(logits, s.th_labels)
    s.th_opt.zero_grad()
    loss.backward()
    s.th_opt.step()
    return loss.item()


def weights(s):
    """Each implementation's current weights, in the same order (for the tests)."""
    out = {"numpy": [s.np["in.weight"], s.np["out.weight"]],
           "gradspace": arrays([s.gs_in.weight, s.gs_out.weight])}
    if hasattr(s, "th_in"):
        out["torch"] = arrays([s.th_in.weight, s.th_out.weight])
    return out

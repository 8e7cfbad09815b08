"""W3: a character-level MLP language model (Bengio et al. 2003, as in makemore), batch 32.

    emb = C[X]                            # (B, 3, 10): vocab 27, context 3, embedding 10
    h = tanh(emb.view(B, 30) @ W1^T + b1) # (B, 200)
    logits = h @ W2^T + b2                # (B, 27)
    loss = cross_entropy(logits, Y);  every parameter -= lr * its gradient

At batch 32 every array is tiny and the step is a dozen ops: it measures the engine's
per-op overhead on a real model. W3b (w3b_charlm.py) is the same model at batch 1,024.
"""
from types import SimpleNamespace

import numpy as np

from bench.workloads.common import (
    Cycle,
    copies,
    cross_entropy_np,
    model_weights,
    rows_sgd,
    torch_state_dict,
)

NAME = "W3 charlm-b32"
DESCRIPTION = "char-MLP LM: vocab 27, context 3, emb 10, hidden 200, tanh, batch 32"
TARGET = ("torch", 0.8, "<= 0.8 x PyTorch")
LR = 0.1
VOCAB, CONTEXT, EMB, HIDDEN = 27, 3, 10, 200
N_BATCHES = 16


def setup(seed=0, small=False, batch=32):
    hidden = 20 if small else HIDDEN
    batch = min(batch, 64) if small else batch
    rng = np.random.default_rng(seed)
    fan1, fan2 = CONTEXT * EMB, hidden
    init = {"embed.weight": rng.standard_normal((VOCAB, EMB)).astype(np.float32),
            "hidden.weight": rng.uniform(-1, 1, (hidden, fan1)).astype(np.float32) / fan1 ** .5,
            "hidden.bias": rng.uniform(-1, 1, hidden).astype(np.float32) / fan1 ** .5,
            "out.weight": rng.uniform(-1, 1, (VOCAB, hidden)).astype(np.float32) / fan2 ** .5,
            "out.bias": rng.uniform(-1, 1, VOCAB).astype(np.float32) / fan2 ** .5}
    batches = [(rng.integers(0, VOCAB, (batch, CONTEXT)), rng.integers(0, VOCAB, batch))
               for _ in range(N_BATCHES)]
    s = SimpleNamespace(init=init, batches=batches, hidden=hidden)

    s.np = copies(init)
    s.np_batch = Cycle(batches)

    from gradspace import nn
    s.gs_model = _model(nn, hidden)
    s.gs_model.load_state_dict(copies(init))
    from gradspace.train.optim import SGD
    s.gs_opt = SGD(s.gs_model.parameters(), lr=LR)
    s.gs_batch = Cycle(batches)
    return s


def _model(nn, hidden):
    """The same three layers from gradspace's nn or torch.nn (their state-dict keys agree)."""
    model = nn.Module()
    model.embed = nn.Embedding(VOCAB, EMB)
    model.hidden = nn.Linear(CONTEXT * EMB, hidden)
    model.out = nn.Linear(hidden, VOCAB)
    return model


def numpy_step(s):
    p = s.np
    C, W1, b1, W2, b2 = (p["embed.weight"], p["hidden.weight"], p["hidden.bias"],
                         p["out.weight"], p["out.bias"])
    X, Y = s.np_batch()
    emb = C[X].reshape(len(X), -1)                  # (B, 30)
    h = np.tanh(emb @ W1.T + b1)                    # (B, 200)
    loss, dlogits = cross_entropy_np(h @ W2.T + b2, Y)
    dh = dlogits @ W2
    dpre = dh * (1 - h * h)                         # through tanh
    demb = dpre @ W1                                # (B, 30)
    W2 -= LR * (dlogits.T @ h)
    b2 -= LR * dlogits.sum(0)
    W1 -= LR * (dpre.T @ emb)
    b1 -= LR * dpre.sum(0)
    rows_sgd(C, X.reshape(-1), demb.reshape(-1, EMB), LR)
    return loss


def gradspace_step(s):
    import gradspace.nn.functional as F
    m = s.gs_model
    X, Y = s.gs_batch()
    emb = m.embed(X).reshape(len(X), -1)            # (B, 30)
    logits = m.out(m.hidden(emb).tanh())            # (B, 27)
    loss = F.cross_entropy(logits, Y)
    s.gs_opt.zero_grad()
    loss.backward()
    s.gs_opt.step()
    return loss.item()


def torch_setup(s):
    import torch
    s.th_model = _model(torch.nn, s.hidden)
    s.th_model.embed.sparse = True                  # a row-sparse gradient, as gradspace's
    s.th_model.load_state_dict(torch_state_dict(s.init))
    s.th_opt = torch.optim.SGD(s.th_model.parameters(), lr=LR)
    s.th_batch = Cycle([(torch.from_numpy(X), torch.from_numpy(Y)) for X, Y in s.batches])


def torch_step(s):
    import torch.nn.functional as F
    m = s.th_model
    X, Y = s.th_batch()
    logits = m.out(m.hidden(m.embed(X).reshape(len(X), -1)).tanh())
    loss = F.cross_entropy(logits, Y)
    s.th_opt.zero_grad()
    loss.backward()
    s.th_opt.step()
    return loss.item()


weights = model_weights      # each implementation's current weights, for the tests

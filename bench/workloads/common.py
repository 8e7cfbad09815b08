"""What the workloads share: batches handed out in order, numpy's SGD on rows, and optional torch.

Every workload keeps one set of initial weights and one list of batches, made from a seed, and
gives each implementation (numpy, gradspace, torch) its own copy of the weights and its own
`Cycle` over the same batches, so that step k of every implementation computes the same thing.
"""
import numpy as np


class Cycle:
    """The batches in order, round and round: `next_batch()` gives the next one."""
    __slots__ = ("i", "items")

    def __init__(self, items):
        self.items, self.i = items, 0

    def __call__(self):
        item = self.items[self.i % len(self.items)]
        self.i += 1
        return item


def rows_sgd(table, ids, rows, lr):
    """table[ids] -= lr * rows, summing the rows of a repeated id first.

    Sorting the ids and reducing runs of equal ids (np.add.reduceat) is faster than
    np.subtract.at (bench/README.md has the figures), and is what a careful numpy programmer
    writes: the reference the gradspace step is measured against must be a strong one.
    """
    order = np.argsort(ids, kind="stable")
    ids = ids[order]
    starts = np.flatnonzero(np.concatenate(([True], ids[1:] != ids[:-1])))
    table[ids[starts]] -= lr * np.add.reduceat(rows[order], starts, axis=0)


def torch_state_dict(arrays):
    """numpy arrays -> torch tensors (copies), for `load_state_dict` of a torch module."""
    import torch
    return {k: torch.from_numpy(v.copy()) for k, v in arrays.items()}


def copies(arrays):
    """A private copy of each array, so implementations never share weights."""
    return {k: v.copy() for k, v in arrays.items()}


def cross_entropy_np(logits, targets):
    """Mean cross-entropy and its gradient wrt logits, fused and in place (logits is consumed).

    loss = mean_i (logsumexp(z_i) - z_i[t_i]); dloss/dz = (softmax(z) - onehot(t)) / n.
    """
    n = logits.shape[0]
    rows = np.arange(n)
    logits -= logits.max(axis=1, keepdims=True)          # z - max: exp cannot overflow
    picked = logits[rows, targets]
    np.exp(logits, out=logits)
    total = logits.sum(axis=1, keepdims=True)
    loss = float(np.mean(np.log(total[:, 0]) - picked))
    logits /= total                                       # softmax
    logits[rows, targets] -= 1
    logits *= logits.dtype.type(1.0 / n)
    return loss, logits


def sigmoid_np(x):
    """1 / (1 + e^-x) without overflow."""
    return 0.5 * (1 + np.tanh(0.5 * x))


def arrays(tensors):
    """numpy copies of gradspace or torch tensors (both have .detach().numpy())."""
    return [np.array(t.detach().numpy()) for t in tensors]


def chain_forward(x, w, b, n):
    """The W6/W7 chain h_{k+1} = op_k(h_k), ops cycling through h*w, h+b, tanh, exp, on
    gradspace or torch tensors (both have .tanh() and .exp()); returns h_n."""
    h = x
    for k in range(n):
        op = k % 4
        if op == 0:
            h = h * w
        elif op == 1:
            h = h + b
        elif op == 2:
            h = h.tanh()
        else:
            h = h.exp()
    return h


def chain_by_hand(x, w, b, n):
    """The W6/W7 chain h_{k+1} = op_k(h_k), ops cycling through h*w, h+b, tanh, exp, written
    out by hand: forward keeping what backward reads, then backward from d h_n = 1.
    Returns (h_n, d h_n / d x, d h_n / d w), for arrays or for numpy float64 scalars."""
    h, saved = x, []
    for k in range(n):                    # forward, keeping what backward reads
        op = k % 4
        if op == 0:
            saved.append(h)
            h = h * w
        elif op == 1:
            saved.append(None)
            h = h + b
        elif op == 2:
            h = np.tanh(h)
            saved.append(h)
        else:
            h = np.exp(h)
            saved.append(h)
    g, gw = np.ones_like(h), np.zeros_like(w)
    for k in range(n - 1, -1, -1):        # backward, in reverse
        op, v = k % 4, saved[k]
        if op == 0:
            gw = gw + g * v               # w is used by every fourth op: its gradients add up
            g = g * w
        elif op == 2:
            g = g * (1 - v * v)
        elif op == 3:
            g = g * v
    return h, g, gw


def model_weights(s):
    """For workloads whose state has `init` (state-dict keys), `np`, `gs_model` and maybe
    `th_model`: each implementation's current weights, in the same order (for the tests)."""
    out = {"numpy": [s.np[k] for k in s.init],
           "gradspace": [s.gs_model.state_dict()[k] for k in s.init]}
    if hasattr(s, "th_model"):
        out["torch"] = arrays(s.th_model.state_dict()[k] for k in s.init)
    return out

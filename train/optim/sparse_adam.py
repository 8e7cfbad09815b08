"""SparseAdam: Adam for embedding tables, whose rows move only when they are looked up."""
import math

import numpy as np

from gradspace.train.optim.optimizer import Optimizer, _real, check_fraction, is_sparse


class SparseAdam(Optimizer):
    r"""SparseAdam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False): exactly
    PyTorch's `torch.optim.SparseAdam`.

    Every gradient must be row-sparse (an `autograd.RowSparseGrad`, as `nn.Embedding` makes).
    With lr gamma and betas (beta1, beta2), at the parameter's step t = 1, 2, ..., for the rows
    r present in the gradient g_t (duplicates summed first) and for those rows only:

        m_t[r] = beta1 * m_{t-1}[r] + (1 - beta1) * g_t[r]
        v_t[r] = beta2 * v_{t-1}[r] + (1 - beta2) * g_t[r]^2
        theta_t[r] = theta_{t-1}[r] - gamma * sqrt(1 - beta2^t) / (1 - beta1^t)
                                      * m_t[r] / (sqrt(v_t[r]) + eps)

    (m_0 = v_0 = 0.) Every other row keeps its value *and its moments*: a word absent from
    the batch neither moves nor decays. That is why it differs from Adam on a row-sparse
    gradient, which decays every row's moments at every step, so rows seen in earlier batches
    keep moving. t counts the steps at which the parameter had a gradient (for every row at
    once, as in PyTorch), and eps is added to sqrt(v) before the bias correction, as in
    PyTorch's SparseAdam (Adam adds it after). A dense gradient raises RuntimeError, before
    any parameter or state changes. State: "step", "exp_avg" (m), "exp_avg_sq" (v).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        # As PyTorch: the lr given here must be > 0; a group's lr may later reach 0 (a schedule
        # annealing to 0, a checkpoint saved there), so groups are held to lr >= 0 only.
        if not _real(lr) or not 0.0 < lr < math.inf:
            raise ValueError(f"SparseAdam: invalid lr={lr!r}; it must be a finite number > 0")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))

    def _check(self, group):
        super()._check(group)                          # lr >= 0
        eps = group["eps"]
        if not _real(eps) or not 0.0 < eps < math.inf:
            raise ValueError(f"SparseAdam: invalid eps={eps!r}; it must be a finite number > 0")
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"SparseAdam: betas must be a pair (beta1, beta2), got {betas!r}")
        group["betas"] = tuple(betas)
        check_fraction("SparseAdam", "betas[0]", betas[0])
        check_fraction("SparseAdam", "betas[1]", betas[1])

    def step(self, closure=None):
        # Check every gradient first, so a dense one changes nothing (PyTorch raises midway).
        for i, p in enumerate(self._indexed_params()):
            if p.grad is not None and not is_sparse(p.grad):
                raise RuntimeError(f"SparseAdam does not support dense gradients, please "
                                   f"consider Adam instead (parameter {i}, shape "
                                   f"{tuple(p.shape)}, has a dense gradient)")
        return super().step(closure)

    def _update(self, p, grad, state, group):
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p.data)
            state["exp_avg_sq"] = np.zeros_like(p.data)
        state["step"] += 1
        t = state["step"]
        rows = grad.coalesce()                         # the update is not linear: unique rows
        if rows.indices.size == 0:
            return
        ids, g = rows.indices, rows.values.astype(p.dtype, copy=False)
        if group["maximize"]:
            g = -g
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m_rows = beta1 * m[ids] + (1 - beta1) * g      # (k, dim): the looked-up rows only
        v_rows = beta2 * v[ids] + (1 - beta2) * (g * g)
        m[ids], v[ids] = m_rows, v_rows
        step_size = lr * math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
        p.data[ids] -= step_size * (m_rows / (np.sqrt(v_rows) + eps))

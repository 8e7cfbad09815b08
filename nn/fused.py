"""nn's fused primitives: softmax cross-entropy over class ids, log-sigmoid, and the affine map.

Everything else in nn is composed from the engine's tensor operations and has no backward of
its own. These are primitives because composing them loses something:

- Cross-entropy composed as `-log_softmax(x)[target]` makes several passes over the (N, C)
  logits and keeps several (N, C) intermediates; fused, the forward computes the softmax once,
  in place, in the logits' dtype (float32 stays float32), and the backward is one expression:
  softmax - onehot. Subtracting the row maximum first keeps logits of +-1e4 finite.
- log sigmoid(x) = min(x, 0) - log1p(exp(-|x|)) needs log1p to be exact for large x (the
  composition with log(1 + .) rounds -exp(-40) to 0), and its derivative sigmoid(-x) is exact
  at every x, including 0, where a composition through |x| and min(x, 0) needs a subgradient.
- Linear's x W^T + b composed from @, .T and + costs three graph nodes and an extra (..., out)
  array; on the small batches of toy models the nodes are a good part of a step.

They live in nn, not in the engine: the engine never names a layer or a loss. Their backward
passes are written with Tensor operations whenever the backward itself is being recorded
(create_graph=True), so second derivatives (gradgradcheck) work; the plain first-order backward
of cross-entropy takes a numpy shortcut with the same value.
"""
import numpy as np

from gradspace.autograd import Function, as_tensor, forward_ad, is_grad_enabled


class CrossEntropy(Function):
    """Softmax cross-entropy of logits (M, C) against class ids (M,).

    With eps = label_smoothing and w the class weights (1 when not given), row i is scored
    against the target distribution q_i = (1 - eps) w[y_i] onehot(y_i) + (eps / C) w:

        loss_i = -sum_c q_ic log softmax(x_i)_c          (0 when y_i == ignore_index)
        dloss_i / dx_i = softmax(x_i) sum_c q_ic - q_i     (= softmax - onehot when eps = 0, w = 1)

    reduction "mean" divides the sum by sum_i w[y_i] over rows not ignored (their number when
    unweighted), as PyTorch does; "none" returns the (M,) losses.
    """
    __slots__ = ("exps", "ids", "inv_total", "on", "reduction", "scale", "smoothing", "valid",
                 "weight")
    saved = ("exps", "ids", "inv_total", "on", "valid", "weight")

    def forward(self, logits, ids=None, weight=None, ignore_index=-100, label_smoothing=0.0,
                reduction="mean"):
        m, c = logits.shape
        dtype = logits.dtype
        valid = ids != ignore_index
        ids = np.where(valid, ids, 0)            # ignored rows read class 0, then are masked out
        valid = valid.astype(dtype)              # 1.0 for rows that count, 0.0 for ignored ones
        exps, peak, total = _shifted_exps(logits)
        lse = (np.log(total) + peak)[:, 0]       # logsumexp(x_i)
        rows = np.arange(m)
        target_weight = valid if weight is None else valid * weight[ids]
        on = (1 - label_smoothing) * target_weight           # q_i at y_i (the one-hot part)
        loss = on * (lse - logits[rows, ids])                # -log p_{i, y_i}
        if label_smoothing:
            # -(eps/C) sum_c w_c log p_ic = (eps/C) (lse_i sum_c w_c - sum_c w_c x_ic)
            if weight is None:
                smooth = lse - logits.mean(axis=1)
            else:
                smooth = (lse * weight.sum() - logits @ weight) / c
            loss = loss + valid * (label_smoothing * smooth)
        # softmax = exps / total; backward folds the division into its one pass over (M, C).
        self.exps, self.inv_total = exps, 1 / total[:, 0]
        self.ids, self.valid, self.on = ids, valid, on
        self.weight, self.smoothing, self.reduction = weight, label_smoothing, reduction
        if reduction == "none":
            self.scale = 1.0
            return loss
        if reduction == "sum":
            self.scale = 1.0
            return loss.sum()
        count = target_weight.sum()
        self.scale = 1.0 / float(count) if count else 0.0   # no counted row: no gradient
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(loss.sum() / count, dtype=dtype)   # 0/0 = nan, as torch

    def _target(self, m, c, dtype):
        """q of the docstring as a dense (M, C) array, and its row sums (M, 1)."""
        q = np.zeros((m, c), dtype)
        q[np.arange(m), self.ids] = self.on
        uniform = np.ones(c, dtype) if self.weight is None else self.weight
        if self.smoothing:
            q += (self.valid * (self.smoothing / c))[:, None] * uniform
        return q, q.sum(axis=1, keepdims=True)

    formulas = ("dL/dlogits = dL/dout * (softmax(logits) - target) / count",)
    def backward(self, grad, out):
        logits = self.inputs[0]
        m, c = logits.shape
        # Per-row factor: the incoming gradient, times 1/count for "mean".
        row_grad = grad.reshape(m, 1) if self.reduction == "none" else grad
        if is_grad_enabled() or forward_ad.in_dual_level():
            # Recorded backward, or tangents flowing through it (hvp): softmax as a function of
            # the logits so it can be differentiated again (its Jacobian is the second
            # derivative of cross-entropy).
            q, q_sum = self._target(m, c, logits.dtype)
            probs = logits.softmax(-1)
            return ((probs * as_tensor(q_sum) - as_tensor(q))
                    * (row_grad * self.scale),)
        # r: the factor of each row, (M,) for "none", else one number for all rows
        r = (grad.data.reshape(m) if self.reduction == "none" else grad.data) * self.scale
        rows = np.arange(m)
        uniform = self.smoothing / c if self.smoothing else 0.0
        w_sum = c if self.weight is None else float(self.weight.sum())
        q_sum = self.on + self.valid * (uniform * w_sum)
        # The gradient is written over the saved exps buffer, the only (M, C) array of the
        # step. A second backward through a retained graph finds it spent and recomputes it.
        g = self.exps if self.exps is not None else _shifted_exps(logits.data)[0]
        self.exps = None
        g *= (r * q_sum * self.inv_total)[:, None]                  # softmax * sum(q) * r
        g[rows, self.ids] -= r * self.on
        if self.smoothing:
            rv = r * self.valid * uniform
            g -= rv[:, None] if self.weight is None else rv[:, None] * self.weight
        return (as_tensor(g),)

    def jvp(self, out, dlogits):
        # d loss_i = sum_c (softmax(x_i)_c sum(q_i) - q_ic) dx_ic: backward's row times dx_i
        logits = self.inputs[0]
        m, c = logits.shape
        q, q_sum = self._target(m, c, logits.dtype)
        slope = logits.softmax(-1) * as_tensor(q_sum) - as_tensor(q)
        rows = (slope * dlogits).sum(1) * self.scale
        return rows if self.reduction == "none" else rows.sum()


def _shifted_exps(logits):
    """exp(x - max_row(x)) in one new (M, C) buffer (cannot overflow), the row max and sums."""
    m, c = logits.shape
    peak = logits.max(axis=1, keepdims=True) if c else np.zeros((m, 1), logits.dtype)
    exps = logits - peak
    np.exp(exps, out=exps)
    return exps, peak, exps.sum(axis=1, keepdims=True)


class LogSigmoid(Function):
    """log sigmoid(x) = -softplus(-x) = min(x, 0) - log1p(exp(-|x|)): finite for every x."""
    __slots__ = ()
    reads = {0: (0,)}

    def forward(self, x):
        return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))

    formulas = ("dL/dx = dL/dout * sigmoid(-x)",)
    def backward(self, grad, out):
        return (grad * (-self.inputs[0]).sigmoid(),)    # d log s(x) / dx = 1 - s(x) = s(-x)

    def jvp(self, out, dx):
        return dx * (-self.inputs[0]).sigmoid()


class Linear(Function):
    """y = x W^T + b for x (..., in), W (out, in), b (out,): nn.Linear's map as one node."""
    __slots__ = ()
    reads = {0: (1,), 1: (0,)}

    def forward(self, x, weight, bias):
        y = x @ weight.T
        y += bias
        return y

    formulas = ("dL/dx = dL/dout @ weight",
                "dL/dweight = dL/dout^T @ x",
                "dL/dbias = dL/dout")             # summed to (out,) by the engine
    def backward(self, grad, out):
        x, weight, _ = self.inputs
        need_x, need_w, need_b = self.needs_input_grad
        rows, x_rows = _as_rows(grad), _as_rows(x)                   # (N, out), (N, in)
        return (grad @ weight if need_x else None,                    # dL/dx = G W
                rows.mT @ x_rows if need_w else None,                 # dL/dW = G^T x
                grad if need_b else None)          # dL/db = G, summed to (out,) by the engine

    def jvp(self, out, dx, dweight, dbias):
        x, weight, _ = self.inputs
        return forward_ad.total(dx @ weight.T if dx is not None else None,
                                x @ dweight.T if dweight is not None else None,
                                dbias)


def _as_rows(t):
    """(..., n) as a matrix (N, n) of its rows; a matrix is left as it is (no node)."""
    return t if t.ndim == 2 else t.reshape(-1, t.shape[-1])

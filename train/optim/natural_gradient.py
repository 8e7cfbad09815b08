r"""Natural gradient: steepest descent measured by the model's Fisher information.

Plain gradient descent calls "steepest" the direction that lowers the loss most per unit of
Euclidean length in parameter space, a choice that depends on the coordinates (the guide's
Appendix C). The natural gradient measures length by how much the model's *predictions*
change, through the Fisher matrix F, and steps along F^{-1} g instead of g. Two Fishers:

- fisher="empirical" (the default): the gradients at the data's own labels. With G the (B, N)
  matrix whose row b is the gradient of example b's loss, and g = (1/B) sum_b G_b the
  minibatch gradient,

    F = (1/B) G^T G + damping * I                           (N x N: never formed)

    F^{-1} g = (1/damping) * (g - G^T (B * damping * I + G G^T)^{-1} G g)     (Woodbury)

so the only matrix solved is the B x B Gram matrix G G^T. The update is

    theta <- theta - lr * F^{-1} g.

- fisher="true": the model's own predictive distribution, y ~ p_theta(y | x), in place of the
  data's labels (fisher.py: exact for softmax and logistic outputs, sampled otherwise). Its
  rows S replace G in F (same Woodbury solve, M = B * C rows for C classes); g is still the
  data's gradient. For logistic and softmax regression it is the Hessian of the loss (Fisher
  = Hessian for these models), so a step with lr = 1 is a damped Newton step. The empirical
  Fisher is not: far from the optimum its g g^T is large where the model is wrong, and its
  path differs (notebook 4 draws both).

When it is practical: the per-example gradients cost one backward pass per example and
B * N numbers (float64: B * N * 8 bytes), and the Gram matrix O(B^2 N) time. That suits small
models: N up to ~1e5 parameters with B up to ~512 (e.g. 128 x 1e5 float64 numbers are
100 MB), not a large embedding table.

Damping matters: the empirical Fisher of B examples has rank <= B, so along directions the
batch barely constrains, F^{-1} g grows like 1/damping. With damping ~1e-3 and a small batch
the steps can overshoot; damping 1e-2 .. 1e-1 with lr <= 1 are safer starting points.

    opt = NaturalGradient(model.parameters(), lr=0.5, damping=1e-3)
    losses, G = per_example_gradients(model, loss_fn, x, y)   # (B,), (B, N)
    opt.step(G)                                                # train.fit does this for you
"""
import numpy as np

from gradspace.autograd import Tensor, gradients, increment_version
from gradspace.train.optim.fisher import fisher_factors
from gradspace.train.optim.optimizer import Optimizer, _real


def natural_direction(G, g, damping):
    """F^{-1} g for F = (1/B) G^T G + damping I, through the B x B system (float64)."""
    G = np.asarray(G, dtype=np.float64)
    g = np.asarray(g, dtype=np.float64)
    B = G.shape[0]
    gram = G @ G.T                                          # (B, B)
    gram[np.diag_indices(B)] += B * damping
    coef = np.linalg.solve(gram, G @ g)                     # (B,)
    return (g - G.T @ coef) / damping                       # (N,)


def per_example_gradients(model, loss_fn, x, y, params=None):
    """The loss and the gradient of every example, one backward pass each.

    model: called as model(x[b:b+1]); loss_fn(output, y[b:b+1]) -> scalar Tensor.
    params: the Tensors to differentiate (default: model.parameters() that require grad),
    in the order NaturalGradient flattens them (the optimizer's parameter order).
    Returns (losses (B,), G (B, N)) as float64 arrays; sparse gradients are made dense.
    The `.grad` of the parameters is not touched.
    """
    if params is None:
        params = [p for p in model.parameters() if p.requires_grad]
    params = list(params)
    xs = x.data if isinstance(x, Tensor) else np.asarray(x)
    ys = y.data if isinstance(y, Tensor) else np.asarray(y)
    B, N = len(xs), sum(p.numel() for p in params)
    losses, G = np.empty(B), np.empty((B, N))
    for b in range(B):
        loss = loss_fn(model(Tensor(xs[b:b + 1])), Tensor(ys[b:b + 1]))
        losses[b] = loss.item()
        grads = gradients(loss, params)
        G[b] = np.concatenate([gr.data.reshape(-1) for gr in grads])
    return losses, G


class NaturalGradient(Optimizer):
    """NaturalGradient(params, lr=1.0, damping=1e-3, fisher="empirical", samples=16, seed=0):
    theta <- theta - lr * F^{-1} g.

    `step(per_example_grads, grad=None)`: per_example_grads is G, (B, N), one row per example,
    columns in this optimizer's parameter order (each parameter flattened, groups in order),
    as `per_example_gradients` returns it. g is the mean of the rows unless `grad` (N,) is
    given. The parameters' `.grad` is not read. Each group may have its own lr and damping;
    the damping of the first group is used for the solve (F couples all parameters).
    With fisher="true", `step(G, fisher_rows=S)` takes S from `self.fisher_rows(model,
    loss_fn, x, y)` (train.fit does both); `samples` labels are drawn per example when the
    true Fisher must be sampled, from a generator seeded with `seed`.
    """

    needs_per_example_grads = True     # train.fit computes G for optimizers that say so

    def __init__(self, params, lr=1.0, damping=1e-3, fisher="empirical", samples=16, seed=0):
        if fisher not in ("empirical", "true"):
            raise ValueError(f"NaturalGradient: fisher must be 'empirical' or 'true', "
                             f"got {fisher!r}")
        if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) \
                or samples < 1:
            raise ValueError(f"NaturalGradient: samples must be an int >= 1, got {samples!r}")
        super().__init__(params, dict(lr=lr, damping=damping))
        self.fisher, self.samples = fisher, int(samples)
        self.rng = np.random.default_rng(seed)

    def fisher_rows(self, model, loss_fn, x, y):
        """Rows S (M, N) of the true Fisher of this batch, F = S^T S / M (fisher.py)."""
        return fisher_factors(model, loss_fn, x, y, self._indexed_params(), self.samples,
                              self.rng)

    def _check(self, group):
        super()._check(group)
        damping = group["damping"]
        if not _real(damping) or not damping > 0 or not np.isfinite(damping):
            raise ValueError(f"NaturalGradient: invalid damping={damping!r}; it must be a "
                             f"finite number > 0 (it keeps F invertible)")

    @property
    def num_parameters(self):
        return sum(p.numel() for p in self._indexed_params())

    def step(self, per_example_grads=None, grad=None, fisher_rows=None):
        if per_example_grads is None or callable(per_example_grads):
            raise TypeError("NaturalGradient.step needs the per-example gradients G (B, N): "
                            "losses, G = per_example_gradients(model, loss_fn, x, y); "
                            "optimizer.step(G)")
        G = np.asarray(per_example_grads, dtype=np.float64)
        N = self.num_parameters
        if G.ndim != 2 or G.shape[0] < 1 or G.shape[1] != N:
            raise ValueError(f"NaturalGradient.step: per_example_grads must have shape "
                             f"(B, {N}) for these {N} parameters, got {G.shape}")
        g = G.mean(axis=0) if grad is None else np.asarray(grad, np.float64).reshape(-1)
        if g.shape != (N,):
            raise ValueError(f"NaturalGradient.step: grad must have {N} entries, got {g.size}")
        if not (np.all(np.isfinite(G)) and np.all(np.isfinite(g))):
            raise FloatingPointError("NaturalGradient.step: the gradients hold NaN or inf; "
                                     "no parameter was changed")
        if self.fisher == "true":
            if fisher_rows is None:
                raise TypeError("NaturalGradient(fisher='true').step needs fisher_rows: "
                                "S = optimizer.fisher_rows(model, loss_fn, x, y); "
                                "optimizer.step(G, fisher_rows=S)")
            S = np.asarray(fisher_rows, dtype=np.float64)
            if S.ndim != 2 or S.shape[1] != N or not np.all(np.isfinite(S)):
                raise ValueError(f"NaturalGradient.step: fisher_rows must be finite, of shape "
                                 f"(M, {N}), got {S.shape}")
        else:
            S = G
        direction = natural_direction(S, g, self.param_groups[0]["damping"])
        start = 0
        for group in self.param_groups:
            for p in group["params"]:
                piece = direction[start:start + p.numel()].reshape(p.shape)
                start += p.numel()
                p.data -= (group["lr"] * piece).astype(p.dtype)
                increment_version(p)                    # an in-place update, as in Optimizer
                state = self.state.setdefault(p, {})
                state["step"] = state.get("step", 0) + 1

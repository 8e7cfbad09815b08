r"""The true Fisher: the model's own predictive distribution, as rows of a Gram factor.

The empirical Fisher averages g g^T over the data's labels y. The true Fisher averages it over
labels the *model* would draw, y ~ p_theta(y | x), for each input x of the batch:

    F = (1/B) sum_b E_{y ~ p_theta(. | x_b)} [ grad l(x_b, y) grad l(x_b, y)^T ],   l = -log p

The loss is read as that negative log-likelihood, p_theta(y | x) = exp(-loss_fn(model(x), y)):

- integer targets (cross-entropy over C classes): exact, a sum over the C labels weighted by p;
- one float output whose exp(-loss) over the labels {0, 1} sums to 1 (logistic regression,
  binary cross-entropy with logits): exact, the same sum over the two labels;
- any other float target: sampled. exp(-loss) is a Gaussian when the loss is quadratic in y
  (the MSE, notebook 5): y = f(x) + noise with covariance H^{-1}, H the Hessian of the loss in
  y, drawn `samples` times per example.

`fisher_factors` returns rows S (M, N) with F = (1/M) S^T S, the form `natural_direction`
solves through the M x M Gram matrix (an exact row is scaled by sqrt(C p_c) to keep it).
"""
import numpy as np

from gradspace.autograd import Tensor, gradients, hessian, no_grad


def fisher_factors(model, loss_fn, x, y, params, samples=16, rng=None):
    """Rows S (M, N), float64, with S^T S / M the true Fisher of the batch (see above)."""
    rng = np.random.default_rng(rng)
    xs = x.data if isinstance(x, Tensor) else np.asarray(x)
    ys = y.data if isinstance(y, Tensor) else np.asarray(y)
    rows = []
    for b in range(len(xs)):
        out = model(Tensor(xs[b:b + 1]))

        def grad_at(target, out=out):
            loss = loss_fn(out, Tensor(target))
            flat = [g.data.reshape(-1) for g in gradients(loss, params, retain_graph=True)]
            return loss.item(), np.concatenate(flat)

        labels = _labels(out, ys[b:b + 1])
        if labels is not None:                                   # exact: every label
            pairs = [grad_at(t) for t in labels]
            p = np.exp(-np.array([loss for loss, _ in pairs]))
            if np.isclose(p.sum(), 1.0, atol=1e-6):
                rows += [np.sqrt(len(p) * pc) * g for pc, (_, g) in zip(p, pairs)]
                continue
            if np.issubdtype(ys.dtype, np.integer):
                raise ValueError(f"NaturalGradient(fisher='true'): exp(-loss) over the "
                                 f"{len(labels)} classes sums to {p.sum():.6g}, not 1, at "
                                 f"example {b}: the loss is not a negative log-likelihood "
                                 f"(use reduction='mean' or 'sum' of cross-entropy)")
        # sampled: a float target whose exp(-loss) is not a distribution over {0, 1}
        rows += [grad_at(t)[1] for t in _gaussian_draws(loss_fn, out, ys[b:b + 1],
                                                        samples, rng)]
    return np.array(rows)


def _labels(out, y):
    """The candidate labels of an exact Fisher, or None when it must be sampled."""
    if np.issubdtype(y.dtype, np.integer):
        if out.ndim != 2:
            raise ValueError(f"NaturalGradient(fisher='true'): integer targets need logits of "
                             f"shape (1, C) per example, got {tuple(out.shape)}")
        return [np.full(y.shape, c, dtype=y.dtype) for c in range(out.shape[-1])]
    if out.numel() == 1:               # Bernoulli if exp(-loss) sums to 1 over {0, 1}
        return [np.full(y.shape, v, dtype=y.dtype) for v in (0.0, 1.0)]
    return None


def _gaussian_draws(loss_fn, out, y, samples, rng):
    """y ~ N(f(x), H^{-1}), H the Hessian of loss_fn(f(x), .) at y = f(x)."""
    with no_grad():
        mean = out.data.astype(np.float64).reshape(y.shape)
    f = Tensor(mean)
    H = hessian(lambda t: loss_fn(f, t), mean).numpy().reshape(mean.size, mean.size)
    L = np.linalg.cholesky(H)                               # H = L L^T; cov = L^-T L^-1
    z = rng.standard_normal((samples, mean.size))
    noise = np.linalg.solve(L.T, z.T).T
    return [(mean.reshape(-1) + e).reshape(y.shape).astype(y.dtype) for e in noise]

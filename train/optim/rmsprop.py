"""RMSprop: divide the gradient by a running root-mean-square of its recent values."""
import numpy as np

from gradspace.train.optim.optimizer import Optimizer, check_nonnegative, dense


class RMSprop(Optimizer):
    r"""RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
    centered=False, maximize=False): exactly PyTorch's `torch.optim.RMSprop`.

    With lr gamma, smoothing alpha, weight decay lambda, momentum mu, at step t:

        g_t = grad f(theta_{t-1})               (-grad when maximize)
        if lambda != 0:  g_t = g_t + lambda * theta_{t-1}
        v_t = alpha * v_{t-1} + (1 - alpha) * g_t^2
        v~_t = v_t
        if centered:
            gbar_t = alpha * gbar_{t-1} + (1 - alpha) * g_t
            v~_t = v~_t - gbar_t^2
        if mu > 0:
            b_t = mu * b_{t-1} + g_t / (sqrt(v~_t) + eps)
            theta_t = theta_{t-1} - gamma * b_t
        else:
            theta_t = theta_{t-1} - gamma * g_t / (sqrt(v~_t) + eps)

    (v_0 = gbar_0 = b_0 = 0; eps is added after the square root.) State: "step",
    "square_avg" (v), "grad_avg" (gbar, centered only), "momentum_buffer" (b, mu > 0 only).
    A row-sparse gradient is used densely.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, maximize=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def _check(self, group):
        super()._check(group)
        for key in ("alpha", "eps", "weight_decay", "momentum"):
            check_nonnegative(self._name, key, group[key])

    def _update(self, p, grad, state, group):
        alpha, eps, wd, mu = group["alpha"], group["eps"], group["weight_decay"], \
            group["momentum"]
        g = dense(grad, p)
        if group["maximize"]:
            g = -g
        if wd != 0:
            g = g + wd * p.data
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(p.data)
        state["step"] += 1
        v = state["square_avg"]
        v *= alpha
        v += (1 - alpha) * (g * g)
        if group["centered"]:
            gbar = state.setdefault("grad_avg", np.zeros_like(p.data))
            gbar *= alpha
            gbar += (1 - alpha) * g
            avg = np.sqrt(v - gbar * gbar) + eps
        else:
            avg = np.sqrt(v) + eps
        if mu > 0:
            buf = state.setdefault("momentum_buffer", np.zeros_like(p.data))
            buf *= mu
            buf += g / avg
            p.data -= group["lr"] * buf
        else:
            p.data -= group["lr"] * (g / avg)

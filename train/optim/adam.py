"""Adam and AdamW: per-coordinate step sizes from running moments of the gradient."""
import math

import numpy as np

from gradspace.train.optim.optimizer import Optimizer, check_fraction, check_nonnegative, dense


class Adam(Optimizer):
    r"""Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False,
    maximize=False): exactly PyTorch's `torch.optim.Adam`.

    With lr gamma, betas (beta1, beta2), weight decay lambda, at step t = 1, 2, ...:

        g_t = grad f(theta_{t-1})               (-grad when maximize)
        if lambda != 0:  g_t = g_t + lambda * theta_{t-1}     (L2 penalty, coupled)
        m_t = beta1 * m_{t-1} + (1 - beta1) * g_t
        v_t = beta2 * v_{t-1} + (1 - beta2) * g_t^2
        m^_t = m_t / (1 - beta1^t)
        if amsgrad:  vmax_t = max(vmax_{t-1}, v_t);  v^_t = vmax_t / (1 - beta2^t)
        else:        v^_t = v_t / (1 - beta2^t)
        theta_t = theta_{t-1} - gamma * m^_t / (sqrt(v^_t) + eps)

    (m_0 = v_0 = vmax_0 = 0.) AMSGrad keeps the maximum of the *uncorrected* v, as PyTorch's
    code does. State: "step" (int), "exp_avg" (m), "exp_avg_sq" (v), "max_exp_avg_sq" (vmax).
    A row-sparse gradient is used densely: Adam decays the moments of every row at every step,
    so only the dense update is the same as on a dense gradient.
    """

    decoupled = False     # AdamW sets True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize))

    def _check(self, group):
        super()._check(group)
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{self._name}: betas must be a pair (beta1, beta2), got {betas!r}")
        group["betas"] = tuple(betas)
        check_fraction(self._name, "betas[0]", betas[0])
        check_fraction(self._name, "betas[1]", betas[1])
        check_nonnegative(self._name, "eps", group["eps"])
        check_nonnegative(self._name, "weight_decay", group["weight_decay"])

    def _update(self, p, grad, state, group):
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], \
            group["weight_decay"]
        g = dense(grad, p)
        if group["maximize"]:
            g = -g
        if wd != 0:
            if self.decoupled:
                p.data *= 1 - lr * wd          # AdamW: shrink the weights, not the gradient
            else:
                g = g + wd * p.data
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p.data)
            state["exp_avg_sq"] = np.zeros_like(p.data)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(p.data)
        state["step"] += 1
        t = state["step"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * (g * g)
        if group["amsgrad"]:
            vmax = state.setdefault("max_exp_avg_sq", np.zeros_like(p.data))
            np.maximum(vmax, v, out=vmax)
            v = vmax
        bias1, bias2 = 1 - beta1 ** t, 1 - beta2 ** t
        denom = np.sqrt(v) / math.sqrt(bias2) + eps     # sqrt(v^_t) + eps
        p.data -= (lr / bias1) * (m / denom)


class AdamW(Adam):
    r"""AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
    maximize=False): exactly PyTorch's `torch.optim.AdamW`, Adam with decoupled weight decay.

    At step t the weights first shrink, then take Adam's step without any L2 term:

        theta_{t-1} <- theta_{t-1} - gamma * lambda * theta_{t-1}
        m_t, v_t, m^_t, v^_t as in Adam (with g_t the plain gradient)
        theta_t = theta_{t-1} - gamma * m^_t / (sqrt(v^_t) + eps)
    """

    decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize)
